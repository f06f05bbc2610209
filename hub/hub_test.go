package hub

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"instainstru/market"
)

func TestEncodeEventIsTheSpecEnvelope(t *testing.T) {
	ts := time.Date(2026, 12, 7, 14, 3, 4, 123456789, time.FixedZone("EST", -5*3600))
	tests := []struct {
		name string
		ev   market.Event
	}{
		{"availability", market.Event{Topic: "availability:abc", Seq: 42, Type: market.EventAvailabilityChanged, Data: json.RawMessage(`{"instructor_id":"abc","days":[]}`), TS: ts}},
		{"no data", market.Event{Topic: "user:u1", Seq: 1, Type: market.EventBookingCreated, TS: ts}},
		{"quotes in topic", market.Event{Topic: `user:"x"`, Seq: 7, Type: "t", Data: json.RawMessage(`1`), TS: ts}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := encodeEvent(tc.ev)
			var got struct {
				Type  string          `json:"type"`
				Topic string          `json:"topic"`
				Seq   int64           `json:"seq"`
				Event string          `json:"event"`
				Data  json.RawMessage `json:"data"`
				TS    string          `json:"ts"`
			}
			if err := json.Unmarshal(b, &got); err != nil {
				t.Fatalf("not JSON: %s", b)
			}
			if got.Type != "event" || got.Topic != tc.ev.Topic || got.Seq != tc.ev.Seq || got.Event != tc.ev.Type {
				t.Fatalf("envelope %s", b)
			}
			if got.TS != "2026-12-07T19:03:04.123456Z" {
				t.Fatalf("ts %q, want UTC RFC 3339 with microseconds", got.TS)
			}
			if len(tc.ev.Data) == 0 && string(got.Data) != "null" {
				t.Fatalf("data %s", got.Data)
			}
		})
	}
}

func TestQueueRefusesPastItsCapsAndAfterClose(t *testing.T) {
	tests := []struct {
		name            string
		maxCount, bytes int
		frames          []int // sizes
		wantAccepted    int
	}{
		{"count cap", 3, 1 << 20, []int{1, 1, 1, 1}, 3},
		{"byte cap", 100, 10, []int{4, 4, 4}, 2},
		{"fits", 10, 100, []int{10, 10}, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			q := newQueue(tc.maxCount, tc.bytes)
			accepted := 0
			starts := 0
			for _, n := range tc.frames {
				ok, start := q.push(frame{data: make([]byte, n)})
				if ok {
					accepted++
				}
				if start {
					starts++
				}
			}
			if accepted != tc.wantAccepted || starts != 1 {
				t.Fatalf("accepted %d (want %d), writer started %d times (want 1)", accepted, tc.wantAccepted, starts)
			}
			got, closed, more := q.drain(nil)
			if len(got) != accepted || closed || !more {
				t.Fatalf("drained %d closed=%v more=%v", len(got), closed, more)
			}
			// An empty drain ends the writer's turn; the next push starts one.
			if _, _, more := q.drain(nil); more {
				t.Fatal("empty drain kept the writer running")
			}
			if ok, start := q.push(frame{data: []byte("x")}); !ok || !start {
				t.Fatalf("push after the writer stopped: ok=%v start=%v", ok, start)
			}
			if start := q.close(); start {
				t.Fatal("close started a second writer while one runs")
			}
			if ok, _ := q.push(frame{data: []byte("x")}); ok {
				t.Fatal("a closed queue accepted a frame")
			}
			if _, closed, more := q.drain(nil); !closed || !more {
				t.Fatal("drain did not report close")
			}
		})
	}
}

// BenchmarkEncodeEvent measures building one event frame (once per event
// per node on the fan-out path).
func BenchmarkEncodeEvent(b *testing.B) {
	ev := market.Event{Topic: "availability:5f0c2b7e-0a43-4a39-9a55-9e1f8f5a7b11", Seq: 123456,
		Type: market.EventAvailabilityChanged,
		Data: json.RawMessage(`{"instructor_id":"5f0c2b7e-0a43-4a39-9a55-9e1f8f5a7b11","days":[{"date":"2026-12-07","open":[{"start":"09:00","end":"10:00"},{"start":"11:00","end":"12:00"}]}]}`),
		TS:   time.Now()}
	b.ReportAllocs()
	for b.Loop() {
		encodeEvent(ev)
	}
}

