package redis

import (
	"context"
	"testing"
	"time"

	"instainstru/internal/eventually"
	"instainstru/realtime"
	"instainstru/store/storetest"
)

func topicPart(viewers ...string) realtime.PresenceTopic {
	return realtime.PresenceTopic{Local: len(viewers), Changed: true, Viewers: viewers, Count: true}
}

// Two instances' parts count as one set of distinct viewers; an instance
// that stops syncing stops counting once its TTL passes; Leave takes an
// instance out at once; online follows each instance's user set.
func TestRedisPresenceCountsDistinctViewersOverLiveInstances(t *testing.T) {
	const topic = "availability:aaaaaaaa-0000-0000-0000-000000000000"
	const ttl = 400 * time.Millisecond
	for _, d := range redisDeployments(t) {
		t.Run(d.name, func(t *testing.T) {
			rdb := d.client(t)
			t.Cleanup(func() { rdb.Close() })
			prefix := "t" + storetest.RandomSuffix() + ":"
			a, b := NewPresence(rdb, prefix, "node-a"), NewPresence(rdb, prefix, "node-b")
			ctx := context.Background()
			put := func(p *Presence, req realtime.PresenceSync) int {
				t.Helper()
				res, err := p.Sync(ctx, req, ttl)
				if err != nil {
					t.Fatal(err)
				}
				return res.Watching[topic]
			}
			put(a, realtime.PresenceSync{Topics: map[string]realtime.PresenceTopic{topic: topicPart("u:1", "u:2", "c:x")},
				UsersAdd: []string{"i1"}, Users: 1})
			if n := put(b, realtime.PresenceSync{Topics: map[string]realtime.PresenceTopic{topic: topicPart("u:2", "u:3")}}); n != 4 {
				t.Fatalf("count = %d, want 4 distinct (u:2 on both nodes counts once)", n)
			}
			if on, err := b.Online(ctx, []string{"i1", "i2"}); err != nil || !on["i1"] || on["i2"] {
				t.Fatalf("online = %v, %v; want i1 only", on, err)
			}
			// a stops syncing (a crash): b's count falls to its own part
			// once a's TTL has passed.
			keep := realtime.PresenceSync{Topics: map[string]realtime.PresenceTopic{topic: {Local: 2, Count: true}}}
			eventually.True(t, 5*time.Second, "node-a's viewers to stop counting after its TTL", func() bool { return put(b, keep) == 2 })
			if on, _ := b.Online(ctx, []string{"i1"}); on["i1"] {
				t.Fatal("i1 still online on a node that stopped syncing")
			}
			// a comes back, then leaves cleanly: at once.
			put(a, realtime.PresenceSync{Topics: map[string]realtime.PresenceTopic{topic: topicPart("u:9")}})
			if n := put(b, keep); n != 3 {
				t.Fatalf("count = %d, want 3", n)
			}
			if err := a.Leave(ctx, []string{topic}); err != nil {
				t.Fatal(err)
			}
			if n := put(b, keep); n != 2 {
				t.Fatalf("count = %d after node-a left, want 2", n)
			}
		})
	}
}

// A part the store lost (expired, Redis restarted) is reported, so the
// node writes it in full again.
func TestRedisPresenceReportsLostParts(t *testing.T) {
	url, prefix := storetest.SharedRedis(t)
	rdb := newBoundedClient(t, url)
	p := NewPresence(rdb, prefix, "node-a")
	ctx := context.Background()
	const topic = "availability:bbbbbbbb-0000-0000-0000-000000000000"
	if _, err := p.Sync(ctx, realtime.PresenceSync{Topics: map[string]realtime.PresenceTopic{topic: topicPart("u:1")},
		UsersAdd: []string{"i1"}, Users: 1}, time.Minute); err != nil {
		t.Fatal(err)
	}
	if err := rdb.Del(ctx, p.topicKey(topic, p.Instance()), p.usersKey(p.Instance())).Err(); err != nil {
		t.Fatal(err)
	}
	res, err := p.Sync(ctx, realtime.PresenceSync{Topics: map[string]realtime.PresenceTopic{topic: {Local: 1, Count: true}}, Users: 1}, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Lost) != 1 || res.Lost[0] != topic || !res.UsersLost || res.Watching[topic] != 0 {
		t.Fatalf("sync after the keys vanished = %+v", res)
	}
}
