package node

import (
	"context"
	"log/slog"
	"time"

	"instainstru/market"
)

// Lesson completion defaults.
const (
	DefaultLessonCompletionInterval = time.Minute
	defaultLessonCompletionBatch    = 200
)

// lessonStore is what the completion loop needs from the store.
type lessonStore interface {
	CompleteLessons(ctx context.Context, now time.Time, limit int) ([]market.Booking, error)
}

// LessonCompleter marks confirmed lessons that have ended `completed`,
// on a plain ticker, in bounded batches (one transaction each, events
// through the outbox; the store publishes them).
// Every node may run one: the store skips rows another node holds.
// (Meant to move to a River periodic job once River is in.)
type LessonCompleter struct {
	Store    lessonStore
	Interval time.Duration // between passes; default DefaultLessonCompletionInterval
	Batch    int           // bookings per transaction; default 200
	Now      func() time.Time
	Log      *slog.Logger
}

// Run completes lessons every Interval until ctx ends.
func (lc *LessonCompleter) Run(ctx context.Context) {
	interval := lc.Interval
	if interval <= 0 {
		interval = DefaultLessonCompletionInterval
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if _, err := lc.RunOnce(ctx); err != nil && ctx.Err() == nil {
				lc.log().Error("lesson completion", "err", err)
			}
		}
	}
}

// RunOnce completes every lesson that has ended, batch after batch, and
// returns how many it completed. It stops at the first short batch, so a
// pass is bounded by what was due when it started plus one batch.
func (lc *LessonCompleter) RunOnce(ctx context.Context) (int, error) {
	batch := lc.Batch
	if batch <= 0 {
		batch = defaultLessonCompletionBatch
	}
	total := 0
	for ctx.Err() == nil {
		now := time.Now()
		if lc.Now != nil {
			now = lc.Now()
		}
		done, err := lc.Store.CompleteLessons(ctx, now, batch)
		if err != nil {
			return total, err
		}
		total += len(done)
		if len(done) < batch {
			break
		}
	}
	if total > 0 {
		lc.log().Info("lessons completed", "count", total)
	}
	return total, nil
}

func (lc *LessonCompleter) log() *slog.Logger {
	if lc.Log != nil {
		return lc.Log
	}
	return slog.Default()
}
