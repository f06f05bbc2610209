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

// queueEvents is appendEvents as one statement queued at the end of b, so
// a write sends its rows and its events in one round trip (the same rules
// hold: queue it last; the topic_seqs row locks are held until commit).
// After b's results are closed without error, call done.
//
// All events go in one statement (appendEventsSQL), not one per event: a
// booking writes ~4.5 events on 3–4 topics, and per-statement overhead was
// most of what the outbox cost per change.
func queueEvents(tx pgx.Tx, b *pgx.Batch, evs []market.NewEvent) (*queuedEvents, error) {
	otx, ok := tx.(*outboxTx)
	if !ok {
		return nil, errNoOutbox
	}
	q := &queuedEvents{otx: otx, out: make([]market.Event, len(evs))}
	if len(evs) == 0 {
		return q, nil
	}
	// Per topic, in byte order: how many seqs it takes. Per event: how far
	// before its topic's last new seq it falls (its rank from the end, in
	// the order of evs).
	count := map[string]int64{}
	for _, ne := range evs {
		count[ne.Topic]++
	}
	topics := make([]string, 0, len(count))
	for t := range count {
		topics = append(topics, t)
	}
	sort.Strings(topics)
	ns := make([]int64, len(topics))
	for i, t := range topics {
		ns[i] = count[t]
	}
	evTopics, backs := make([]string, len(evs)), make([]int64, len(evs))
	types, payloads := make([]string, len(evs)), make([]string, len(evs))
	for i, ne := range evs {
		data, err := json.Marshal(ne.Data)
		if err != nil {
			return nil, fmt.Errorf("encode %s: %w", ne.Type, err)
		}
		q.out[i] = market.Event{Topic: ne.Topic, Type: ne.Type, Data: data}
		count[ne.Topic]--
		evTopics[i], backs[i], types[i], payloads[i] = ne.Topic, count[ne.Topic], ne.Type, string(data)
	}
	b.Queue(appendEventsSQL, topics, ns, evTopics, backs, types, payloads).Query(func(rows pgx.Rows) error {
		// Rows come back in no promised order: a topic's events took
		// consecutive seqs in the order of evs, so the k-th smallest seq of
		// a topic is its k-th event.
		type row struct {
			id, seq int64
			ts      time.Time
		}
		got := map[string][]row{}
		var (
			r     row
			topic string
		)
		if _, err := pgx.ForEachRow(rows, []any{&r.id, &topic, &r.seq, &r.ts}, func() error {
			got[topic] = append(got[topic], r)
			return nil
		}); err != nil {
			return fmt.Errorf("append events: %w", err)
		}
		for topic, rs := range got {
			sort.Slice(rs, func(a, b int) bool { return rs[a].seq < rs[b].seq })
			k := 0
			for i := range q.out {
				if ev := &q.out[i]; ev.Topic == topic && k < len(rs) {
					ev.ID, ev.Seq, ev.TS = rs[k].id, rs[k].seq, rs[k].ts
					k++
				}
			}
		}
		for i := range q.out {
			if q.out[i].Seq == 0 {
				return fmt.Errorf("append event %s: no row returned", q.out[i].Type)
			}
		}
		return nil
	})
	return q, nil
}

// done records the queued events for publishing after commit.
func (q *queuedEvents) done() []market.Event {
	q.otx.events = append(q.otx.events, q.out...)
	return q.out
}

// appendEventsSQL appends events in one statement: one topic_seqs upsert
// row per distinct topic ($1, sorted in Go) taking $2 seqs at once, the
// rows locked in the order given (ORDER BY ord) so that two transactions
// lock shared topics in the same order and cannot deadlock; then each event
// ($3 topic, $4 rank from its topic's end, $5 type, $6 JSON payload) gets
// its topic's new seq minus its rank.
const appendEventsSQL = `
	WITH s AS (
		INSERT INTO topic_seqs AS ts (topic, seq)
		SELECT t.topic, t.n FROM unnest($1::text[], $2::bigint[]) WITH ORDINALITY AS t(topic, n, ord)
		ORDER BY t.ord
		ON CONFLICT (topic) DO UPDATE SET seq = ts.seq + EXCLUDED.seq
		RETURNING topic, seq)
	INSERT INTO events (topic, seq, type, payload)
	SELECT e.topic, s.seq - e.back, e.type, e.payload::jsonb
	FROM unnest($3::text[], $4::bigint[], $5::text[], $6::text[]) AS e(topic, back, type, payload)
	JOIN s ON s.topic = e.topic
	RETURNING id, topic, seq, created_at`

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

func scanEvent(row pgx.CollectableRow) (market.Event, error) {
	var e market.Event
	err := row.Scan(&e.ID, &e.Topic, &e.Seq, &e.Type, &e.Data, &e.TS)
	return e, err
}
