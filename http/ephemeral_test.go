package http

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"instainstru/market"
	"instainstru/store/storetest"
)

// until reads c's frames until done says it has what it wants, failing
// after d; it returns every frame read.
func (c *rtClient) until(d time.Duration, what string, done func(seen []rtFrame) bool) []rtFrame {
	c.t.Helper()
	var seen []rtFrame
	deadline := time.After(d)
	for !done(seen) {
		select {
		case f := <-c.frames:
			seen = append(seen, f)
		case <-deadline:
			c.t.Fatalf("waiting for %s: got %d frames: %+v", what, len(seen), seen)
		}
	}
	return seen
}

// ofType keeps the frames of type typ.
func ofType(fs []rtFrame, typ string) []rtFrame {
	var out []rtFrame
	for _, f := range fs {
		if f.Type == typ {
			out = append(out, f)
		}
	}
	return out
}

func TestEphemeralFramesCrossNodesOutsideTheSeqStream(t *testing.T) {
	forEachBroker(t, false, func(t *testing.T, bk rtBroker) {
		db := storetest.NewDB(t)
		testEphemeralFramesOutsideTheSeqStream(t, bk.node(t, db, "node-a"), bk.node(t, db, "node-b"))
	})
	t.Run("in-process broker", func(t *testing.T) {
		n := startNode(t, storetest.NewDB(t), "", "", "solo")
		testEphemeralFramesOutsideTheSeqStream(t, n, n)
	})
}

// testEphemeralFramesOutsideTheSeqStream sends ephemeral frames from a
// between events committed on a: b's subscribers get them once each, with
// no seq, and the events around them keep seqs 1, 2 with no gap or
// duplicate; a resume replays the events only; connections not subscribed
// get nothing.
func testEphemeralFramesOutsideTheSeqStream(t *testing.T, a, b *rtNode) {
	ctx := context.Background()
	topic := market.AvailabilityTopic(uuid.NewString())
	token, uid := a.register("student")
	watcher := dialWS(t, b.ws, nil)
	device := dialWS(t, b.ws, bearer(token))
	bystander := dialWS(t, a.ws, nil)
	watcher.expect("welcome")
	watcher.subscribe(topic, -1)
	device.expect("welcome")
	bystander.expect("welcome")
	for _, c := range []*rtClient{device, bystander} {
		c.send(map[string]any{"type": "ping"}) // orders the private topic's join
		c.expect("pong")
	}

	a.commit(availEvent(topic, 1))
	if err := a.node.Hub.SendEphemeral(ctx, topic, []byte(`{"type":"test.ephemeral","n":1}`)); err != nil {
		t.Fatal(err)
	}
	a.commit(availEvent(topic, 2))
	if err := a.node.Hub.SendEphemeral(ctx, market.UserTopic(uid), []byte(`{"type":"test.ephemeral","n":2}`)); err != nil {
		t.Fatal(err)
	}
	if err := a.node.Hub.SendEphemeral(ctx, topic, []byte(`not json`)); err == nil {
		t.Fatal("a frame that is not JSON was accepted")
	}

	seen := watcher.until(frameWait, "2 events and 1 ephemeral frame", func(fs []rtFrame) bool {
		return len(ofType(fs, "event")) == 2 && len(ofType(fs, "test.ephemeral")) == 1
	})
	assertSeqs(t, ofType(seen, "event"), 1, 2)
	eph := ofType(seen, "test.ephemeral")[0]
	if string(eph.Raw) != `{"type":"test.ephemeral","n":1}` {
		t.Fatalf("ephemeral frame = %s, want it as sent (no seq, no envelope)", eph.Raw)
	}
	got := device.until(frameWait, "the user's ephemeral frame", func(fs []rtFrame) bool { return len(ofType(fs, "test.ephemeral")) == 1 })
	if f := ofType(got, "test.ephemeral")[0]; !strings.Contains(string(f.Raw), `"n":2`) {
		t.Fatalf("device got %s", f.Raw)
	}

	// Never replayed: a resume from 0 gets the two events, then nothing.
	late := dialWS(t, b.ws, nil)
	late.expect("welcome")
	replay, ack := late.subscribe(topic, 0)
	assertSeqs(t, replay, 1, 2)
	if ack.Seq != 2 {
		t.Fatalf("ack seq %d, want 2", ack.Seq)
	}
	// Once each, and only where subscribed (presence counts of the topic
	// are the hub's own ephemeral frames, beside these). A sleep: this
	// shows that nothing more arrives.
	time.Sleep(150 * time.Millisecond)
	for name, c := range map[string]*rtClient{"watcher": watcher, "device": device, "bystander": bystander, "late": late} {
		for len(c.frames) > 0 {
			if f := <-c.frames; f.Type != "presence" {
				t.Fatalf("%s got an extra frame %s", name, f.Raw)
			}
		}
	}
}

