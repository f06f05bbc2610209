package scenario

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"instainstru/loadtest/client"
	"instainstru/loadtest/config"
	"instainstru/loadtest/measure"
	"instainstru/loadtest/report"
)

// The messages scenario (SPEC §7: a chat message from send to the other
// party's socket on the other node, p99 ≤ 20 ms at 200 messages/s):
//
//   - registers -students students and -instructors instructors; students
//     hold one socket on the first node and send through it, instructors on
//     the last node, so every message crosses nodes;
//   - opens -conversations conversations (student i with instructor j, pairs
//     in order) and then sends -rate messages/s, open loop, for -duration:
//     message k goes to conversation k mod N, from the student on even
//     passes and from the instructor on odd ones;
//   - measures intended send → the recipient's socket (and commit ts → the
//     recipient's socket, and the POST itself), and reconciles: every
//     message sent must reach the recipient's socket and the sender's own
//     exactly once.

// msgUser is one account of the run and its socket.
type msgUser struct {
	sess *client.Session
	node int
	ws   *websocket.Conn
}

// msgRun is one messages run's state.
type msgRun struct {
	cfg      config.Config
	api      *client.API
	st       *measure.Stats
	out      io.Writer
	students []*msgUser
	teachers []*msgUser
	convs    []msgConv

	mu       sync.Mutex
	intended map[int64]time.Time // message k → its intended send time
	got      map[int64]int       // message k → receipts by its recipient
	echoed   map[int64]int       // message k → receipts by its sender's own socket
	sent     atomic.Int64
	recv     atomic.Int64
}

type msgConv struct {
	id               string
	student, teacher *msgUser
}

func runMessages(ctx context.Context, cfg config.Config, progress io.Writer) (*report.Result, error) {
	if progress == nil {
		progress = io.Discard
	}
	m := &msgRun{cfg: cfg, api: client.NewAPI(cfg.RequestTimeout, 512), st: measure.NewStats(), out: progress,
		intended: map[int64]time.Time{}, got: map[int64]int{}, echoed: map[int64]int{}}
	started := time.Now()
	if err := m.setup(ctx); err != nil {
		m.closeAll()
		return nil, err
	}
	defer m.closeAll()
	loadStart := time.Now()
	m.load(ctx)
	loadSecs := time.Since(loadStart).Seconds()
	drainStart := time.Now()
	m.drain()
	return m.result(started, loadSecs, time.Since(drainStart).Seconds()), nil
}

func (m *msgRun) logf(format string, a ...any) { fmt.Fprintf(m.out, format+"\n", a...) }

// setup registers the users, connects their sockets and opens the conversations.
func (m *msgRun) setup(ctx context.Context) error {
	if m.cfg.Students*m.cfg.Instructors < m.cfg.Conversations {
		return fmt.Errorf("messages: %d students × %d instructors cannot make %d conversations", m.cfg.Students, m.cfg.Instructors, m.cfg.Conversations)
	}
	last := len(m.cfg.URLs) - 1
	var err error
	if m.students, err = m.register(ctx, "student", m.cfg.Students, 0); err != nil {
		return err
	}
	if m.teachers, err = m.register(ctx, "instructor", m.cfg.Instructors, last); err != nil {
		return err
	}
	m.logf("messages: %d students on node 0, %d instructors on node %d; connecting", len(m.students), len(m.teachers), last)
	for _, u := range append(append([]*msgUser{}, m.students...), m.teachers...) {
		if err := m.connect(ctx, u); err != nil {
			return err
		}
	}
	return m.openConversations(ctx)
}

