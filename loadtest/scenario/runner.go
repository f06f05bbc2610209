package scenario

import (
	"context"
	"encoding/json"
	"fmt"
	"instainstru/loadtest/client"
	"instainstru/loadtest/config"
	"instainstru/loadtest/floor"
	"instainstru/loadtest/measure"
	"instainstru/loadtest/report"
	"io"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	_ "time/tzdata" // instructors' timezones must resolve on any machine

	"golang.org/x/sync/errgroup"
)

// runner holds one scenario run.
type runner struct {
	cfg   config.Config
	api   *client.API
	st    *measure.Stats
	wsURL []string
	wsHC  *http.Client
	out   io.Writer

	instructors []*schedule
	tracks      []*measure.TopicTrack
	home        map[string]int // instructor id → node taking its writes (read-only after setup)
	students    []*client.Session
	instrSess   map[string]*client.Session
	instrMu     sync.Mutex
	clients     []*client.WSClient
	connsOf     map[string]int // user id → connections of that user
	books       measure.Bookings
	from, to    string

	readCtx     context.Context
	stopReads   context.CancelFunc
	readers     sync.WaitGroup
	inFlight    atomic.Int64
	ops         sync.WaitGroup
	warnings    []string
	setupStart  time.Time
	connectTime time.Duration
	loadStart   time.Time
	loadEnd     time.Time
	env         *client.Env // made by wsEnv once readCtx and home are set
}

// wsEnv is the run's state its connections share; call it only after
// readCtx (and, for a load run, home) are set.
func (r *runner) wsEnv() *client.Env {
	if r.env == nil {
		r.env = &client.Env{St: r.st, ReadCtx: r.readCtx, Readers: &r.readers, Home: r.home, ApplyAvailability: r.applyAvailability}
	}
	return r.env
}

// Run executes one scenario against running nodes and returns its result.
// progress receives the live line and may be nil. A returned error means the
// run could not be carried out; a Result with Pass false means it ran and
// failed a check (lost or duplicated events, errors, or — with Strict — a
// missed target).
func Run(ctx context.Context, cfg config.Config, progress io.Writer) (*report.Result, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Scenario == "idle-conns" {
		return runIdle(ctx, cfg, progress)
	}
	if cfg.RunID == "" {
		cfg.RunID = NewRunID()
	}
	if cfg.Scenario == "messages" {
		return runMessages(ctx, cfg, progress)
	}
	if progress == nil {
		progress = io.Discard
	}
	r := &runner{
		cfg: cfg, st: measure.NewStats(), out: progress,
		api:       client.NewAPI(cfg.RequestTimeout, 512),
		home:      map[string]int{},
		instrSess: map[string]*client.Session{},
		connsOf:   map[string]int{},
		books:     measure.Bookings{M: map[string]*measure.BookingRec{}},
	}
	for _, u := range cfg.URLs {
		r.wsURL = append(r.wsURL, client.WSURLFor(u))
	}
	r.wsHC = wsHTTPClient("")
	r.readCtx, r.stopReads = context.WithCancel(context.Background())
	defer r.stopReads()

	var fl *floor.Stats
	if cfg.Scenario == "fanout" {
		// Before any watcher connects: the floor's sockets and the
		// watchers' would not fit one process's open-files limit together.
		f, err := floor.Measure(min(cfg.Watchers, floor.DefaultSockets), 20)
		if err != nil {
			r.warn("syscall floor not measured: %v", err)
		}
		fl = f
	}
	r.setupStart = time.Now()
	if err := r.setup(ctx); err != nil {
		r.closeAll()
		return nil, err
	}
	res := r.load(ctx)
	if fl != nil {
		report.CompareFloor(fl, res)
		res.Floor = fl
		res.Failures = nil // judged again with the floor's targets (judge is the only source of failures)
		res.Judge()
	}
	return res, nil
}

// wsHTTPClient is the client WebSocket handshakes go through; source, when
// set, is the local IP to dial from (several 127.0.0.x addresses multiply
// the ephemeral ports available towards one server port).
func wsHTTPClient(source string) *http.Client {
	d := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: -1}
	if source != "" {
		d.LocalAddr = &net.TCPAddr{IP: net.ParseIP(source)}
	}
	return &http.Client{Transport: &http.Transport{
		Proxy: nil, DialContext: d.DialContext, DisableCompression: true,
		MaxIdleConnsPerHost: -1, DisableKeepAlives: true,
	}}
}

