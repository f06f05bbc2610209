// Package jobs is the hub's background work queue: River (jobs in Postgres)
// behind a few names of ours. Jobs are inserted in the transaction of the
// change that causes them (InsertTx), so a rolled-back change never runs its
// jobs and a committed one always does, whichever node commits, crashes or
// works. Every node may run workers; River coordinates them through row
// locks in Postgres, and a job whose worker died is rescued and run again.
//
// Nothing outside this package imports River: the store inserts the job
// kinds declared here, and the notify package handles them through Handlers.
package jobs

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"
)

// Queue names.
const (
	QueueEmail     = "email"
	QueueReminders = "reminders"
)

// EmailMaxAttempts is how often an email is tried before its job is
// discarded (and counted as failed). With River's default backoff (n⁴
// seconds after the n-th failure) the last try is about 11 hours after the first.
const EmailMaxAttempts = 12

// Email asks a worker to send the queued email row EmailID (queued by store in the transaction that caused it).
type Email struct {
	EmailID string `json:"email_id"`
}

// Kind names the job in river_job.kind.
func (Email) Kind() string { return "email" }

// InsertOpts makes one job per email row: inserting it twice is a no-op.
func (Email) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueEmail, MaxAttempts: EmailMaxAttempts, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// Reminder asks a worker to remind UserID of BookingID Hours before it
// starts. StartsAt is the lesson's start when the reminder was scheduled:
// a reminder whose lesson moved or was cancelled does nothing.
type Reminder struct {
	BookingID string    `json:"booking_id"`
	UserID    string    `json:"user_id"`
	StartsAt  time.Time `json:"starts_at"`
	Hours     int       `json:"hours"`
}

// Kind names the job in river_job.kind.
func (Reminder) Kind() string { return "lesson_reminder" }

// InsertOpts makes one job per (booking, user, start, hours).
func (Reminder) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueReminders, MaxAttempts: 10, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// MessageUnread asks a worker, once MESSAGE_EMAIL_DELAY has passed, to
// email RecipientID about MessageID of ConversationID if they have not read
// it by then (the store checks the read state when the job runs; a read in
// time makes the job a no-op).
type MessageUnread struct {
	ConversationID string `json:"conversation_id"`
	MessageID      string `json:"message_id"`
	RecipientID    string `json:"recipient_id"`
}

// Kind names the job in river_job.kind.
func (MessageUnread) Kind() string { return "message_unread" }

// InsertOpts makes one job per message; it runs on the reminders queue,
// which every worker node works (it only queues an email row).
func (MessageUnread) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueReminders, MaxAttempts: 10, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// Job is a job to insert: Email, Reminder or MessageUnread, to run at At (zero: now).
type Job struct {
	Args river.JobArgs
	At   time.Time
}

// Inserter inserts jobs inside a caller's transaction. It runs no workers.
type Inserter struct {
	client *river.Client[pgx.Tx]
}

// NewInserter returns an insert-only River client over pool.
func NewInserter(pool *pgxpool.Pool) (*Inserter, error) {
	c, err := river.NewClient(riverpgxv5.New(pool), &river.Config{})
	if err != nil {
		return nil, fmt.Errorf("river insert client: %w", err)
	}
	return &Inserter{client: c}, nil
}

// InsertTx inserts js in tx: they become visible to workers when tx commits.
func (i *Inserter) InsertTx(ctx context.Context, tx pgx.Tx, js ...Job) error {
	if len(js) == 0 {
		return nil
	}
	params := make([]river.InsertManyParams, len(js))
	for n, j := range js {
		params[n] = river.InsertManyParams{Args: j.Args}
		if !j.At.IsZero() {
			params[n].InsertOpts = &river.InsertOpts{ScheduledAt: j.At}
		}
	}
	if _, err := i.client.InsertManyTx(ctx, tx, params); err != nil {
		return fmt.Errorf("insert jobs: %w", err)
	}
	return nil
}

// Migrate creates or upgrades River's tables (river_job, river_leader, …).
func Migrate(ctx context.Context, pool *pgxpool.Pool) error {
	m, err := rivermigrate.New(riverpgxv5.New(pool), nil)
	if err != nil {
		return fmt.Errorf("river migrator: %w", err)
	}
	if _, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("river migrate up: %w", err)
	}
	return nil
}

// MigrateDown removes River's tables.
func MigrateDown(ctx context.Context, pool *pgxpool.Pool) error {
	m, err := rivermigrate.New(riverpgxv5.New(pool), nil)
	if err != nil {
		return fmt.Errorf("river migrator: %w", err)
	}
	if _, err := m.Migrate(ctx, rivermigrate.DirectionDown, &rivermigrate.MigrateOpts{TargetVersion: -1}); err != nil {
		return fmt.Errorf("river migrate down: %w", err)
	}
	return nil
}

// SchemaVersion names River's latest migration, so test templates built
// from an older River schema are not reused after an upgrade.
func SchemaVersion() string {
	m, err := rivermigrate.New(riverpgxv5.New(nil), nil)
	if err != nil {
		return "river-unknown"
	}
	v := m.AllVersions()
	if len(v) == 0 {
		return "river-none"
	}
	return fmt.Sprintf("river-%d", v[len(v)-1].Version)
}
