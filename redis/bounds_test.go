package redis

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"instainstru/store/storetest"
)

// newBoundedClient is a client configured as the node's (cmd/hubd/node):
// it honours context deadlines.
func newBoundedClient(t *testing.T, url string) goredis.UniversalClient {
	t.Helper()
	opt, err := goredis.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	opt.ContextTimeoutEnabled = true
	c := goredis.NewClient(opt)
	t.Cleanup(func() { c.Close() })
	return c
}

func TestLimiterStorageStoresExpiresAndDeletes(t *testing.T) {
	url, prefix := storetest.SharedRedis(t)
	rdb := newBoundedClient(t, url)
	s := NewLimiterStorage(rdb)
	key := prefix + "ratelimit:test:1"
	if v, err := s.Get(key); v != nil || err != nil {
		t.Fatalf("Get of a missing key: %q, %v; want nil, nil", v, err)
	}
	if err := s.Set(key, []byte("3"), time.Minute); err != nil {
		t.Fatal(err)
	}
	if v, err := s.Get(key); err != nil || !bytes.Equal(v, []byte("3")) {
		t.Fatalf("Get after Set: %q, %v", v, err)
	}
	if ttl := rdb.TTL(context.Background(), key).Val(); ttl <= 0 || ttl > time.Minute {
		t.Fatalf("TTL %v, want the minute Set gave", ttl)
	}
	if err := s.Delete(key); err != nil {
		t.Fatal(err)
	}
	if n := rdb.Exists(context.Background(), key).Val(); n != 0 {
		t.Fatalf("key still exists after Delete")
	}
	if err := s.Reset(); err == nil {
		t.Fatal("Reset must refuse: it would flush the whole Redis DB")
	}
	if err := s.Close(); err != nil || rdb.Ping(context.Background()).Err() != nil {
		t.Fatalf("Close must leave the shared client open: %v", err)
	}
}

// A stalled Redis costs one limiter call CallTimeout; the breaker then
// answers at once for limiterBreakerOpen, and calls reach Redis again after.
func TestLimiterStorageBoundsAStalledRedisAndOpensTheBreaker(t *testing.T) {
	srv := storetest.StartRedis(t)
	s := NewLimiterStorage(newBoundedClient(t, srv.URL()))
	if err := s.Set("k", []byte("1"), time.Minute); err != nil {
		t.Fatal(err)
	}
	srv.Pause()
	paused := true
	t.Cleanup(func() {
		if paused {
			srv.Resume()
		}
	})
	start := time.Now()
	_, err := s.Get("k")
	if took := time.Since(start); err == nil || took > CallTimeout+200*time.Millisecond {
		t.Fatalf("Get on a paused Redis: %v after %v; want an error within about %v", err, took, CallTimeout)
	}
	start = time.Now()
	if err := s.Set("k", []byte("2"), time.Minute); !errors.Is(err, errLimiterBreakerOpen) || time.Since(start) > 20*time.Millisecond {
		t.Fatalf("Set right after a failure: %v after %v; want the open breaker at once", err, time.Since(start))
	}
	srv.Resume()
	paused = false
	time.Sleep(limiterBreakerOpen + 100*time.Millisecond)
	if v, err := s.Get("k"); err != nil || string(v) != "1" {
		t.Fatalf("Get after the breaker closed: %q, %v", v, err)
	}
}
