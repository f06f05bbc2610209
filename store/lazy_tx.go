package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// lazyBegin begins transactions on one admitted connection without a
// round trip of their own: BEGIN rides at the head of the transaction's
// first batch (one pipeline, one Sync), as snapshotBatch does for reads. A
// schedule write's first batch takes the schedule lock, so every round trip
// saved is time the lock is not held waiting for the node (docs/performance.md).
type lazyBegin struct{ conn *pgxpool.Conn }

// Begin returns a transaction that has not been sent yet.
func (l lazyBegin) Begin(context.Context) (pgx.Tx, error) {
	return &lazyTx{conn: l.conn.Conn()}, nil
}

// lazyTx is a pgx.Tx whose BEGIN is sent with its first statement: inside
// the first batch, or just before a first single statement. Commit and
// Rollback of a transaction that never sent anything send nothing. If the
// connection is returned to the pool still inside a transaction (a failed
// Rollback), the pool closes it rather than reuse it.
type lazyTx struct {
	conn   *pgx.Conn
	begun  bool
	closed bool
}

var errTxClosed = pgx.ErrTxClosed

// begin sends BEGIN on its own, for a first statement that is not a batch.
func (t *lazyTx) begin(ctx context.Context) error {
	if t.closed {
		return errTxClosed
	}
	if t.begun {
		return nil
	}
	if _, err := t.conn.Exec(ctx, "begin"); err != nil {
		return err
	}
	t.begun = true
	return nil
}

// SendBatch sends b, led by BEGIN when it is the transaction's first
// statement. The BEGIN's own result is read here, so the caller's results
// line up with its queries.
func (t *lazyTx) SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults {
	if t.closed {
		return failedBatch{errTxClosed}
	}
	if t.begun {
		return t.conn.SendBatch(ctx, b)
	}
	full := &pgx.Batch{QueuedQueries: make([]*pgx.QueuedQuery, 0, len(b.QueuedQueries)+1)}
	full.Queue("begin")
	full.QueuedQueries = append(full.QueuedQueries, b.QueuedQueries...)
	t.begun = true // sent: whatever follows, the session may be in a transaction
	br := t.conn.SendBatch(ctx, full)
	if _, err := br.Exec(); err != nil {
		br.Close() //nolint:errcheck // the BEGIN's error is the one to report
		return failedBatch{err}
	}
	return br
}

// Commit commits (nothing to send when nothing was); a transaction that
// failed answers ROLLBACK to COMMIT, which is pgx.ErrTxCommitRollback.
func (t *lazyTx) Commit(ctx context.Context) error {
	if t.closed {
		return errTxClosed
	}
	t.closed = true
	if !t.begun {
		return nil
	}
	tag, err := t.conn.Exec(ctx, "commit")
	if err != nil {
		return err
	}
	if tag.String() == "ROLLBACK" {
		return pgx.ErrTxCommitRollback
	}
	return nil
}

// Rollback rolls back; after Commit or Rollback it answers ErrTxClosed, as
// pgx's transactions do (inTx defers it after a commit).
func (t *lazyTx) Rollback(ctx context.Context) error {
	if t.closed {
		return errTxClosed
	}
	t.closed = true
	if !t.begun {
		return nil
	}
	if _, err := t.conn.Exec(ctx, "rollback"); err != nil {
		return fmt.Errorf("rollback: %w", err)
	}
	return nil
}

// Exec, Query and QueryRow as a transaction's first statement send BEGIN
// with it, in a two-statement batch.
func (t *lazyTx) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	if t.closed || t.begun {
		if t.closed {
			return pgconn.CommandTag{}, errTxClosed
		}
		return t.conn.Exec(ctx, sql, args...)
	}
	b := &pgx.Batch{}
	b.Queue(sql, args...)
	br := t.SendBatch(ctx, b)
	tag, err := br.Exec()
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	return tag, err
}

func (t *lazyTx) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	if t.closed || t.begun {
		if t.closed {
			return nil, errTxClosed
		}
		return t.conn.Query(ctx, sql, args...)
	}
	b := &pgx.Batch{}
	b.Queue(sql, args...)
	br := t.SendBatch(ctx, b)
	rows, err := br.Query()
	if err != nil {
		br.Close() //nolint:errcheck // err is the one to report
		return nil, err
	}
	return &batchRows{Rows: rows, br: br}, nil
}

func (t *lazyTx) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	rows, err := t.Query(ctx, sql, args...)
	if err != nil {
		return failedRow{err}
	}
	return rowOf{rows}
}

// batchRows are the rows of a transaction's first statement: closing them
// also reads the end of their batch, so the connection is free again.
type batchRows struct {
	pgx.Rows
	br     pgx.BatchResults
	closed bool
}

func (r *batchRows) Close() {
	r.Rows.Close()
	if !r.closed {
		r.closed = true
		r.br.Close() //nolint:errcheck // Err reports the rows' error
	}
}

func (r *batchRows) Next() bool {
	if r.Rows.Next() {
		return true
	}
	r.Close()
	return false
}

// rowOf is QueryRow's row over Query's rows (pgx's own is not exported):
// the first row, or pgx.ErrNoRows.
type rowOf struct{ rows pgx.Rows }

func (r rowOf) Scan(dest ...any) error {
	defer r.rows.Close()
	if !r.rows.Next() {
		if err := r.rows.Err(); err != nil {
			return err
		}
		return pgx.ErrNoRows
	}
	if err := r.rows.Scan(dest...); err != nil {
		return err
	}
	r.rows.Close()
	return r.rows.Err()
}

func (t *lazyTx) CopyFrom(ctx context.Context, table pgx.Identifier, cols []string, src pgx.CopyFromSource) (int64, error) {
	if err := t.begin(ctx); err != nil {
		return 0, err
	}
	return t.conn.CopyFrom(ctx, table, cols, src)
}

func (t *lazyTx) Prepare(ctx context.Context, name, sql string) (*pgconn.StatementDescription, error) {
	return t.conn.Prepare(ctx, name, sql)
}

// Begin (a savepoint) is not used by the schedule writers.
func (t *lazyTx) Begin(context.Context) (pgx.Tx, error) {
	return nil, errors.New("store: nested transactions are not supported on a schedule write")
}

func (t *lazyTx) LargeObjects() pgx.LargeObjects { return pgx.LargeObjects{} }

func (t *lazyTx) Conn() *pgx.Conn { return t.conn }
