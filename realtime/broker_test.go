package realtime

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"instainstru/internal/eventually"
	"instainstru/market"
)

// recorder is a Handler that keeps what it was given.
type recorder struct {
	mu         sync.Mutex
	events     []market.Event
	subscribed map[string]int
	ephemeral  []string // "topic frame"
}

func (r *recorder) Ephemeral(topic string, frame []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ephemeral = append(r.ephemeral, topic+" "+string(frame))
}

func (r *recorder) ephemerals() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.ephemeral...)
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
	eventually.True(t, d, what, cond)
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

func testEvent(topic string, seq int64) market.Event {
	return market.Event{Topic: topic, Seq: seq, Type: market.EventAvailabilityChanged,
		Data: json.RawMessage(`{"n":1}`), TS: time.Now().UTC().Truncate(time.Microsecond)}
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

func TestMemoryBrokerDeliversEphemeralFramesApartFromEvents(t *testing.T) {
	b := NewMemoryBroker()
	rec := newRecorder()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go b.Run(ctx, rec) //nolint:errcheck
	waitFor(t, time.Second, "handler installed", func() bool { b.mu.RLock(); defer b.mu.RUnlock(); return b.h != nil })
	b.Subscribe(ctx, "user:u") //nolint:errcheck
	for topic, frame := range map[string]string{"user:u": `{"type":"typing"}`, "user:v": `{"type":"typing","v":1}`} {
		if err := b.PublishEphemeral(ctx, topic, []byte(frame)); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.PublishEphemeral(ctx, "user:u", []byte("nope")); err == nil {
		t.Fatal("a frame that is not JSON was accepted")
	}
	evs, _ := rec.snapshot()
	if got := rec.ephemerals(); len(evs) != 0 || len(got) != 1 || got[0] != `user:u {"type":"typing"}` {
		t.Fatalf("events %v, ephemeral %q: want one frame for the watched topic and no event", evs, got)
	}
}

func TestEphemeralEnvelopeDecodesApartAndOldDecodersSeeSeqZero(t *testing.T) {
	b, err := EncodeEphemeral("user:u", []byte(`{"type":"typing"}`))
	if err != nil {
		t.Fatal(err)
	}
	ev, frame, err := DecodeMessage(b)
	if err != nil || ev.Topic != "user:u" || string(frame) != `{"type":"typing"}` {
		t.Fatalf("DecodeMessage = %+v %s %v", ev, frame, err)
	}
	// A node that predates ephemeral frames decodes an event of seq 0,
	// which its hub drops as a duplicate.
	if old, err := DecodeWire(b); err != nil || old.Seq != 0 {
		t.Fatalf("DecodeWire = %+v %v", old, err)
	}
	w, _ := EncodeWire(testEvent("user:u", 3))
	if ev, frame, err := DecodeMessage(w); err != nil || frame != nil || ev.Seq != 3 {
		t.Fatalf("an event decoded as %+v %s %v", ev, frame, err)
	}
}
