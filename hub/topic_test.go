package hub

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"instainstru/market"
)

// world drives one topic core with a fake history (the committed events)
// and a fake broker (the test decides which events arrive, when, in what
// order, how often). It records what every subscriber was sent and holds
// the I/O the core asked for until the test answers it.
type world struct {
	t       *testing.T
	tp      *topic
	hist    []market.Event // committed: hist[i].Seq == i+1
	oldest  int64          // events below this were pruned
	io      []action       // requests not answered yet, oldest first
	held    []reply        // answers computed but not delivered yet
	sent    map[*Client][]string
	subs    int // the subscriptions gauge
	joins   int // broker subscriptions minus unsubscriptions
	failSeq bool
	failRd  bool
}

func newWorld(t *testing.T, committed int, lim topicLimits) *world {
	w := &world{t: t, tp: newTopic("availability:x", lim), sent: map[*Client][]string{}}
	w.commit(committed)
	return w
}

func testLimits() topicLimits {
	lim := defaultTopicLimits(100)
	lim.page = 1000
	return lim
}

func (w *world) do(t *topic, a action) {
	c := a.req.client
	switch a.kind {
	case actFanout:
		for _, s := range t.subs {
			w.sent[s] = append(w.sent[s], fmt.Sprint(a.ev.Seq))
		}
	case actSend:
		w.sent[c] = append(w.sent[c], fmt.Sprint(a.ev.Seq))
	case actReset:
		w.sent[c] = append(w.sent[c], fmt.Sprintf("reset@%d", a.seq))
	case actAccept:
		w.sent[c] = append(w.sent[c], fmt.Sprintf("ack@%d", a.seq))
	case actFail:
		w.sent[c] = append(w.sent[c], "failed")
	case actRefuse:
		w.sent[c] = append(w.sent[c], "refused")
	case actCancel:
		w.sent[c] = append(w.sent[c], "cancelled")
	case actSubs:
		w.subs += a.n
	default:
		w.io = append(w.io, a)
	}
}

func (w *world) commit(n int) {
	for range n {
		seq := int64(len(w.hist) + 1)
		w.hist = append(w.hist, market.Event{Topic: w.tp.name, Seq: seq, Type: "t", TS: time.Unix(seq, 0)})
	}
}

func (w *world) ev(seq int64) market.Event { return w.hist[seq-1] }

// publish delivers committed events through the broker, in the order given.
func (w *world) publish(seqs ...int64) {
	for _, s := range seqs {
		w.tp.event(w, w.ev(s))
	}
}

func (w *world) sub(c *Client, since int64) {
	r := subReq{client: c, reqID: []byte("1")}
	if since >= 0 {
		r.since = &since
	}
	w.tp.subscribe(w, r)
}

// answer computes the reply to the oldest request of kind from the fake
// history as it is now; held replies are delivered later by release.
func (w *world) answer(kind actKind) reply {
	w.t.Helper()
	i := slices.IndexFunc(w.io, func(a action) bool { return a.kind == kind })
	if i < 0 {
		w.t.Fatalf("no request of kind %d in flight (have %v)", kind, w.kinds())
	}
	a := w.io[i]
	w.io = slices.Delete(w.io, i, i+1)
	r := reply{id: a.id}
	switch a.kind {
	case actJoin:
		w.joins++
		if w.failSeq {
			r.err = errors.New("history down")
		} else {
			r.seq = int64(len(w.hist))
		}
	case actLeave:
		w.joins--
	case actFetch, actReplay:
		if w.failRd {
			r.err = errors.New("history down")
			break
		}
		for _, e := range w.hist {
			if e.Seq > a.seq && e.Seq >= w.oldest && len(r.evs) < a.n {
				r.evs = append(r.evs, e)
			}
		}
	}
	return r
}

func (w *world) reply(kind actKind) { w.tp.reply(w, w.answer(kind)) }
func (w *world) hold(kind actKind)  { w.held = append(w.held, w.answer(kind)) }
func (w *world) release() {
	for _, r := range w.held {
		w.tp.reply(w, r)
	}
	w.held = nil
}

// settle answers everything in flight (timers included) until nothing is.
func (w *world) settle() {
	w.t.Helper()
	for i := 0; len(w.io) > 0; i++ {
		if i > 1000 {
			w.t.Fatalf("still busy after 1000 replies: %v", w.kinds())
		}
		w.reply(w.io[0].kind)
	}
}

