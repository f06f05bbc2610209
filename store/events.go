package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/jackc/pgx/v5"

	"instainstru/market"
)

// CommitEvents writes evs in a transaction of their own and publishes them
// after commit, like every write; for events that change no row (tools,
// tests of delivery).
func (db *DB) CommitEvents(ctx context.Context, evs []market.NewEvent) ([]market.Event, error) {
	var out []market.Event
	err := db.transact(ctx, func(tx pgx.Tx) error {
		var err error
		out, err = appendEvents(ctx, tx, evs)
		return err
	})
	return out, err
}

// errNoOutbox is a programming error: events written outside inTx would
// commit without ever reaching the publisher.
var errNoOutbox = errors.New("store: events appended outside inTx")

// appendEvents writes events in tx (the transactional outbox) and returns
// them with their seq and commit-time stamp; inTx publishes them after
// commit. Call it last in the transaction: the topic_seqs row lock it takes
// is held until commit, which is what makes seq gapless and ordered per
// topic. Topics are locked in sorted order so two transactions touching the
// same topics cannot deadlock.
func appendEvents(ctx context.Context, tx pgx.Tx, evs []market.NewEvent) ([]market.Event, error) {
	// One round trip for all events: a batch runs its statements in order.
	batch := &pgx.Batch{}
	q, err := queueEvents(tx, batch, evs)
	if err != nil {
		return nil, err
	}
	if err := tx.SendBatch(ctx, batch).Close(); err != nil {
		return nil, fmt.Errorf("append events: %w", err)
	}
	return q.done(), nil
}

// queuedEvents are events queued in a caller's batch (queueEvents); done
// hands them to the transaction's publisher once the batch succeeded.
type queuedEvents struct {
	otx *outboxTx
	out []market.Event
}

// queueEvents is appendEvents as statements queued at the end of b, so a
// write sends its rows and its events in one round trip (the same rules
// hold: queue them last; the topic_seqs row locks are held until commit).
// After b's results are closed without error, call done.
func queueEvents(tx pgx.Tx, b *pgx.Batch, evs []market.NewEvent) (*queuedEvents, error) {
	otx, ok := tx.(*outboxTx)
	if !ok {
		return nil, errNoOutbox
	}
	idx := make([]int, len(evs))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return evs[idx[a]].Topic < evs[idx[b]].Topic })
	q := &queuedEvents{otx: otx, out: make([]market.Event, len(evs))}
	for _, i := range idx {
		ne := evs[i]
		data, err := json.Marshal(ne.Data)
		if err != nil {
			return nil, fmt.Errorf("encode %s: %w", ne.Type, err)
		}
		ev := &q.out[i]
		*ev = market.Event{Topic: ne.Topic, Type: ne.Type, Data: data}
		b.Queue(appendEventSQL, ne.Topic, ne.Type, data).QueryRow(func(row pgx.Row) error {
			if err := row.Scan(&ev.ID, &ev.Seq, &ev.TS); err != nil {
				return fmt.Errorf("append event %s: %w", ev.Type, err)
			}
			return nil
		})
	}
	return q, nil
}

// done records the queued events for publishing after commit.
func (q *queuedEvents) done() []market.Event {
	q.otx.events = append(q.otx.events, q.out...)
	return q.out
}

const appendEventSQL = `
			WITH s AS (
				INSERT INTO topic_seqs (topic, seq) VALUES ($1, 1)
				ON CONFLICT (topic) DO UPDATE SET seq = topic_seqs.seq + 1
				RETURNING seq)
			INSERT INTO events (topic, seq, type, payload)
			SELECT $1, s.seq, $2, $3 FROM s
			RETURNING id, seq, created_at`

// TopicSeq returns the current seq of topic (0 when nothing was published).
func (db *DB) TopicSeq(ctx context.Context, topic string) (int64, error) {
	var seq int64
	err := db.pool.QueryRow(ctx, `SELECT COALESCE((SELECT seq FROM topic_seqs WHERE topic=$1), 0)`, topic).Scan(&seq)
	return seq, err
}

// EventsAfter returns up to limit events of topic with seq > after, oldest
// first. It cannot tell a pruned range from an empty one: callers compare
// after with OldestSeq to decide on reset. Retention is enforced by the
// events retention job (RetentionEvents).
func (db *DB) EventsAfter(ctx context.Context, topic string, after int64, limit int) ([]market.Event, error) {
	rows, err := db.pool.Query(ctx, `
		SELECT id, topic, seq, type, payload, created_at FROM events
		WHERE topic=$1 AND seq > $2 ORDER BY seq LIMIT $3`, topic, after, limit)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, scanEvent)
}

// OldestSeq returns the smallest retained seq of topic, or 0 if none.
func (db *DB) OldestSeq(ctx context.Context, topic string) (int64, error) {
	var seq int64
	err := db.pool.QueryRow(ctx, `SELECT COALESCE(min(seq), 0) FROM events WHERE topic=$1`, topic).Scan(&seq)
	return seq, err
}

// Unpublished returns events committed but not marked published that are
// older than minAge (the fast path had its chance), oldest first.
func (db *DB) Unpublished(ctx context.Context, minAge time.Duration, limit int) ([]market.Event, error) {
	rows, err := db.pool.Query(ctx, `
		SELECT id, topic, seq, type, payload, created_at FROM events
		WHERE published_at IS NULL AND created_at < clock_timestamp() - make_interval(secs => $1)
		ORDER BY id LIMIT $2`, minAge.Seconds(), limit)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, scanEvent)
}

// OutboxLag returns the age of the oldest unpublished event (0 if none).
func (db *DB) OutboxLag(ctx context.Context) (time.Duration, error) {
	var secs float64
	err := db.pool.QueryRow(ctx, `
		SELECT COALESCE(EXTRACT(EPOCH FROM clock_timestamp() - min(created_at)), 0)
		FROM events WHERE published_at IS NULL`).Scan(&secs)
	return time.Duration(secs * float64(time.Second)), err
}

// MarkPublished records that the events with these ids reached the broker.
func (db *DB) MarkPublished(ctx context.Context, ids []int64) error {
	if len(ids) == 0 {
		return nil
	}
	_, err := db.pool.Exec(ctx, `UPDATE events SET published_at = clock_timestamp()
		WHERE id = ANY($1) AND published_at IS NULL`, ids)
	return err
}

// TryRelayLock takes the session-level advisory lock that makes one outbox
// relay active across nodes. The returned release func must be called; ok
// is false when another node holds it.
func (db *DB) TryRelayLock(ctx context.Context) (release func(), ok bool, err error) {
	conn, err := db.pool.Acquire(ctx)
	if err != nil {
		return nil, false, err
	}
	if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock(4242001)`).Scan(&ok); err != nil || !ok {
		conn.Release()
		return nil, false, err
	}
	return func() {
		conn.Exec(context.Background(), `SELECT pg_advisory_unlock(4242001)`) //nolint:errcheck
		conn.Release()
	}, true, nil
}

func scanEvent(row pgx.CollectableRow) (market.Event, error) {
	var e market.Event
	err := row.Scan(&e.ID, &e.Topic, &e.Seq, &e.Type, &e.Data, &e.TS)
	return e, err
}