func NewRunID() string {
	return fmt.Sprintf("%x", rand.Uint64()&0xffffffffff)
}

func (r *runner) logf(format string, a ...any) {
	if !r.cfg.Quiet {
		fmt.Fprintf(r.out, format+"\n", a...)
	}
}

func (r *runner) warn(format string, a ...any) {
	w := fmt.Sprintf(format, a...)
	r.warnings = append(r.warnings, w)
	r.logf("warning: %s", w)
}

// setup finds instructors, signs users in, and connects every socket.
func (r *runner) setup(ctx context.Context) error {
	cfg := r.cfg
	rctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	for _, u := range cfg.URLs {
		if err := r.api.WaitReady(rctx, u); err != nil {
			cancel()
			return fmt.Errorf("node not ready: %w", err)
		}
	}
	cancel()

	ny, _ := time.LoadLocation("America/New_York")
	today := time.Now().In(ny)
	r.from = today.Format("2006-01-02")
	r.to = today.AddDate(0, 0, cfg.DaysAhead-1).Format("2006-01-02")

	if err := r.chooseInstructors(ctx); err != nil {
		return err
	}
	if err := r.signIn(ctx); err != nil {
		return err
	}
	return r.connect(ctx)
}

// emailFromName guesses a seeded account's email from its full name, the
// way the SPEC's accounts are named (Sarah Chen → sarah.chen@example.com).
func emailFromName(name string) string {
	var b strings.Builder
	for _, f := range strings.Fields(strings.ToLower(name)) {
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		for _, c := range f {
			if (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' {
				b.WriteRune(c)
			}
		}
	}
	return b.String() + "@example.com"
}

