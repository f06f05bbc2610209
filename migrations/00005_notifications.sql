-- +goose Up
-- Notifications: a user's inbox. Each row is written in the transaction of
-- the change that causes it (a booking, its cancellation or move) or by the
-- reminder job at its time. dedupe_key makes a retried writer a no-op.
CREATE TABLE notifications (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind       varchar(32) NOT NULL CHECK (kind IN ('booking.created', 'booking.confirmed',
                   'booking.cancelled', 'booking.rescheduled', 'lesson.reminder')),
    title      varchar(200) NOT NULL,
    body       varchar(1000) NOT NULL,
    booking_id uuid REFERENCES bookings (id) ON DELETE SET NULL,
    dedupe_key varchar(200) UNIQUE,
    created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    read_at    timestamptz
);
-- The inbox pages newest first; the unread count and filter use the partial index.
CREATE INDEX notifications_inbox ON notifications (user_id, created_at DESC, id DESC);
CREATE INDEX notifications_unread ON notifications (user_id) WHERE read_at IS NULL;

-- Per-user settings; no row means the defaults (email on, reminders 24 h and 1 h before).
CREATE TABLE notification_settings (
    user_id        uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    email          boolean NOT NULL DEFAULT true,
    reminders      boolean NOT NULL DEFAULT true,
    reminder_hours int[] NOT NULL DEFAULT '{24,1}' CHECK (
        cardinality(reminder_hours) <= 4 AND 1 <= ALL (reminder_hours) AND 168 >= ALL (reminder_hours)),
    updated_at     timestamptz NOT NULL DEFAULT now()
);

-- Outgoing email, one row per message to send. The email job carries only
-- the row id; message_id is set once the SMTP server accepted the message,
-- so a retried or duplicated job sees it and never sends twice. The
-- recipient address is read at send time (an address changed in between wins).
CREATE TABLE emails (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id      uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    template     varchar(64) NOT NULL,
    data         jsonb NOT NULL DEFAULT '{}',
    dedupe_key   varchar(200) NOT NULL UNIQUE,
    created_at   timestamptz NOT NULL DEFAULT now(),
    attempts     int NOT NULL DEFAULT 0,
    last_error   varchar(1000),
    message_id   varchar(200),
    sent_at      timestamptz,
    failed_at    timestamptz,
    CONSTRAINT emails_sent_has_id CHECK ((sent_at IS NULL) = (message_id IS NULL))
);
CREATE INDEX emails_user ON emails (user_id, created_at DESC);

INSERT INTO permissions (name, description) VALUES
    ('notifications:read', 'read and mark own notifications, edit own notification settings');
INSERT INTO role_permissions (role, permission) VALUES
    ('student', 'notifications:read'),
    ('instructor', 'notifications:read'),
    ('admin', 'notifications:read');

-- +goose Down
DELETE FROM role_permissions WHERE permission = 'notifications:read';
DELETE FROM permissions WHERE name = 'notifications:read';
DROP TABLE emails;
DROP TABLE notification_settings;
DROP TABLE notifications;