// BenchmarkFanoutToQueues measures the shard's per-event work for N
// subscribers: the topic core's step, one encode and N queue pushes
// (socket writes happen on each connection's own goroutine and are not
// included).
func BenchmarkFanoutToQueues(b *testing.B) {
	for _, n := range []int{100, 1000, 10000} {
		b.Run(fmt.Sprintf("subscribers=%d", n), func(b *testing.B) {
			h := &Hub{opts: Options{}}
			h.opts.setDefaults()
			s := &shard{h: h, topics: map[string]*topic{}, ctx: context.Background()}
			tp := newTopic("availability:x", defaultTopicLimits(h.opts.ReplayLimit))
			tp.state = topicLive
			s.topics[tp.name] = tp
			clients := make([]*Client, n)
			for i := range clients {
				clients[i] = &Client{h: h, q: newQueue(1<<30, 1<<30)}
				clients[i].q.claim() // no writer goroutine: the benchmark drains
				tp.add(clients[i])
			}
			data := json.RawMessage(`{"instructor_id":"x","days":[{"date":"2026-12-07","open":[]}]}`)
			b.ReportAllocs()
			seq := int64(0)
			for b.Loop() {
				seq++
				s.handle(&command{kind: cmdEvent, ev: market.Event{Topic: "availability:x", Seq: seq, Type: "availability.changed", Data: data, TS: time.Now()}})
				if seq%64 == 0 {
					for _, c := range clients {
						c.q.drain(nil)
						c.q.claim()
					}
				}
			}
			if tp.last != seq {
				b.Fatalf("delivered up to %d of %d", tp.last, seq)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/delivery")
		})
	}
}

func TestMayWatchAllowsPublicAndOwnTopicsOnly(t *testing.T) {
	id := "5f0c2b7e-0a43-4a39-9a55-9e1f8f5a7b11"
	tests := []struct {
		user, topic, code string
	}{
		{"", "availability:" + id, ""},
		{"", "user:" + id, "forbidden"},
		{id, "user:" + id, ""},
		{"someone-else", "user:" + id, "forbidden"},
		{id, "availability:nope", "bad_topic"},
		{id, "bookings:all", "bad_topic"},
		{id, strings.Repeat("a", 300), "bad_topic"},
	}
	for _, tc := range tests {
		c := &Client{userID: tc.user}
		if code, _ := c.mayWatch(tc.topic); code != tc.code {
			t.Errorf("user %q topic %q: code %q, want %q", tc.user, tc.topic, code, tc.code)
		}
	}
}

func TestTopicSubscriberSetAddsAndRemovesInAnyOrder(t *testing.T) {
	tp := newTopic("t", defaultTopicLimits(10))
	cs := make([]*Client, 5)
	for i := range cs {
		cs[i] = &Client{}
		if !tp.add(cs[i]) {
			t.Fatal("add refused a new client")
		}
	}
	if tp.add(cs[2]) {
		t.Fatal("add accepted a duplicate")
	}
	for _, i := range []int{2, 0, 4} {
		if !tp.remove(cs[i]) || tp.remove(cs[i]) {
			t.Fatalf("remove %d", i)
		}
	}
	if len(tp.subs) != 2 || len(tp.idx) != 2 {
		t.Fatalf("left %d/%d", len(tp.subs), len(tp.idx))
	}
	for _, c := range tp.subs {
		if c != cs[1] && c != cs[3] {
			t.Fatal("wrong survivor")
		}
		if tp.subs[tp.idx[c]] != c {
			t.Fatal("index out of sync")
		}
	}
}

func TestTextFrameHeadersFollowRFC6455(t *testing.T) {
	tests := []struct {
		size   int
		header []byte
	}{
		{0, []byte{0x81, 0}},
		{125, []byte{0x81, 125}},
		{126, []byte{0x81, 126, 0, 126}},
		{65535, []byte{0x81, 126, 0xff, 0xff}},
		{65536, []byte{0x81, 127, 0, 0, 0, 0, 0, 1, 0, 0}},
	}
	for _, tc := range tests {
		payload := []byte(strings.Repeat("x", tc.size))
		f := textFrame(payload, time.Time{})
		if string(f.data[:f.hdr]) != string(tc.header) {
			t.Errorf("size %d: header % x, want % x", tc.size, f.data[:f.hdr], tc.header)
		}
		if string(f.payload()) != string(payload) {
			t.Errorf("size %d: payload changed", tc.size)
		}
	}
}
