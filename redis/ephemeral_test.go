package redis

import (
	"context"
	"testing"
	"time"

	"instainstru/store/storetest"
)

// An ephemeral frame reaches the subscribed node's Handler.Ephemeral, as
// sent and never as an event, and only on the topics it subscribed.
func TestRedisBrokerCarriesEphemeralFramesBesideEvents(t *testing.T) {
	for _, d := range redisDeployments(t) {
		t.Run(d.name, func(t *testing.T) {
			prefix := "t" + storetest.RandomSuffix() + ":"
			pub, _ := d.start(t, prefix)
			sub, rec := d.start(t, prefix)
			ctx := context.Background()
			if err := sub.Subscribe(ctx, "user:u"); err != nil {
				t.Fatal(err)
			}
			waitFor(t, 5*time.Second, "subscription confirmation", func() bool { _, s := rec.snapshot(); return s["user:u"] == 1 })
			if err := pub.PublishEphemeral(ctx, "user:v", []byte(`{"type":"typing","n":0}`)); err != nil {
				t.Fatal(err)
			}
			if err := pub.PublishEphemeral(ctx, "user:u", []byte(`{"type":"typing","n":1}`)); err != nil {
				t.Fatal(err)
			}
			if err := pub.Publish(ctx, testEvent("user:u", 1)); err != nil {
				t.Fatal(err)
			}
			if err := pub.PublishEphemeral(ctx, "user:u", []byte(`{bad`)); err == nil {
				t.Fatal("a frame that is not JSON was published")
			}
			waitFor(t, 5*time.Second, "frame and event", func() bool {
				evs, _ := rec.snapshot()
				return len(evs) == 1 && len(rec.ephemerals()) == 1
			})
			if got := rec.ephemerals()[0]; got != `user:u {"type":"typing","n":1}` {
				t.Fatalf("ephemeral = %q", got)
			}
			if evs, _ := rec.snapshot(); evs[0].Seq != 1 {
				t.Fatalf("the event arrived as %+v", evs[0])
			}
		})
	}
}