func (w *world) kinds() []actKind {
	var ks []actKind
	for _, a := range w.io {
		ks = append(ks, a.kind)
	}
	return ks
}

func (w *world) has(kind actKind) bool {
	return slices.ContainsFunc(w.io, func(a action) bool { return a.kind == kind })
}

// live brings the topic live at the committed seq with c subscribed.
func (w *world) live(c *Client) {
	w.sub(c, -1)
	w.reply(actJoin)
}

func TestTopicCoreOrdersEventsAndClosesTheSeam(t *testing.T) {
	a, b := &Client{}, &Client{}
	tests := []struct {
		name      string
		committed int
		lim       func(*topicLimits)
		run       func(w *world)
		want      map[*Client]string
		wantIO    []actKind // requests still in flight at the end
	}{
		{
			name: "in-order events reach live subscribers once", committed: 3,
			run: func(w *world) {
				w.live(a)
				w.commit(2)
				w.publish(4, 5)
			},
			want: map[*Client]string{a: "ack@3 4 5"},
		},
		{
			name: "duplicates from the relay or a second publish are dropped", committed: 3,
			run: func(w *world) {
				w.live(a)
				w.commit(2)
				w.publish(4, 4, 3, 1, 5, 4, 5)
			},
			want: map[*Client]string{a: "ack@3 4 5"},
		},
		{
			name: "an event past a gap waits for the missing one, then both go in order", committed: 3,
			run: func(w *world) {
				w.live(a)
				w.commit(3)
				w.publish(6, 5)
				if !w.has(actTimer) {
					w.t.Fatal("no reorder timer for the gap")
				}
				w.publish(4)
				w.settle() // the timer finds nothing left to fetch
			},
			want: map[*Client]string{a: "ack@3 4 5 6"},
		},
		{
			name: "a gap that no publish fills is read from history when the wait runs out", committed: 3,
			run: func(w *world) {
				w.live(a)
				w.commit(3)
				w.publish(6)
				w.reply(actTimer)
				if !w.has(actFetch) {
					w.t.Fatal("no history read after the reorder wait")
				}
				w.reply(actFetch)
				w.publish(4, 5, 6) // late duplicates
			},
			want: map[*Client]string{a: "ack@3 4 5 6"},
		},
		{
			name: "a gap history cannot fill yet is looked at again later", committed: 3,
			run: func(w *world) {
				w.live(a)
				w.commit(1)
				w.tp.event(w, market.Event{Topic: w.tp.name, Seq: 6}) // 5 and 6 not committed as seen by the read
				w.reply(actTimer)
				w.reply(actFetch) // returns 4 only
				w.commit(2)
				w.reply(actTimer) // the retry
				w.reply(actFetch)
			},
			want: map[*Client]string{a: "ack@3 4 5 6"},
		},
		{
			name: "a failed gap read is retried after a pause", committed: 3,
			run: func(w *world) {
				w.live(a)
				w.commit(2)
				w.publish(5)
				w.reply(actTimer)
				w.failRd = true
				w.reply(actFetch)
				w.failRd = false
				w.reply(actTimer) // retry → resync → read again
				w.reply(actFetch)
			},
			want: map[*Client]string{a: "ack@3 4 5"},
		},
		{
			name: "events that arrive before the join's seq read returns are kept and sorted out", committed: 3,
			run: func(w *world) {
				w.sub(a, -1)
				w.hold(actJoin) // the seq read saw 3
				w.commit(3)
				w.publish(5, 4, 6, 3) // published before the join's reply reached the shard
				w.release()
			},
			want: map[*Client]string{a: "ack@3 4 5 6"},
		},
		{
			name: "an event at or below the join's seq is not sent again", committed: 3,
			run: func(w *world) {
				w.sub(a, -1)
				w.commit(1)
				w.publish(4) // arrives before the join reads seq 4
				w.reply(actJoin)
			},
			want: map[*Client]string{a: "ack@4"},
		},
		{
			name: "resume replays exactly the missed events, then live, while live events keep coming", committed: 5,
			run: func(w *world) {
				w.live(b)
				w.sub(a, 2)
				w.commit(2)
				w.publish(6, 7) // b gets them live; a has them buffered
				w.reply(actReplay)
				w.commit(1)
				w.publish(8)
			},
			want: map[*Client]string{b: "ack@5 6 7 8", a: "3 4 5 6 7 ack@7 8"},
		},
		{
			name: "resume on a topic new to this node joins, then replays", committed: 5,
			run: func(w *world) {
				w.sub(a, 2)
				w.reply(actJoin)
				w.commit(1)
				w.publish(6)
				w.reply(actReplay)
			},
			want: map[*Client]string{a: "3 4 5 6 ack@6"},
		},
		{
			name: "a long replay is read in pages", committed: 7,
			lim: func(l *topicLimits) { l.page = 2 },
			run: func(w *world) {
				w.live(b)
				w.sub(a, 0)
				w.settle()
			},
			want: map[*Client]string{b: "ack@7", a: "1 2 3 4 5 6 7 ack@7"},
		},
		{
			name: "since older than retained history answers reset", committed: 6,
			run: func(w *world) {
				w.oldest = 4
				w.live(b)
				w.sub(a, 1)
				w.reply(actReplay)
				w.commit(1)
				w.publish(7)
			},
			want: map[*Client]string{b: "ack@6 7", a: "reset@6 ack@6 7"},
		},
		{
			name: "since further back than the replay limit answers reset without a read", committed: 10,
			lim: func(l *topicLimits) { l.replayLimit = 3 },
			run: func(w *world) {
				w.live(b)
				w.sub(a, 6)
				if w.has(actReplay) {
					w.t.Fatal("read history for a replay over the limit")
				}
			},
			want: map[*Client]string{b: "ack@10", a: "reset@10 ack@10"},
		},
		{
			name: "more live events during the replay than the limit turn it into a reset", committed: 5,
			lim: func(l *topicLimits) { l.replayLimit = 3 },
			run: func(w *world) {
				w.live(b)
				w.sub(a, 3)
				w.commit(5)
				w.publish(6, 7, 8, 9, 10)
				w.reply(actReplay) // answered to no one
			},
			want: map[*Client]string{b: "ack@5 6 7 8 9 10", a: "reset@9 ack@9 10"},
		},
		{
			name: "since beyond every commit (another history) answers reset once history is read", committed: 5,
			run: func(w *world) {
				w.live(b)
				w.sub(a, 99)
				w.reply(actFetch)
			},
			want: map[*Client]string{b: "ack@5", a: "reset@5 ack@5"},
		},
		{
			name: "since ahead of the node (its events still on their way) waits for them: no reset, no duplicate", committed: 5,
			run: func(w *world) {
				w.live(b)
				w.commit(2) // committed, not yet published to this node
				w.sub(a, 7)
				w.reply(actFetch)
				w.commit(1)
				w.publish(6, 7, 8)
			},
			want: map[*Client]string{b: "ack@5 6 7 8", a: "ack@7 8"},
		},
		{
			name: "since equal to the current seq is live at once", committed: 5,
			run: func(w *world) {
				w.live(b)
				w.sub(a, 5)
			},
			want: map[*Client]string{b: "ack@5", a: "ack@5"},
		},
		{
			name: "a live subscriber that resumes again leaves the live set until its replay is through", committed: 5,
			run: func(w *world) {
				w.live(a)
				w.sub(a, 3)
				w.commit(1)
				w.publish(6)
				w.reply(actReplay)
			},
			want: map[*Client]string{a: "ack@5 4 5 6 ack@6"},
		},
		{
			name: "a second subscribe of the same client waits for the first", committed: 5,
			run: func(w *world) {
				w.live(b)
				w.sub(a, 2)
				w.sub(a, -1)
				w.reply(actReplay)
			},
			want: map[*Client]string{b: "ack@5", a: "3 4 5 ack@5 ack@5"},
		},
		{
			name: "failed seq read fails every waiting subscriber and gives the broker subscription back", committed: 5,
			run: func(w *world) {
				w.failSeq = true
				w.sub(a, -1)
				w.sub(b, 1)
				w.reply(actJoin)
				w.reply(actLeave)
			},
			want: map[*Client]string{a: "failed", b: "failed"},
		},
		{
			name: "failed first replay cleans the topic up", committed: 5,
			run: func(w *world) {
				w.sub(a, 1)
				w.reply(actJoin)
				w.failRd = true
				w.reply(actReplay)
				if !w.has(actLeave) {
					w.t.Fatal("the broker subscription of an unused topic was kept")
				}
				w.reply(actLeave)
			},
			want: map[*Client]string{a: "failed"},
		},
		{
			name: "failed replay of a live subscriber keeps its live stream unbroken", committed: 5,
			run: func(w *world) {
				w.live(a)
				w.sub(a, 2)
				w.commit(1)
				w.publish(6)
				w.failRd = true
				w.reply(actReplay)
				w.commit(1)
				w.publish(7)
			},
			want: map[*Client]string{a: "ack@5 refused 6 7"},
		},
		{
			name: "unsubscribe while the join is out leaves only after the join returns", committed: 5,
			run: func(w *world) {
				w.sub(a, -1)
				w.tp.unsubscribe(w, a, false)
				if w.has(actLeave) {
					w.t.Fatal("unsubscribed from the broker while its subscribe may still be running")
				}
				w.reply(actJoin)
				w.reply(actLeave)
			},
			want: map[*Client]string{a: "cancelled"},
		},
		{
			name: "a subscribe while the broker unsubscribes joins again after it", committed: 5,
			run: func(w *world) {
				w.live(a)
				w.tp.unsubscribe(w, a, true)
				w.sub(b, -1)
				if w.has(actJoin) {
					w.t.Fatal("joined while the unsubscribe was out")
				}
				w.reply(actLeave)
				w.commit(1)
				w.reply(actJoin)
				w.commit(1)
				w.publish(7)
			},
			want: map[*Client]string{a: "ack@5", b: "ack@6 7"},
		},
		{
			name: "a replay reply after its subscriber left is ignored", committed: 5,
			run: func(w *world) {
				w.live(b)
				w.sub(a, 2)
				w.tp.unsubscribe(w, a, true)
				w.reply(actReplay)
			},
			want: map[*Client]string{b: "ack@5"},
		},
		{
			name: "the broker resubscribed: what was published meanwhile is read from history", committed: 3,
			run: func(w *world) {
				w.live(a)
				w.commit(2) // published while the broker was down
				w.tp.resynced(w)
				w.reply(actFetch)
			},
			want: map[*Client]string{a: "ack@3 4 5"},
		},
		{
			name: "the broker's subscribe confirmation during the join reads history after it", committed: 3,
			run: func(w *world) {
				w.sub(a, -1)
				w.hold(actJoin)
				w.tp.resynced(w)
				w.commit(1) // published before the subscription took effect: never arrives
				w.release()
				w.reply(actFetch)
			},
			want: map[*Client]string{a: "ack@3 4"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			lim := testLimits()
			if tc.lim != nil {
				tc.lim(&lim)
			}
			w := newWorld(t, tc.committed, lim)
			tc.run(w)
			for c, want := range tc.want {
				if got := strings.Join(w.sent[c], " "); got != want {
					t.Errorf("sent %q, want %q", got, want)
				}
			}
			if len(w.io) != len(tc.wantIO) {
				t.Errorf("in flight at the end: %v", w.kinds())
			}
		})
	}
}

