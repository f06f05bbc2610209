package node

import (
	"context"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"instainstru/market"
)

// Lesson completion defaults.
const (
	DefaultLessonCompletionInterval = time.Minute
	defaultLessonCompletionBatch    = 200
)

// lessonStore is what lesson completion needs from the store.
type lessonStore interface {
	CompleteLessons(ctx context.Context, now time.Time, limit int) ([]market.Booking, error)
}

// LessonCompleter marks confirmed lessons that have ended `completed`, in
// bounded batches (one transaction each, events through the outbox; the
// store publishes them). The node runs it as a periodic job, once per
// LESSON_COMPLETION_INTERVAL across the cluster (upkeep.go).
type LessonCompleter struct {
	Store     lessonStore
	Batch     int // bookings per transaction; default 200
	Now       func() time.Time
	Log       *slog.Logger
	Completed prometheus.Counter // lessons completed; nil = not counted
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
		if lc.Completed != nil {
			lc.Completed.Add(float64(len(done)))
		}
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
