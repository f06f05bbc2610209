package realtime

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// deliveries records what a Presence pushes.
type deliveries struct {
	mu   sync.Mutex
	sent []string // "topic frame [conns]"
}

func (d *deliveries) DeliverLocal(topic string, frame []byte, conns ...string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	slices.Sort(conns)
	d.sent = append(d.sent, topic+" "+string(frame)+" "+strings.Join(conns, ","))
}

func (d *deliveries) take() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := d.sent
	d.sent = nil
	slices.Sort(out)
	return out
}

const (
	insA = "availability:aaaaaaaa-0000-0000-0000-000000000000"
	insB = "availability:bbbbbbbb-0000-0000-0000-000000000000"
)

func presenceLine(topic, n, conns string) string {
	return topic + ` {"type":"presence","topic":"` + topic + `","watching":` + n + `} ` + conns
}

func TestPresenceCountsDistinctViewersAndPushesOnlyChanges(t *testing.T) {
	p := NewPresence(NewMemoryPresence(), PresenceOptions{}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	d := &deliveries{}
	ctx := context.Background()
	step := func(want ...string) {
		t.Helper()
		p.Sync(ctx, d)
		if got := d.take(); !slices.Equal(got, want) {
			t.Fatalf("pushed %q\nwant   %q", got, want)
		}
	}
	p.Watch(insA, "u1", "c1")
	p.Watch(insA, "u1", "c2") // the same user in another tab
	p.Watch(insA, "", "c3")   // anonymous
	p.Watch("user:u1", "u1", "c1")
	step(presenceLine(insA, "2", ""))
	p.Live(insA, "c1") // went live after the push: told again
	step(presenceLine(insA, "2", "c1"))
	step() // nothing changed: nothing pushed

	p.Watch(insA, "aaaaaaaa-0000-0000-0000-000000000000", "c4") // the instructor: not counted, but told once live
	step()
	p.Live(insA, "c4")
	step(presenceLine(insA, "2", "c4"))

	p.Watch(insB, "u2", "c5")
	p.Unwatch(insA, "u1", "c1") // u1 still watches from c2
	step(presenceLine(insB, "1", ""))

	// Churn between two syncs coalesces into one push of where it ended.
	for i := 0; i < 50; i++ {
		p.Watch(insA, "u9", "c9")
		p.Unwatch(insA, "u9", "c9")
	}
	p.Unwatch(insA, "", "c3")
	step(presenceLine(insA, "1", ""))
	p.Unwatch(insA, "u1", "c2")
	p.Unwatch(insA, "aaaaaaaa-0000-0000-0000-000000000000", "c4")
	p.Unwatch(insB, "u2", "c5")
	step() // nobody left to tell
	if len(p.topics) != 0 {
		t.Fatalf("topics left behind: %v", p.topicNames())
	}
}

func TestPresenceOnlineFollowsSignedInConnections(t *testing.T) {
	p := NewPresence(NewMemoryPresence(), PresenceOptions{}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	ctx := context.Background()
	online := func() map[string]bool {
		p.Sync(ctx, &deliveries{})
		on, err := p.Online(ctx, []string{"u1", "u2"})
		if err != nil {
			t.Fatal(err)
		}
		return on
	}
	p.Connected("u1")
	p.Connected("u1")
	if on := online(); !on["u1"] || on["u2"] {
		t.Fatalf("online = %v, want u1 only", on)
	}
	p.Disconnected("u1")
	if on := online(); !on["u1"] {
		t.Fatal("u1 still has a connection")
	}
	p.Disconnected("u1")
	if on := online(); on["u1"] {
		t.Fatal("u1 has no connection left")
	}
}

// failingStore fails every sync until told otherwise.
type failingStore struct {
	*MemoryPresence
	fail bool
}

func (f *failingStore) Sync(ctx context.Context, req PresenceSync, ttl time.Duration) (PresenceCounts, error) {
	if f.fail {
		return PresenceCounts{}, errors.New("store down")
	}
	return f.MemoryPresence.Sync(ctx, req, ttl)
}

func TestPresenceResendsWhatAFailedSyncCarried(t *testing.T) {
	st := &failingStore{MemoryPresence: NewMemoryPresence(), fail: true}
	p := NewPresence(st, PresenceOptions{}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	d := &deliveries{}
	ctx := context.Background()
	p.Watch(insA, "u1", "c1")
	p.Connected("u1")
	p.Sync(ctx, d)
	if got := d.take(); len(got) != 0 {
		t.Fatalf("pushed %q while the store was down", got)
	}
	st.fail = false
	p.Sync(ctx, d)
	if got := d.take(); !slices.Equal(got, []string{presenceLine(insA, "1", "")}) {
		t.Fatalf("after recovery pushed %q", got)
	}
	if on, _ := p.Online(ctx, []string{"u1"}); !on["u1"] {
		t.Fatal("the online set was not resent after the failure")
	}
}
