package redis

import (
	"context"
	"testing"
	"time"

	"instainstru/store/storetest"
)

func TestTicketsAreRedeemedOnceUnderThePrefix(t *testing.T) {
	url, prefix := storetest.SharedRedis(t)
	rdb := newBoundedClient(t, url)
	tk := NewTickets(rdb, prefix)
	ctx := context.Background()
	if err := tk.Put(ctx, "abc", []byte(`{"user_id":"u1"}`), 30*time.Second); err != nil {
		t.Fatal(err)
	}
	if ttl := rdb.TTL(ctx, prefix+"wsticket:abc").Val(); ttl <= 0 || ttl > 30*time.Second {
		t.Fatalf("TTL of %swsticket:abc is %v, want up to 30s", prefix, ttl)
	}
	v, ok, err := tk.Take(ctx, "abc")
	if err != nil || !ok || string(v) != `{"user_id":"u1"}` {
		t.Fatalf("first Take: %q %v %v", v, ok, err)
	}
	if v, ok, err := tk.Take(ctx, "abc"); err != nil || ok || v != nil {
		t.Fatalf("second Take: %q %v %v; want nothing (single use)", v, ok, err)
	}
	if _, ok, err := tk.Take(ctx, "never-issued"); err != nil || ok {
		t.Fatalf("Take of an unknown id: %v %v", ok, err)
	}
}

func TestTicketsAndPingFailPromptlyOnAStalledRedis(t *testing.T) {
	srv := storetest.StartRedis(t)
	rdb := newBoundedClient(t, srv.URL())
	tk, p := NewTickets(rdb, "t:"), NewPinger(rdb)
	ctx := context.Background()
	if err := p.Ping(ctx); err != nil {
		t.Fatalf("ping a live Redis: %v", err)
	}
	srv.Pause()
	defer srv.Resume()
	start := time.Now()
	if err := tk.Put(ctx, "x", []byte("{}"), time.Minute); err == nil {
		t.Fatal("Put on a paused Redis succeeded")
	}
	if _, _, err := tk.Take(ctx, "x"); err == nil {
		t.Fatal("Take on a paused Redis succeeded")
	}
	if took := time.Since(start); took > 2*CallTimeout+300*time.Millisecond {
		t.Fatalf("Put and Take took %v on a paused Redis; each is bounded by %v", took, CallTimeout)
	}
	pctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	if err := p.Ping(pctx); err == nil {
		t.Fatal("Ping on a paused Redis succeeded")
	}
}
