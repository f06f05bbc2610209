package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"instainstru/store"
	"instainstru/store/storetest"
)

// TestPoolCollectorReportsConnectionsAndWaitsOfAnExhaustedPool holds the
// only connection of a one-connection pool while a second caller waits, and
// reads the collector as Prometheus would.
func TestPoolCollectorReportsConnectionsAndWaitsOfAnExhaustedPool(t *testing.T) {
	t.Parallel()
	cfg, err := pgxpool.ParseConfig(storetest.NewDatabaseURL(t))
	if err != nil {
		t.Fatal(err)
	}
	cfg.MaxConns = 1
	ctx := context.Background()
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	reg := prometheus.NewRegistry()
	reg.MustRegister(store.NewPoolCollectorForTest(pool))

	first, err := pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	const held = 200 * time.Millisecond
	got := make(chan *pgxpool.Conn)
	go func() {
		c, err := pool.Acquire(ctx)
		if err != nil {
			t.Error(err)
		}
		got <- c
	}()
	time.Sleep(held) // the second acquire waits this long: the wait histogram must record it
	first.Release()
	second := <-got
	defer second.Release()

	values := map[string]float64{}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		m := mf.GetMetric()[0]
		values[mf.GetName()] = m.GetGauge().GetValue() + m.GetCounter().GetValue()
	}
	want := map[string]float64{
		"instainstru_pg_pool_acquired_conns": 1,
		"instainstru_pg_pool_idle_conns":     0,
		"instainstru_pg_pool_total_conns":    1,
		"instainstru_pg_pool_max_conns":      1,
	}
	for name, v := range want {
		if values[name] != v {
			t.Errorf("%s = %v, want %v", name, values[name], v)
		}
	}
	// The waiter waited about as long as the first connection was held.
	if w := values["instainstru_pg_pool_acquire_wait_seconds_total"]; w < 0.5*held.Seconds() || w > 10*held.Seconds() {
		t.Errorf("acquire wait %vs, want about %v", w, held)
	}
	if len(values) != 5 {
		t.Errorf("collector exported %d series, want 5: %v", len(values), values)
	}
}
