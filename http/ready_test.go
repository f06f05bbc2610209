package http

import (
	"fmt"
	hubredis "instainstru/redis"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"instainstru/store/storetest"
)

// TestReadyAnswersWithin200msWhateverHangs: a Redis or a Postgres that
// accepts connections and never answers (the slowest failure) costs /ready
// at most readyPingTimeout; a hung Redis leaves the node ready (degraded),
// a hung Postgres does not.
func TestReadyAnswersWithin200msWhateverHangs(t *testing.T) {
	db := storetest.NewDB(t)
	silentPG := unreachableDB(t, fmt.Sprintf("postgres://postgres@%s/none?sslmode=disable&connect_timeout=5", opsSilentListener(t)))
	for _, tc := range []struct {
		name   string
		deps   Deps
		status int
	}{
		{"redis hangs", Deps{DB: db, Redis: hubredis.NewPinger(newOpsRedisClient(t, "redis://"+opsSilentListener(t)+"/0"))}, 200},
		{"postgres hangs", Deps{DB: silentPG, Redis: hubredis.NewPinger(newOpsRedis(t))}, 503},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.deps.Registry = prometheus.NewRegistry()
			_, base := startOpsServer(t, Config{NodeID: "node-r"}, tc.deps)
			opsGet(t, base+"/health", nil) // the connection is open: time /ready alone
			var worst time.Duration
			for range 3 {
				start := time.Now()
				status, _, body := opsGet(t, base+"/ready", nil)
				worst = max(worst, time.Since(start))
				if status != tc.status {
					t.Fatalf("/ready = %d %s, want %d", status, body, tc.status)
				}
			}
			if worst > 200*time.Millisecond {
				t.Fatalf("/ready took %v, want ≤ 200ms", worst)
			}
		})
	}
}
