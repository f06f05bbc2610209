// Package notify runs the hub's notification work on a node: the River
// workers that send queued email over SMTP and write lesson reminders when
// they fall due, and the metrics that show whether they keep up. The
// notifications themselves are written by the store in the transactions
// that cause them; this package delivers what those transactions queued.
package notify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"instainstru/jobs"
	"instainstru/mail"
	"instainstru/market"
	"instainstru/store"
)

// Publisher hands committed events to the broker (the fast path); the
// outbox relay republishes what it misses.
type Publisher interface {
	PublishCommitted(ctx context.Context, evs []market.Event)
}

// Config is a node's notification settings (env: JOB_WORKERS, SMTP_URL,
// MAIL_FROM, PUBLIC_URL).
type Config struct {
	// Workers per queue on this node; 0 runs none (a web-only node): jobs
	// wait for another node's workers.
	Workers int
	// SMTPURL, e.g. smtp://127.0.0.1:1025. Empty: no email is sent and
	// email jobs stay queued until a node with SMTP works them.
	SMTPURL  string
	MailFrom string // default "InstaInstru <no-reply@instainstru.local>"
	// PublicURL is the web page's address, for links in emails.
	PublicURL string

	// Tuning, zero = defaults (see jobs.RunnerConfig). Tests shorten them.
	Backoff      func(attempt int) time.Duration
	RescueAfter  time.Duration // default 5 min: a job of a dead node is retried after this
	PollInterval time.Duration

	// Periodic is the cluster's upkeep (lesson completion, retention),
	// worked by the same River client: River elects one leader among the
	// clients to schedule periodic jobs, so every worker client must
	// declare them. Ignored without workers.
	Periodic []jobs.Periodic
}

// DefaultFrom is the sender when MAIL_FROM is not set.
const DefaultFrom = "InstaInstru <no-reply@instainstru.local>"

// Service is one node's notification workers.
type Service struct {
	db        *store.DB
	metrics   *Metrics
	templates *mail.Templates
	sender    *mail.Sender // nil without SMTP
	publicURL string
	runner    *jobs.Runner
	log       *slog.Logger
}

// New builds the service; Start starts its workers (if any). db is the
// workers' pool; give it the node's publisher (store.DB.WithPublisher) so
// reminders reach their users at once.
func New(db *store.DB, m *Metrics, cfg Config, log *slog.Logger) (*Service, error) {
	if log == nil {
		log = slog.Default()
	}
	t, err := mail.LoadTemplates()
	if err != nil {
		return nil, err
	}
	s := &Service{db: db, metrics: m, templates: t, publicURL: strings.TrimRight(cfg.PublicURL, "/"), log: log}
	if s.publicURL == "" {
		s.publicURL = "http://localhost:8080"
	}
	if _, err := url.Parse(s.publicURL); err != nil {
		return nil, fmt.Errorf("PUBLIC_URL: %w", err)
	}
	if cfg.SMTPURL != "" {
		from := cfg.MailFrom
		if from == "" {
			from = DefaultFrom
		}
		if s.sender, err = mail.NewSender(mail.Config{URL: cfg.SMTPURL, From: from}); err != nil {
			return nil, err
		}
	}
	if cfg.Workers <= 0 {
		return s, nil
	}
	rescue := cfg.RescueAfter
	if rescue == 0 {
		rescue = 5 * time.Minute
	}
	queues := []string{jobs.QueueReminders}
	if s.sender != nil {
		queues = append(queues, jobs.QueueEmail)
	}
	s.runner, err = db.NewJobRunner(jobs.Handlers{Email: s.sendEmail, Reminder: s.remind, MessageUnread: s.messageUnread}, jobs.RunnerConfig{
		Workers: cfg.Workers, Queues: queues, Backoff: cfg.Backoff, RescueAfter: rescue,
		PollInterval: cfg.PollInterval, Logger: log, Periodic: cfg.Periodic,
	})
	return s, err
}

// Start starts the workers; without workers it does nothing.
func (s *Service) Start(ctx context.Context) error {
	if s.runner == nil {
		return nil
	}
	return s.runner.Start(ctx)
}

// Stop lets running jobs finish until ctx ends.
func (s *Service) Stop(ctx context.Context) error {
	if s.runner == nil {
		return nil
	}
	return s.runner.Stop(ctx)
}

// Kill stops the workers at once, like a crash (tests).
func (s *Service) Kill() {
	if s.runner != nil {
		s.runner.Kill() //nolint:errcheck // the job is retried elsewhere either way
	}
}