func (r *runner) signIn(ctx context.Context) error {
	cfg := r.cfg
	// Students: registered fresh, so every run starts with empty calendars.
	r.students = make([]*client.Session, cfg.Students)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(4)
	for i := range cfg.Students {
		g.Go(func() error {
			node := cfg.URLs[cfg.BookOn[i%len(cfg.BookOn)]]
			email := fmt.Sprintf("lt-%s-s%d@%s", cfg.RunID, i, cfg.EmailDomain)
			s, err := r.api.Register(gctx, node, email, cfg.Password, fmt.Sprintf("Loadtest Student %d", i), "student")
			if err != nil {
				return fmt.Errorf("register student %s: %w", email, err)
			}
			r.students[i] = s
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	// Instructors: the seeded accounts, signed in to receive booking pushes.
	var mu sync.Mutex
	g, gctx = errgroup.WithContext(ctx)
	g.SetLimit(4)
	failed := 0
	for _, s := range r.instructors {
		if r.instrSess[s.instructorID] != nil {
			continue
		}
		g.Go(func() error {
			d, err := r.api.Instructor(gctx, cfg.URLs[0], s.instructorID)
			if err != nil {
				return err
			}
			sess, err := r.api.Login(gctx, cfg.URLs[0], emailFromName(d.FullName), cfg.Password)
			mu.Lock()
			defer mu.Unlock()
			if err != nil || sess.UserID != s.instructorID {
				failed++
				return nil
			}
			r.instrSess[s.instructorID] = sess
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	if failed > 0 {
		r.warn("%d of %d instructors could not sign in (email guessed from the name; pass -instructor-emails): their booking pushes are not checked",
			failed, len(r.instructors))
	}
	r.logf("users: %d students registered, %d instructors signed in", len(r.students), len(r.instrSess))
	if cfg.MailOff {
		g, gctx = errgroup.WithContext(ctx)
		g.SetLimit(4)
		for _, s := range r.students {
			g.Go(func() error { return r.api.MailOff(gctx, cfg.URLs[0], s) })
		}
		for _, s := range r.instrSess {
			g.Go(func() error { return r.api.MailOff(gctx, cfg.URLs[0], s) })
		}
		if err := g.Wait(); err != nil {
			return err
		}
		r.logf("users: email and reminders off for all %d of them (-mail-off)", len(r.students)+len(r.instrSess))
	}
	return nil
}

// connect opens the planner, instructor and watcher sockets and waits for
// every subscribe to be answered.
func (r *runner) connect(ctx context.Context) error {
	cfg := r.cfg
	if cfg.Rate > 0 {
		p := client.NewWSClient(r.wsEnv(), cfg.WatchOn[0], r.wsURL[cfg.WatchOn[0]], r.wsHC, nil, client.RolePlanner)
		for _, t := range r.tracks {
			p.AddTopic(t, t.Final) // from the snapshot's seq: replay covers the gap
		}
		r.clients = append(r.clients, p)
	}
	for i, s := range r.instructors {
		if sess := r.instrSess[s.instructorID]; sess != nil {
			node := cfg.WatchOn[(i+1)%len(cfg.WatchOn)]
			r.clients = append(r.clients, client.NewWSClient(r.wsEnv(), node, r.wsURL[node], r.wsHC, sess, client.RoleInstructor))
		}
	}
	signed := int(math.Round(float64(cfg.Watchers) * cfg.SignedInRatio))
	for i := range cfg.Watchers {
		var sess *client.Session
		if signed > 0 && i%max(1, cfg.Watchers/signed) == 0 && i/max(1, cfg.Watchers/signed) < signed {
			sess = r.students[(i/max(1, cfg.Watchers/signed))%len(r.students)]
		}
		node := cfg.WatchOn[i%len(cfg.WatchOn)]
		c := client.NewWSClient(r.wsEnv(), node, r.wsURL[node], r.wsHC, sess, client.RoleWatcher)
		for j := range min(cfg.TopicsPerWatcher, len(r.tracks)) {
			c.AddTopic(r.tracks[(i*cfg.TopicsPerWatcher+j)%len(r.tracks)], -1)
		}
		r.clients = append(r.clients, c)
	}
	for _, c := range r.clients {
		if c.Sess != nil {
			r.connsOf[c.Sess.UserID]++
		}
	}
	start := time.Now()
	var failed atomic.Int64
	stopProgress := r.progressLoop(func(el time.Duration) string {
		return fmt.Sprintf("connecting %d/%d (%.0f/s)", r.st.Connected.Load(), len(r.clients),
			float64(r.st.Connected.Load())/el.Seconds())
	})
	r.connectAll(ctx, r.clients, cfg.ConnectParallel, &failed)
	deadline := time.After(60 * time.Second)
	for _, c := range r.clients {
		select {
		case <-c.Ready:
		case <-deadline:
			stopProgress()
			errs, notes := r.st.Snapshot()
			return fmt.Errorf("subscribe acks still missing after 60 s (%d connections; errors %v; notes %v)", len(r.clients), errs, notes)
		case <-ctx.Done():
			stopProgress()
			return ctx.Err()
		}
	}
	stopProgress()
	r.connectTime = time.Since(start)
	r.logf("connections: %d open in %v (%.0f/s), %d failed", len(r.clients)-int(failed.Load()),
		r.connectTime.Round(time.Millisecond), float64(len(r.clients))/r.connectTime.Seconds(), failed.Load())
	if f := failed.Load(); f > 0 && f == int64(len(r.clients)) {
		return fmt.Errorf("no connection could be opened")
	}
	return nil
}

// applyAvailability updates the planner's view from an availability.changed
// payload.
func (r *runner) applyAvailability(data []byte) {
	var d struct {
		InstructorID string                   `json:"instructor_id"`
		Days         []client.AvailabilityDay `json:"days"`
	}
	if json.Unmarshal(data, &d) != nil {
		r.st.Fail("ws_availability_payload_malformed")
		return
	}
	for _, s := range r.instructors {
		if s.instructorID == d.InstructorID {
			s.replace(d.Days)
			return
		}
	}
}

// connectAll starts every client with up to parallel dials at a time;
// a client that fails is marked dead (and ready, so nobody waits on it) and
// counted in failed.
func (r *runner) connectAll(ctx context.Context, clients []*client.WSClient, parallel int, failed *atomic.Int64) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(parallel, max(len(clients), 1)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= len(clients) {
					return
				}
				c := clients[i]
				if err := c.Start(ctx); err != nil {
					failed.Add(1)
					r.st.Fail(err.Error())
					c.Dead = true
					c.MarkReady()
				}
			}
		}()
	}
	wg.Wait()
}
