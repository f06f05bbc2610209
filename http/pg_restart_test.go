package http

import (
	"context"
	"fmt"
	nethttp "net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"instainstru/market"
	"instainstru/store/storetest"
)

// Postgres dropping every connection of the node (what a restart or an
// admin's pg_terminate_backend does) gives 503 with Retry-After or success,
// never 500, and the node recovers by itself.
func TestTerminatedPostgresBackendsGive503NotA500(t *testing.T) {
	db := storetest.NewDB(t)
	n := startNode(t, db, "", "", "solo")
	date := futureDate(4)
	token, instructor, _ := n.bookableInstructor(db, date)

	cfg := storetest.Pool(db).Config().ConnConfig
	killer, err := pgx.ConnectConfig(context.Background(), cfg.Copy())
	if err != nil {
		t.Fatal(err)
	}
	defer killer.Close(context.Background())
	terminate := func() int {
		var k int
		if err := killer.QueryRow(context.Background(), `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
			WHERE datname = current_database() AND pid <> pg_backend_pid()`).Scan(&k); err != nil {
			t.Errorf("terminate: %v", err)
		}
		return k
	}

	var (
		mu       sync.Mutex
		statuses = map[int]int{}
		bad      []string
		calls    atomic.Int64
	)
	do := func(method, path string, body any) {
		req := fmt.Sprint(method, " ", path)
		var e apiError
		st := n.call(method, path, token, body, &e)
		mu.Lock()
		defer mu.Unlock()
		statuses[st]++
		calls.Add(1)
		if st >= 500 && (st != nethttp.StatusServiceUnavailable || e.Error.Code != market.EUNAVAILABLE) {
			bad = append(bad, fmt.Sprintf("%s → %d %s", req, st, e.Error.Code))
		}
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				if w%2 == 0 {
					start := fmt.Sprintf("%02d:%02d", 13+w, (i%4)*15)
					do("PUT", "/api/v1/instructors/me/availability/week", map[string]any{
						"week_start": mondayAfter(14).Format(time.DateOnly),
						"days":       []map[string]any{{"date": mondayAfter(14).Format(time.DateOnly), "windows": []map[string]string{{"start": start, "end": "20:00"}}}},
					})
				} else {
					do("GET", "/api/v1/instructors/"+instructor+"/availability?from="+date+"&to="+date, nil)
					do("GET", "/api/v1/auth/me", nil)
				}
			}
		}()
	}
	killed := 0
	for range 5 {
		time.Sleep(150 * time.Millisecond) // pacing: kill the backends while bookings are in flight
		killed += terminate()
	}
	time.Sleep(300 * time.Millisecond)
	close(stop)
	wg.Wait()
	t.Logf("terminated %d backends over %d requests: statuses %v", killed, calls.Load(), statuses)
	if killed == 0 {
		t.Fatal("no backend was terminated: the drill did not happen")
	}
	if len(bad) > 0 {
		t.Fatalf("%d requests answered 5xx other than 503 service_unavailable, e.g. %v", len(bad), bad[:min(len(bad), 5)])
	}
	// Recovered: the next requests succeed on fresh connections.
	if st := n.call("GET", "/api/v1/auth/me", token, nil, nil); st != 200 {
		t.Fatalf("after the drill: %d", st)
	}
}

// A 503 from a lost database connection says when to retry.
func TestLostDatabaseConnectionAnswers503WithRetryAfter(t *testing.T) {
	db := storetest.NewDB(t)
	n := startNode(t, db, "", "", "solo")
	token, _ := n.register(market.RoleStudent)
	db.Close() // every later query fails to get a connection
	req, _ := nethttp.NewRequest("GET", n.base+"/api/v1/auth/me", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := nethttp.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 503 || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("status %d, Retry-After %q; want 503 with Retry-After", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
}