// sendEmail sends one queued email, at most once: an email already
// recorded as sent is skipped, and the Message-ID is derived from the
// email's id so that even a resend after a crash between SMTP accept and
// the record is one message to the reader's client.
func (s *Service) sendEmail(ctx context.Context, j jobs.Email, a jobs.Attempt) error {
	e, err := s.db.ClaimEmail(ctx, j.EmailID)
	if market.ErrorCode(err) == market.ENOTFOUND {
		return nil // the user was deleted
	}
	if err != nil {
		return err
	}
	if e.SentAt != nil {
		s.metrics.emails.WithLabelValues("duplicate_skipped").Inc()
		return nil
	}
	data := map[string]any{}
	for k, v := range e.Data {
		data[k] = v
	}
	data["to_name"], data["settings_link"] = e.ToName, s.publicURL+"/#/notifications"
	switch {
	case data["path"] != nil:
		data["link"] = s.publicURL + fmt.Sprint(data["path"])
	case data["booking_id"] != nil:
		data["link"] = s.publicURL + "/#/lessons?booking=" + url.QueryEscape(fmt.Sprint(data["booking_id"]))
	}
	r, err := s.templates.Render(e.Template, data)
	if err != nil {
		// A missing or broken template does not heal by retrying.
		s.metrics.emails.WithLabelValues("discarded").Inc()
		s.log.Error("email not renderable", "email", e.ID, "template", e.Template, "err", err)
		return s.db.MarkEmailFailed(ctx, e.ID, err, true)
	}
	msgID := s.sender.MessageID(e.ID)
	err = s.sender.Send(ctx, mail.Message{To: e.To, ToName: e.ToName, Subject: r.Subject, Text: r.Text, HTML: r.HTML, MessageID: msgID})
	if err != nil {
		result := "retried"
		if a.Last() {
			result = "discarded"
			s.log.Error("email given up", "email", e.ID, "attempts", a.N, "err", err)
		}
		s.metrics.emails.WithLabelValues(result).Inc()
		if merr := s.db.MarkEmailFailed(ctx, e.ID, err, a.Last()); merr != nil {
			err = errors.Join(err, merr)
		}
		return err
	}
	s.metrics.emails.WithLabelValues("sent").Inc()
	if _, err := s.db.MarkEmailSent(ctx, e.ID, msgID); err != nil {
		// Sent but not recorded: a retry would send again; say so loudly.
		s.log.Error("email sent but not recorded", "email", e.ID, "err", err)
		return err
	}
	return nil
}

// remind writes a due reminder (the store checks it is still due; its
// publisher pushes it).
func (s *Service) remind(ctx context.Context, j jobs.Reminder, a jobs.Attempt) error {
	if a.N == 1 {
		s.metrics.reminderLag.Observe(max(time.Since(a.ScheduledAt), 0).Seconds())
	}
	written, err := s.db.RemindLesson(ctx, j)
	if err != nil {
		return err
	}
	if !written {
		s.metrics.reminders.WithLabelValues("stale").Inc()
		return nil
	}
	s.metrics.reminders.WithLabelValues("sent").Inc()
	return nil
}

// messageUnread queues the email of a message still unread after
// MESSAGE_EMAIL_DELAY (the store checks the read state; a read in time, or
// an email already queued for this read position, makes it a no-op).
func (s *Service) messageUnread(ctx context.Context, j jobs.MessageUnread, _ jobs.Attempt) error {
	_, err := s.db.EmailUnreadMessage(ctx, j)
	return err
}

// Counting wraps the fast-path publisher so that every notification a node
// commits is counted by kind once (the relay's republishing is not).
func Counting(next Publisher, m *Metrics) Publisher { return counting{next, m} }

type counting struct {
	next Publisher
	m    *Metrics
}

func (c counting) PublishCommitted(ctx context.Context, evs []market.Event) {
	for _, e := range evs {
		if e.Type == market.EventNotificationCreated {
			c.m.created.WithLabelValues(kindOf(e.Data)).Inc()
		}
	}
	c.next.PublishCommitted(ctx, evs)
}

// kindOf finds "kind":"…" in a notification's JSON without decoding it all.
func kindOf(data []byte) string {
	_, rest, ok := strings.Cut(string(data), `"kind":"`)
	if !ok {
		return "unknown"
	}
	kind, _, _ := strings.Cut(rest, `"`)
	return kind
}