func TestTopicCoreForgetsAnUnusedTopicOnlyWhenNothingIsInFlight(t *testing.T) {
	w := newWorld(t, 3, testLimits())
	a := &Client{}
	w.live(a)
	w.commit(2)
	w.publish(5) // a gap timer is out
	w.tp.unsubscribe(w, a, true)
	if w.subs != 0 {
		t.Fatalf("gauge %d after the only subscriber left", w.subs)
	}
	w.reply(actLeave)
	if w.tp.gone() {
		t.Fatal("gone while its timer is still out")
	}
	w.reply(actTimer)
	if !w.tp.gone() || w.joins != 0 {
		t.Fatalf("gone=%v broker subscriptions=%d", w.tp.gone(), w.joins)
	}
}

func TestTopicCoreCountsASubscriptionOnlyOnceAccepted(t *testing.T) {
	w := newWorld(t, 5, testLimits())
	a, b := &Client{}, &Client{}
	w.sub(a, 2)
	w.sub(b, -1)
	if w.subs != 0 {
		t.Fatalf("gauge %d before the join returned", w.subs)
	}
	w.reply(actJoin)
	if w.subs != 1 {
		t.Fatalf("gauge %d with one live and one replaying", w.subs)
	}
	w.reply(actReplay)
	w.sub(a, 1) // re-subscribe: still one subscription
	w.reply(actReplay)
	if w.subs != 2 {
		t.Fatalf("gauge %d, want 2", w.subs)
	}
	w.tp.unsubscribe(w, a, true)
	w.tp.unsubscribe(w, b, true)
	if w.subs != 0 {
		t.Fatalf("gauge %d after both left", w.subs)
	}
}

