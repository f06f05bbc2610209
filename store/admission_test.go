package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"instainstru/market"
	"instainstru/store"
	"instainstru/store/storetest"
)

func TestWriteThatCannotStartWithinItsBudgetIsRefusedAndChangesNothing(t *testing.T) {
	const budget = 50 * time.Millisecond
	tests := []struct {
		name  string
		block func(t *testing.T, db *store.DB, instructor string) (unblock func())
	}{
		{"instructor's turn held by a slow writer", func(t *testing.T, db *store.DB, instructor string) func() {
			release, err := db.HoldTurnForTest(context.Background(), instructor)
			noErr(t, err)
			return release
		}},
		{"every pool connection busy", func(t *testing.T, db *store.DB, _ string) func() {
			var release []func()
			for range int(storetest.Pool(db).Config().MaxConns) {
				c, err := storetest.Pool(db).Acquire(context.Background())
				noErr(t, err)
				release = append(release, c.Release)
			}
			return func() {
				for _, r := range release {
					r()
				}
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := newSchedWorld(t)
			w.db.SetAdmission(store.AdmissionConfig{MaxWait: budget})
			in, _ := w.instructor(market.DefaultTimezone)
			date := time.Now().AddDate(0, 0, 10).Format(time.DateOnly)
			unblock := tc.block(t, w.db, in)
			start := time.Now()
			w.rec.take() // only the next write's events count
			_, err := w.db.AddWindow(context.Background(), in, date, market.WindowInput{Start: "09:00", End: "10:00"}, time.Now)
			evs := w.rec.take()
			took := time.Since(start)
			unblock()
			if !errors.Is(err, market.ErrOverloaded) || market.ErrorCode(err) != market.EUNAVAILABLE {
				t.Fatalf("err = %v (code %s), want a service_unavailable ErrOverloaded", err, market.ErrorCode(err))
			}
			if took < budget || took > budget+400*time.Millisecond {
				t.Fatalf("refused after %v; want at the %v budget, not before and not much after", took, budget)
			}
			if len(evs) != 0 || w.count(`SELECT count(*) FROM availability_windows WHERE instructor_id = $1`, in) != 0 || w.seq(in) != 0 {
				t.Fatal("a refused write left a window or an event behind")
			}
			// Unblocked, the same write goes through.
			if _, err := w.db.AddWindow(context.Background(), in, date, market.WindowInput{Start: "09:00", End: "10:00"}, time.Now); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestWriteBehindAFullInstructorQueueIsRefusedAtOnce(t *testing.T) {
	w := newSchedWorld(t)
	w.db.SetAdmission(store.AdmissionConfig{TurnQueue: 1, MaxWait: 5 * time.Second})
	in, _ := w.instructor(market.DefaultTimezone)
	release, err := w.db.HoldTurnForTest(context.Background(), in)
	noErr(t, err)
	// One writer may queue behind the holder; it waits.
	queued := make(chan error, 1)
	date := time.Now().AddDate(0, 0, 10).Format(time.DateOnly)
	go func() {
		_, err := w.db.AddWindow(context.Background(), in, date, market.WindowInput{Start: "09:00", End: "10:00"}, time.Now)
		queued <- err
	}()
	time.Sleep(100 * time.Millisecond) // the writer reaches the admission queue before the clock starts
	start := time.Now()
	_, err = w.db.AddWindow(context.Background(), in, date, market.WindowInput{Start: "11:00", End: "12:00"}, time.Now)
	if !errors.Is(err, market.ErrOverloaded) || time.Since(start) > 100*time.Millisecond {
		release()
		t.Fatalf("second writer behind a full queue: err %v after %v; want refused at once", err, time.Since(start))
	}
	release()
	if err := <-queued; err != nil {
		t.Fatalf("the queued writer failed: %v", err)
	}
}
