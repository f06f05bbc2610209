package redis

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"instainstru/internal/eventually"
	"instainstru/market"
	"instainstru/store/storetest"
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

// redisDeployment is a Redis the test owns, one server or a cluster, with
// the broker that runs on it and a way to crash the server that holds a
// channel.
type redisDeployment struct {
	name string
	// client returns a new client of the deployment.
	client func(t *testing.T) goredis.UniversalClient
	// newBroker is NewBroker or NewClusterBroker.
	newBroker func(rdb goredis.UniversalClient, prefix string) *Broker
	// crash kills the server holding channel and returns its restart.
	crash func(channel string) (restart func())
	// crashAll kills every server.
	crashAll func()
}

// redisDeployments starts a private redis-server and a 3-master cluster:
// every broker test runs on both.
func redisDeployments(t *testing.T) []redisDeployment {
	t.Helper()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	single := storetest.StartRedis(t)
	cluster := storetest.StartRedisCluster(t, 3)
	return []redisDeployment{
		{
			name: "single Redis",
			client: func(t *testing.T) goredis.UniversalClient {
				opt, err := goredis.ParseURL(single.URL())
				if err != nil {
					t.Fatal(err)
				}
				return goredis.NewClient(opt)
			},
			newBroker: func(rdb goredis.UniversalClient, prefix string) *Broker {
				return NewBroker(rdb, prefix, nil, quiet)
			},
			crash:    func(string) func() { single.Stop(); return single.Start },
			crashAll: single.Stop,
		},
		{
			name: "Redis Cluster",
			client: func(t *testing.T) goredis.UniversalClient {
				return goredis.NewClusterClient(&goredis.ClusterOptions{Addrs: cluster.Addrs()})
			},
			newBroker: func(rdb goredis.UniversalClient, prefix string) *Broker {
				return NewClusterBroker(rdb.(*goredis.ClusterClient), prefix, nil, quiet)
			},
			crash: func(channel string) func() {
				n := cluster.Nodes[cluster.NodeFor(channel)]
				n.Stop()
				return func() { n.Start(); cluster.WaitOK() }
			},
			crashAll: func() {
				for _, n := range cluster.Nodes {
					n.Stop()
				}
			},
		},
	}
}

// start runs a broker of d with a recorder as its handler.
func (d redisDeployment) start(t *testing.T, prefix string) (*Broker, *recorder) {
	t.Helper()
	rdb := d.client(t)
	t.Cleanup(func() { rdb.Close() })
	b := d.newBroker(rdb, prefix)
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
	for _, d := range redisDeployments(t) {
		t.Run(d.name, func(t *testing.T) {
			prefix := "t" + storetest.RandomSuffix() + ":"
			pub, _ := d.start(t, prefix)
			sub, rec := d.start(t, prefix)
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
			time.Sleep(100 * time.Millisecond)               // the UNSUBSCRIBE reaches Redis before the publish that must not arrive
			pub.Publish(ctx, testEvent("availability:a", 8)) //nolint:errcheck
			time.Sleep(200 * time.Millisecond)
			if evs, _ := rec.snapshot(); len(evs) != 1 {
				t.Fatalf("an unsubscribed topic was still delivered")
			}
			// Subscribing again after the shard emptied works (on a cluster
			// the shard's connection was dropped and is made anew).
			if err := sub.Subscribe(ctx, "availability:a"); err != nil {
				t.Fatal(err)
			}
			waitFor(t, 5*time.Second, "second confirmation", func() bool { _, s := rec.snapshot(); return s["availability:a"] == 2 })
			pub.Publish(ctx, testEvent("availability:a", 9)) //nolint:errcheck
			waitFor(t, 5*time.Second, "delivery after resubscribing", func() bool { evs, _ := rec.snapshot(); return len(evs) == 2 })
		})
	}
}

func TestRedisBrokerResubscribesAndSignalsAfterRedisRestarts(t *testing.T) {
	for _, d := range redisDeployments(t) {
		t.Run(d.name, func(t *testing.T) {
			pub, _ := d.start(t, "p:")
			sub, rec := d.start(t, "p:")
			ctx := context.Background()
			if err := sub.Subscribe(ctx, "user:u"); err != nil {
				t.Fatal(err)
			}
			waitFor(t, 5*time.Second, "first confirmation", func() bool { _, s := rec.snapshot(); return s["user:u"] == 1 })

			restart := d.crash(sub.Channel("user:u"))
			if err := pub.Publish(ctx, testEvent("user:u", 1)); err == nil {
				t.Fatal("publish to a dead Redis reported success; the relay would never retry it")
			}
			restart()
			// The handler hears of the new subscription, so the hub can resync.
			waitFor(t, 20*time.Second, "re-subscription after restart", func() bool { _, s := rec.snapshot(); return s["user:u"] >= 2 })
			waitFor(t, 10*time.Second, "delivery after restart", func() bool {
				pub.Publish(ctx, testEvent("user:u", 2)) //nolint:errcheck
				evs, _ := rec.snapshot()
				return len(evs) > 0
			})
		})
	}
}

func TestRedisBrokerBatchPublishesInOrderAndReportsEachFailure(t *testing.T) {
	for _, d := range redisDeployments(t) {
		t.Run(d.name, func(t *testing.T) {
			pub, _ := d.start(t, "b:")
			sub, rec := d.start(t, "b:")
			ctx := context.Background()
			topics := []string{"availability:a", "availability:c", "availability:d"} // on a cluster, several shards
			for _, tp := range topics {
				sub.Subscribe(ctx, tp) //nolint:errcheck
			}
			waitFor(t, 5*time.Second, "subscriptions", func() bool {
				_, s := rec.snapshot()
				return s[topics[0]] == 1 && s[topics[1]] == 1 && s[topics[2]] == 1
			})
			var batch []market.Event
			for seq := int64(1); seq <= 3; seq++ {
				for _, tp := range append(topics, "availability:b") {
					batch = append(batch, testEvent(tp, seq))
				}
			}
			for i, err := range pub.PublishBatch(ctx, batch) {
				if err != nil {
					t.Fatalf("event %d: %v", i, err)
				}
			}
			waitFor(t, 5*time.Second, "nine events", func() bool { evs, _ := rec.snapshot(); return len(evs) == 9 })
			evs, _ := rec.snapshot()
			next := map[string]int64{}
			for _, ev := range evs {
				if ev.Topic == "availability:b" || ev.Seq != next[ev.Topic]+1 {
					t.Fatalf("got %s#%d after #%d; want each subscribed topic's seqs in order", ev.Topic, ev.Seq, next[ev.Topic])
				}
				next[ev.Topic] = ev.Seq
			}
			d.crashAll()
			for i, err := range pub.PublishBatch(ctx, batch) {
				if err == nil {
					t.Fatalf("event %d reported published with Redis down", i)
				}
			}
		})
	}
}