// register creates n users of role, homed on node.
func (m *msgRun) register(ctx context.Context, role string, n, node int) ([]*msgUser, error) {
	out := make([]*msgUser, n)
	errs := make(chan error, n)
	sem := make(chan struct{}, 8)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			email := fmt.Sprintf("msg-%s-%s-%d@%s", m.cfg.RunID, role, i, m.cfg.EmailDomain)
			s, err := m.api.Register(ctx, m.cfg.URLs[node], email, m.cfg.Password, fmt.Sprintf("Load %s %d", role, i), role)
			if err == nil && m.cfg.MailOff {
				err = m.api.MailOff(ctx, m.cfg.URLs[node], s)
			}
			if err != nil {
				errs <- fmt.Errorf("register %s %d: %w", role, i, err)
				return
			}
			out[i] = &msgUser{sess: s, node: node}
		}()
	}
	wg.Wait()
	close(errs)
	return out, <-errs
}

// connect opens u's socket on its node and reads it in the background.
func (m *msgRun) connect(ctx context.Context, u *msgUser) error {
	dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	ws, _, err := websocket.Dial(dctx, client.WSURLFor(m.cfg.URLs[u.node]), &websocket.DialOptions{
		HTTPHeader: http.Header{"Authorization": {"Bearer " + u.sess.Token}}})
	if err != nil {
		return fmt.Errorf("connect %s: %w", u.sess.Email, err)
	}
	ws.SetReadLimit(1 << 20)
	u.ws = ws
	go m.read(u)
	return nil
}

// msgFrame is the part of a server frame the scenario reads.
type msgFrame struct {
	Type  string    `json:"type"`
	Event string    `json:"event"`
	TS    time.Time `json:"ts"`
	Data  struct {
		Message struct {
			SenderID string `json:"sender_id"`
			Body     string `json:"body"`
		} `json:"message"`
	} `json:"data"`
}

// read records every message.created u receives until its socket closes.
func (m *msgRun) read(u *msgUser) {
	for {
		_, b, err := u.ws.Read(context.Background())
		if err != nil {
			return
		}
		now := time.Now()
		var f msgFrame
		if json.Unmarshal(b, &f) != nil || f.Type != "event" || f.Event != "message.created" {
			continue
		}
		k, ok := messageIndex(f.Data.Message.Body)
		if !ok {
			continue
		}
		m.mu.Lock()
		at, known := m.intended[k]
		if f.Data.Message.SenderID == u.sess.UserID {
			m.echoed[k]++
			m.mu.Unlock()
			continue
		}
		m.got[k]++
		first := m.got[k] == 1
		m.mu.Unlock()
		m.recv.Add(1)
		if first && known {
			m.st.Record(measure.HMessageDeliver, now.Sub(at))
			m.st.Record(measure.HMessageCommit, now.Sub(f.TS))
		}
	}
}

// messageIndex reads k back from a body "lt <run> <k>".
func messageIndex(body string) (int64, bool) {
	i := strings.LastIndexByte(body, ' ')
	if !strings.HasPrefix(body, "lt ") || i < 0 {
		return 0, false
	}
	k, err := strconv.ParseInt(body[i+1:], 10, 64)
	return k, err == nil
}

// openConversations opens the N conversations through the students' node.
func (m *msgRun) openConversations(ctx context.Context) error {
	m.convs = make([]msgConv, m.cfg.Conversations)
	errs := make(chan error, len(m.convs))
	sem := make(chan struct{}, 32)
	var wg sync.WaitGroup
	for k := range m.convs {
		s, t := m.students[k%len(m.students)], m.teachers[(k/len(m.students))%len(m.teachers)]
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			var c struct {
				ID string `json:"id"`
			}
			if _, err := m.api.Do(ctx, http.MethodPost, m.cfg.URLs[s.node]+"/api/v1/conversations", s.sess.Token, nil,
				map[string]string{"user_id": t.sess.UserID}, &c); err != nil {
				errs <- fmt.Errorf("open conversation %d: %w", k, err)
				return
			}
			m.convs[k] = msgConv{id: c.ID, student: s, teacher: t}
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return err
	}
	m.logf("messages: %d conversations open", len(m.convs))
	return nil
}