// typingRelay is a fixed table of conversations, standing in for the
// conversations store (the other side of hub.TypingRelay).
type typingRelay map[string][2]string

func (r typingRelay) TypingPeer(_ context.Context, userID, conversationID string) (string, error) {
	p, ok := r[conversationID]
	switch {
	case ok && p[0] == userID:
		return p[1], nil
	case ok && p[1] == userID:
		return p[0], nil
	}
	return "", &market.Error{Code: market.ENOTFOUND, Message: "no such conversation"}
}

func TestTypingFrameReachesTheOtherPartyOnAnyNode(t *testing.T) {
	forEachBroker(t, false, testTypingFrameReachesTheOtherParty)
}

func testTypingFrameReachesTheOtherParty(t *testing.T, bk rtBroker) {
	db := storetest.NewDB(t)
	relay := typingRelay{}
	withRelay := func(c *NodeConfig) { c.Hub.Typing = relay }
	a, b := bk.node(t, db, "node-a", withRelay), bk.node(t, db, "node-b", withRelay)
	sTok, sID := a.register("student")
	iTok, iID := a.register("instructor")
	xTok, _ := a.register("student")
	conv := uuid.NewString()
	relay[conv] = [2]string{sID, iID}

	student, instructor, stranger, anon := dialWS(t, a.ws, bearer(sTok)), dialWS(t, b.ws, bearer(iTok)), dialWS(t, b.ws, bearer(xTok)), dialWS(t, a.ws, nil)
	for _, c := range []*rtClient{student, instructor, stranger, anon} {
		c.expect("welcome")
		c.send(map[string]any{"type": "ping"})
		c.expect("pong")
	}
	id := student.send(map[string]any{"type": "typing", "conversation_id": conv})
	if ack := student.expect("ack"); string(ack.ID) != jsonInt(id) {
		t.Fatalf("ack = %+v", ack)
	}
	f := instructor.expect("typing")
	var body map[string]any
	if err := json.Unmarshal(f.Raw, &body); err != nil || len(body) != 3 || body["conversation_id"] != conv || body["user_id"] != sID {
		t.Fatalf("typing frame = %s, want {type, conversation_id, user_id of the student}", f.Raw)
	}
	for c, code := range map[*rtClient]string{stranger: "not_found", anon: "forbidden"} {
		c.send(map[string]any{"type": "typing", "conversation_id": conv})
		if e := c.next(frameWait); e.Type != "error" || e.Code != code {
			t.Fatalf("typing by a non-party: %s, want error %s", e.Raw, code)
		}
	}
	student.send(map[string]any{"type": "typing", "conversation_id": "nope"})
	if e := student.next(frameWait); e.Code != "bad_frame" {
		t.Fatalf("typing without a UUID: %s", e.Raw)
	}
	select {
	case f := <-instructor.frames:
		t.Fatalf("instructor got an extra frame %s", f.Raw)
	case <-time.After(150 * time.Millisecond):
	}
}

func jsonInt(i int) string { b, _ := json.Marshal(i); return string(b) }
