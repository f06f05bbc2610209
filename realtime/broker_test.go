package realtime

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"instainstru/market"
	"instainstru/store/storetest"
)

// recorder is a Handler that keeps what it was given.
type recorder struct {
	mu         sync.Mutex
	events     []market.Event
	subscribed map[string]int
}

func newRecorder() *recorder { return &recorder{subscribed: map[string]int{}} }

func (r *recorder) Event(ev market.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, ev)
}

func (r *recorder) Subscribed(topic string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.subscribed[topic]++
}

// waitFor polls cond for up to d.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (r *recorder) snapshot() ([]market.Event, map[string]int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	subs := map[string]int{}
	for k, v := range r.subscribed {
		subs[k] = v
	}
	return append([]market.Event(nil), r.events...), subs
}

func startRedisBroker(t *testing.T, url, prefix string) (*RedisBroker, *recorder) {
	t.Helper()
	opt, err := redis.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(opt)
	t.Cleanup(func() { rdb.Close() })
	b := NewRedisBroker(rdb, prefix, nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
	rec := newRecorder()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	go b.Run(ctx, rec) //nolint:errcheck
	return b, rec
}

func testEvent(topic string, seq int64) market.Event {
	return market.Event{Topic: topic, Seq: seq, Type: market.EventAvailabilityChanged,
		Data: json.RawMessage(`{"n":1}`), TS: time.Now().UTC().Truncate(time.Microsecond)}
}

func TestRedisBrokerDeliversOnlyTheTopicsANodeSubscribed(t *testing.T) {
	url, prefix := storetest.SharedRedis(t)
	pub, _ := startRedisBroker(t, url, prefix)
	sub, rec := startRedisBroker(t, url, prefix)
	ctx := context.Background()
	if err := sub.Subscribe(ctx, "availability:a"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "subscription confirmation", func() bool { _, s := rec.snapshot(); return s["availability:a"] == 1 })

	want := testEvent("availability:a", 7)
	for _, ev := range []market.Event{testEvent("availability:b", 1), want} {
		if err := pub.Publish(ctx, ev); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, 5*time.Second, "the event", func() bool { evs, _ := rec.snapshot(); return len(evs) >= 1 })
	time.Sleep(100 * time.Millisecond) // an unwanted topic would arrive by now
	evs, _ := rec.snapshot()
	if len(evs) != 1 {
		t.Fatalf("got %d events, want only the subscribed topic's", len(evs))
	}
	got := evs[0]
	if got.Topic != want.Topic || got.Seq != want.Seq || got.Type != want.Type || string(got.Data) != string(want.Data) || !got.TS.Equal(want.TS) {
		t.Fatalf("got %+v, want %+v", got, want)
	}

	if err := sub.Unsubscribe(ctx, "availability:a"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
	pub.Publish(ctx, testEvent("availability:a", 8)) //nolint:errcheck
	time.Sleep(200 * time.Millisecond)
	if evs, _ := rec.snapshot(); len(evs) != 1 {
		t.Fatalf("an unsubscribed topic was still delivered")
	}
}

func TestRedisBrokerResubscribesAndSignalsAfterRedisRestarts(t *testing.T) {
	srv := storetest.StartRedis(t)
	pub, _ := startRedisBroker(t, srv.URL(), "p:")
	sub, rec := startRedisBroker(t, srv.URL(), "p:")
	ctx := context.Background()
	if err := sub.Subscribe(ctx, "user:u"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "first confirmation", func() bool { _, s := rec.snapshot(); return s["user:u"] == 1 })

	srv.Stop()
	if err := pub.Publish(ctx, testEvent("user:u", 1)); err == nil {
		t.Fatal("publish to a dead Redis reported success; the relay would never retry it")
	}
	srv.Start()
	// The handler hears of the new subscription, so the hub can resync.
	waitFor(t, 20*time.Second, "re-subscription after restart", func() bool { _, s := rec.snapshot(); return s["user:u"] >= 2 })
	waitFor(t, 10*time.Second, "delivery after restart", func() bool {
		pub.Publish(ctx, testEvent("user:u", 2)) //nolint:errcheck
		evs, _ := rec.snapshot()
		return len(evs) > 0
	})
}

func TestMemoryBrokerDeliversSubscribedTopicsInProcess(t *testing.T) {
	b := NewMemoryBroker()
	rec := newRecorder()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go b.Run(ctx, rec) //nolint:errcheck
	waitFor(t, time.Second, "handler installed", func() bool { b.mu.RLock(); defer b.mu.RUnlock(); return b.h != nil })
	b.Subscribe(ctx, "availability:x")             //nolint:errcheck
	b.Publish(ctx, testEvent("availability:x", 1)) //nolint:errcheck
	b.Publish(ctx, testEvent("availability:y", 1)) //nolint:errcheck
	b.Unsubscribe(ctx, "availability:x")           //nolint:errcheck
	b.Publish(ctx, testEvent("availability:x", 2)) //nolint:errcheck
	evs, _ := rec.snapshot()
	if len(evs) != 1 || evs[0].Topic != "availability:x" || evs[0].Seq != 1 {
		t.Fatalf("got %+v, want only availability:x#1", evs)
	}
}

func TestRedisBrokerBatchPublishesInOrderAndReportsEachFailure(t *testing.T) {
	srv := storetest.StartRedis(t)
	pub, _ := startRedisBroker(t, srv.URL(), "b:")
	sub, rec := startRedisBroker(t, srv.URL(), "b:")
	ctx := context.Background()
	sub.Subscribe(ctx, "availability:a") //nolint:errcheck
	waitFor(t, 5*time.Second, "subscription", func() bool { _, s := rec.snapshot(); return s["availability:a"] == 1 })
	batch := []market.Event{testEvent("availability:a", 1), testEvent("availability:b", 1), testEvent("availability:a", 2)}
	for i, err := range pub.PublishBatch(ctx, batch) {
		if err != nil {
			t.Fatalf("event %d: %v", i, err)
		}
	}
	waitFor(t, 5*time.Second, "two events", func() bool { evs, _ := rec.snapshot(); return len(evs) == 2 })
	evs, _ := rec.snapshot()
	if evs[0].Seq != 1 || evs[1].Seq != 2 {
		t.Fatalf("got seqs %d, %d; want 1, 2 in order", evs[0].Seq, evs[1].Seq)
	}
	srv.Stop()
	for i, err := range pub.PublishBatch(ctx, batch) {
		if err == nil {
			t.Fatalf("event %d reported published with Redis down", i)
		}
	}
}