// load sends cfg.Rate messages/s for cfg.Duration, open loop: each send
// has its intended time and its own goroutine.
func (m *msgRun) load(ctx context.Context) {
	interval := time.Duration(float64(time.Second) / m.cfg.Rate)
	start := time.Now()
	var wg sync.WaitGroup
	inflight := make(chan struct{}, max(m.cfg.MaxInFlight, 1))
	for k := int64(0); ; k++ {
		at := start.Add(time.Duration(k) * interval)
		if at.Sub(start) >= m.cfg.Duration || ctx.Err() != nil {
			break
		}
		time.Sleep(time.Until(at))
		select {
		case inflight <- struct{}{}:
		default:
			m.st.Fail("dropped_in_flight_limit")
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-inflight }()
			m.send(ctx, k, at)
		}()
	}
	wg.Wait()
}

// send posts message k at its intended time at.
func (m *msgRun) send(ctx context.Context, k int64, at time.Time) {
	n := int64(len(m.convs))
	c := m.convs[k%n]
	from := c.student
	if (k/n)%2 == 1 {
		from = c.teacher
	}
	m.mu.Lock()
	m.intended[k] = at
	m.mu.Unlock()
	body := fmt.Sprintf("lt %s %d", m.cfg.RunID, k)
	_, err := m.api.Do(ctx, http.MethodPost, m.cfg.URLs[from.node]+"/api/v1/conversations/"+c.id+"/messages", from.sess.Token,
		map[string]string{"Idempotency-Key": body}, map[string]string{"body": body}, nil)
	if err != nil {
		m.st.Fail(client.ErrorKind(err))
		m.mu.Lock()
		delete(m.intended, k)
		m.mu.Unlock()
		return
	}
	m.st.Record(measure.HMessagePost, time.Since(at))
	m.sent.Add(1)
}

// drain waits (up to cfg.Drain) until every sent message reached both sockets.
func (m *msgRun) drain() {
	deadline := time.Now().Add(m.cfg.Drain)
	for time.Now().Before(deadline) {
		m.mu.Lock()
		done := true
		for k := range m.intended {
			if m.got[k] == 0 || m.echoed[k] == 0 {
				done = false
				break
			}
		}
		m.mu.Unlock()
		if done {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (m *msgRun) closeAll() {
	for _, u := range append(append([]*msgUser{}, m.students...), m.teachers...) {
		if u != nil && u.ws != nil {
			u.ws.Close(websocket.StatusNormalClosure, "") //nolint:errcheck // the run is over
		}
	}
}

// result reconciles: each message sent is expected once at the recipient's
// socket and once at the sender's.
func (m *msgRun) result(started time.Time, loadSecs, drainSecs float64) *report.Result {
	m.mu.Lock()
	var d report.DeliveryStats
	for k := range m.intended {
		d.ExpectedEvents += 2
		for _, n := range []int{m.got[k], m.echoed[k]} {
			d.ReceivedEvents += int64(n)
			if n == 0 {
				d.Lost++
				if len(d.Samples) < 5 {
					d.Samples = append(d.Samples, fmt.Sprintf("message %d not received", k))
				}
			} else if n > 1 {
				d.Duplicated += int64(n - 1)
			}
		}
	}
	m.mu.Unlock()
	errs, notes := m.st.Snapshot()
	users := len(m.students) + len(m.teachers)
	res := &report.Result{Scenario: m.cfg.Scenario, RunID: m.cfg.RunID, StartedAt: started, Config: m.cfg, Nodes: m.cfg.URLs,
		LoadSecs: loadSecs, DrainSecs: drainSecs, Delivery: d, Latency: m.st.Hist, Errors: errs, Notes: notes,
		Messages: &report.MessageStats{Conversations: len(m.convs), Users: users, TargetRate: m.cfg.Rate, Sent: m.sent.Load(),
			// Sends are scheduled over Duration; the rate is over that window
			// (loadSecs also counts waiting for the last answers).
			AchievedRate: float64(m.sent.Load()) / m.cfg.Duration.Seconds(), Errors: m.st.ErrorTotal()}}
	res.Connections = report.ConnStats{Requested: users, Open: users}
	res.Judge()
	return res
}