// TestTopicCoreKeepsEverySubscriberGapFreeUnderRandomInterleavings lets a
// seeded random schedule commit events, deliver them late, twice or never,
// subscribe and resume clients, unsubscribe them, and answer the core's
// reads in any order. Every subscriber must see, after its ack (or reset),
// each following seq exactly once and in order, and a resume must first
// replay exactly (since, ack].
func TestTopicCoreKeepsEverySubscriberGapFreeUnderRandomInterleavings(t *testing.T) {
	seeds := 400
	if testing.Short() {
		seeds = 100
	}
	for seed := range seeds {
		rng := rand.New(rand.NewPCG(uint64(seed), 7))
		lim := testLimits()
		lim.page = 1 + rng.IntN(4)
		lim.replayLimit = 5 + rng.IntN(20)
		w := newWorld(t, rng.IntN(5), lim)
		clients := []*Client{{}, {}, {}, {}}
		starts := map[*Client]int{} // index into w.sent where the current subscription's frames begin
		since := map[*Client]int64{}
		subscribed := map[*Client]bool{}
		var undelivered []int64
		for step := 0; step < 300; step++ {
			switch r := rng.IntN(100); {
			case r < 25: // commit; the publish is queued for the broker
				w.commit(1)
				undelivered = append(undelivered, int64(len(w.hist)))
			case r < 50 && len(undelivered) > 0: // the broker delivers one, maybe out of order, maybe twice
				i := rng.IntN(len(undelivered))
				w.publish(undelivered[i])
				if rng.IntN(4) > 0 {
					undelivered = slices.Delete(undelivered, i, i+1)
				}
			case r < 53 && len(undelivered) > 0: // the broker loses one
				undelivered = undelivered[1:]
			case r < 62: // (re)subscribe, maybe resuming
				c := clients[rng.IntN(len(clients))]
				if subscribed[c] {
					continue // a second request of the same client is covered above
				}
				s := int64(-1)
				if rng.IntN(2) == 0 {
					s = int64(rng.IntN(len(w.hist) + 2))
				}
				subscribed[c], starts[c], since[c] = true, len(w.sent[c]), s
				w.sub(c, s)
			case r < 66: // unsubscribe
				c := clients[rng.IntN(len(clients))]
				if subscribed[c] {
					checkStream(t, seed, w, c, starts[c], since[c], false)
					subscribed[c] = false
					w.tp.unsubscribe(w, c, true)
				}
			case r < 68:
				w.tp.resynced(w)
			default: // answer one request in flight, any of them
				if len(w.io) > 0 {
					w.reply(w.io[rng.IntN(len(w.io))].kind)
				}
			}
		}
		// The broker delivers what is left and everything settles.
		for _, s := range undelivered {
			w.publish(s)
		}
		w.tp.resynced(w) // the relay or a resubscribe catches anything lost
		w.settle()
		for _, c := range clients {
			if subscribed[c] {
				checkStream(t, seed, w, c, starts[c], since[c], true)
			}
		}
	}
}

