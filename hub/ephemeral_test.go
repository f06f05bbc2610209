package hub

import (
	"encoding/json"
	"strings"
	"testing"

	"instainstru/market"
)

// Ephemeral frames reach live subscribers only (or the chosen ones), as
// sent, and leave the topic's seq stream as it was.
func TestEphemeralFramesReachLiveSubscribersWithoutTouchingSeqs(t *testing.T) {
	hist := &slowHistory{seq: map[string]int64{"availability:a": 4}}
	h := testHub(t, hist, &countingBroker{subs: map[string]int{}})
	c1, c2, other := queueClient(h), queueClient(h), queueClient(h)
	c1.id, c2.id, other.id = "c1", "c2", "other"
	for _, c := range []*Client{c1, c2} {
		h.send(subscribeCmd(c, "availability:a", nil))
		frames(t, c, `"seq":4`)
	}
	h.Ephemeral("availability:a", []byte(`{"type":"presence","watching":2}`))
	h.Ephemeral("availability:nobody", []byte(`{"type":"presence","watching":9}`))
	h.DeliverLocal("availability:a", []byte(`{"type":"presence","watching":3}`), "c2")
	h.Event(market.Event{Topic: "availability:a", Seq: 5, Type: "t", Data: json.RawMessage(`{}`)})

	got1 := frames(t, c1, `"seq":5`)
	got2 := frames(t, c2, `"seq":5`)
	if got1 != `{"type":"presence","watching":2}`+"\n"+encodeEvent5() {
		t.Fatalf("c1 got %q", got1)
	}
	if !strings.HasPrefix(got2, `{"type":"presence","watching":2}`+"\n"+`{"type":"presence","watching":3}`) {
		t.Fatalf("c2 got %q", got2)
	}
	// One shard: everything sent before the event was handled before it.
	other.q.mu.Lock()
	n := len(other.q.frames)
	other.q.mu.Unlock()
	if n != 0 {
		t.Fatalf("a connection that subscribed to nothing was queued %d frames", n)
	}
}

func encodeEvent5() string {
	return string(encodeEvent(market.Event{Topic: "availability:a", Seq: 5, Type: "t", Data: json.RawMessage(`{}`)}))
}
