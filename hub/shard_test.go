package hub

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"instainstru/internal/eventually"
	"instainstru/market"
)

// slowHistory is a history whose reads of one topic block until released,
// and fail for topics marked broken.
type slowHistory struct {
	mu      sync.Mutex
	seq     map[string]int64
	blocked map[string]chan struct{}
	broken  map[string]bool
}

func (h *slowHistory) wait(ctx context.Context, topic string) error {
	h.mu.Lock()
	ch, broken := h.blocked[topic], h.broken[topic]
	h.mu.Unlock()
	if ch != nil {
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if broken {
		return errors.New("history down")
	}
	return nil
}

func (h *slowHistory) EventsAfter(ctx context.Context, topic string, after int64, limit int) ([]market.Event, error) {
	if err := h.wait(ctx, topic); err != nil {
		return nil, err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	var evs []market.Event
	for s := after + 1; s <= h.seq[topic] && len(evs) < limit; s++ {
		evs = append(evs, market.Event{Topic: topic, Seq: s, Type: "t", Data: json.RawMessage(`{}`)})
	}
	return evs, nil
}

func (h *slowHistory) TopicSeq(ctx context.Context, topic string) (int64, error) {
	if err := h.wait(ctx, topic); err != nil {
		return 0, err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.seq[topic], nil
}

func (h *slowHistory) OldestSeq(ctx context.Context, topic string) (int64, error) { return 1, nil }

// countingBroker records this node's broker interest per topic.
type countingBroker struct {
	mu   sync.Mutex
	subs map[string]int
}

func (b *countingBroker) Subscribe(ctx context.Context, topic string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.subs[topic]++
	return nil
}

func (b *countingBroker) Unsubscribe(ctx context.Context, topic string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.subs[topic]--
	return nil
}

func (b *countingBroker) count(topic string) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.subs[topic]
}

// queueClient is a client without a socket: its queue is claimed so no
// writer starts, and the test reads what was queued.
func queueClient(h *Hub) *Client {
	c := &Client{h: h, q: newQueue(1024, 1<<20), topics: map[string]uint64{}}
	c.q.claim()
	return c
}

// frames waits until c has been queued a frame containing want, returning
// everything queued so far.
func frames(t *testing.T, c *Client, want string) string {
	t.Helper()
	var got []string
	deadline := time.Now().Add(2 * time.Second)
	for time.Now().Before(deadline) {
		c.q.mu.Lock() // take the frames but leave the queue claimed: no writer may start
		for _, f := range c.q.frames {
			got = append(got, string(f.payload()))
		}
		c.q.frames, c.q.bytes = nil, 0
		c.q.mu.Unlock()
		if s := strings.Join(got, "\n"); strings.Contains(s, want) {
			return s
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("no frame with %s; got %q", want, got)
	return ""
}

func subscribeCmd(c *Client, topic string, since *int64) command {
	gen, _ := c.want(topic, 0)
	return command{kind: cmdSubscribe, topic: topic, req: subReq{client: c, since: since, reqID: json.RawMessage(`7`), gen: gen}}
}

func testHub(t *testing.T, hist History, b Broker) *Hub {
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	return New(ctx, Options{Shards: 1}, b, hist, nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
}

func TestSlowHistoryForOneTopicDoesNotStallTheOthersOfItsShard(t *testing.T) {
	slow := make(chan struct{})
	hist := &slowHistory{seq: map[string]int64{"availability:a": 4, "availability:b": 9},
		blocked: map[string]chan struct{}{"availability:a": slow}}
	b := &countingBroker{subs: map[string]int{}}
	h := testHub(t, hist, b) // one shard: both topics share it
	ca, cb := queueClient(h), queueClient(h)

	h.send(subscribeCmd(ca, "availability:a", nil))
	h.send(subscribeCmd(cb, "availability:b", nil))
	frames(t, cb, `"type":"ack","id":7,"topic":"availability:b","seq":9`)
	h.Event(market.Event{Topic: "availability:b", Seq: 10, Type: "t", Data: json.RawMessage(`{}`)})
	frames(t, cb, `"seq":10`)

	close(slow)
	frames(t, ca, `"type":"ack","id":7,"topic":"availability:a","seq":4`)
}

func TestRefusedSubscribeIsForgottenAndItsBrokerSubscriptionGivenBack(t *testing.T) {
	tests := []struct {
		name  string
		hist  History
		since *int64
	}{
		{"current seq unreadable",
			&slowHistory{broken: map[string]bool{"availability:a": true}}, nil},
		{"first replay unreadable",
			onlyReplayFails{&slowHistory{seq: map[string]int64{"availability:a": 5}}}, new(int64)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { runRefused(t, tc.hist, tc.since) })
	}
}

// onlyReplayFails reads the current seq but no events.
type onlyReplayFails struct{ *slowHistory }

func (onlyReplayFails) EventsAfter(context.Context, string, int64, int) ([]market.Event, error) {
	return nil, errors.New("history down")
}

func runRefused(t *testing.T, hist History, since *int64) {
	t.Helper()
	b := &countingBroker{subs: map[string]int{}}
	h := testHub(t, hist, b)
	c := queueClient(h)
	h.send(subscribeCmd(c, "availability:a", since))
	frames(t, c, `"code":"unavailable"`)
	eventually.Within(2*time.Second, func() bool { return b.count("availability:a") == 0 })
	if n := b.count("availability:a"); n != 0 {
		t.Fatalf("broker still subscribed (%d) to a topic nobody here watches", n)
	}
	c.topicsMu.Lock()
	_, kept := c.topics["availability:a"]
	c.topicsMu.Unlock()
	if kept {
		t.Fatal("the refused subscription still counts against the connection's limit")
	}
}

func TestReplayLimitStaysWithinTheSendQueue(t *testing.T) {
	tests := []struct {
		name string
		in   Options
		want int
	}{
		{"default is half the queue", Options{}, 2048},
		{"asked for more than the queue holds", Options{QueueFrames: 100, ReplayLimit: 10000}, 100 - replayHeadroom},
		{"asked for less", Options{QueueFrames: 100, ReplayLimit: 10}, 10},
	}
	for _, tc := range tests {
		o := tc.in
		o.setDefaults()
		if o.ReplayLimit != tc.want {
			t.Errorf("%s: ReplayLimit %d, want %d", tc.name, o.ReplayLimit, tc.want)
		}
	}
}

func TestInboxNeverBlocksAndTurnsOverflowIntoAResync(t *testing.T) {
	in := newInbox()
	for i := range maxInbox + 10 {
		in.post(command{kind: cmdEvent, ev: market.Event{Topic: "availability:a", Seq: int64(i + 1)}})
	}
	in.post(command{kind: cmdSubscribe, topic: "availability:b"}) // control commands are always queued
	got := in.take(nil)
	if len(got) != maxInbox+2 {
		t.Fatalf("took %d commands, want %d", len(got), maxInbox+2)
	}
	if last := got[len(got)-1]; last.kind != cmdResync || last.topic != "availability:a" {
		t.Fatalf("last command %+v, want a resync of the overflowing topic", last)
	}
	if got[maxInbox].kind != cmdSubscribe {
		t.Fatal("the subscribe past the cap was dropped")
	}
}

func (b *countingBroker) PublishEphemeral(ctx context.Context, topic string, frame []byte) error {
	return nil
}