// checkStream checks one subscription's frames from start: an optional
// replay of (since, s] ending in ack@s (or reset@s then ack@s), then s+1,
// s+2, … with complete meaning it must reach the last committed seq.
func checkStream(t *testing.T, seed int, w *world, c *Client, start int, since int64, complete bool) {
	t.Helper()
	frames := w.sent[c][start:]
	fail := func(why string) {
		t.Fatalf("seed %d: %s in %v (since %d, committed %d)", seed, why, frames, since, len(w.hist))
	}
	i, next := 0, since+1
	var seq int64
	for ; i < len(frames); i++ {
		f := frames[i]
		if n, err := fmt.Sscanf(f, "reset@%d", &seq); n == 1 && err == nil {
			continue
		}
		if n, err := fmt.Sscanf(f, "ack@%d", &seq); n == 1 && err == nil {
			if since >= 0 && i > 0 && !strings.HasPrefix(frames[i-1], "reset@") && next != seq+1 {
				fail("replay did not end at the ack's seq")
			}
			next = seq + 1
			i++
			break
		}
		if since < 0 {
			fail("event before the ack")
		}
		if f != fmt.Sprint(next) {
			fail(fmt.Sprintf("replayed %s, want %d", f, next))
		}
		next++
	}
	if i == 0 || !strings.HasPrefix(frames[i-1], "ack@") {
		if complete {
			fail("never acked")
		}
		return
	}
	for ; i < len(frames); i++ {
		if frames[i] != fmt.Sprint(next) {
			fail(fmt.Sprintf("live %s, want %d", frames[i], next))
		}
		next++
	}
	if complete && next != int64(len(w.hist))+1 {
		fail(fmt.Sprintf("live stream ends at %d", next-1))
	}
}
