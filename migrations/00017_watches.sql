-- +goose Up
-- Watches ("tell me when a time opens", SPEC §4.3, docs/features/watches.md).

-- One user's watch of one instructor: the weekdays (empty = any), the part
-- of day (NULL = any) and the dates it covers. last_notified_at is the
-- once-per-hour rule: the worker sets it with a conditional UPDATE, so two
-- openings in quick succession, on any nodes, notify once.
CREATE TABLE watches (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id          uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    instructor_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    days             text[] NOT NULL DEFAULT '{}',
    time_of_day      varchar(16) CHECK (time_of_day IN ('morning', 'afternoon', 'evening')),
    from_date        date NOT NULL,
    to_date          date NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    last_notified_at timestamptz,
    CHECK (from_date <= to_date AND to_date - from_date < 60),
    CHECK (user_id <> instructor_id)
);
CREATE INDEX watches_user ON watches (user_id, to_date);
CREATE INDEX watches_instructor ON watches (instructor_id, to_date);
CREATE INDEX watches_to_date ON watches (to_date);

-- The open time of each watched (instructor, date) as of the last committed
-- availability.changed event: the transaction that writes a newer event
-- replaces it and compares, so "what opened" is decided under the topic's
-- lock, in commit order. Rows exist only for dates some watch covers.
CREATE TABLE watch_days (
    instructor_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    date          date NOT NULL,
    open          jsonb NOT NULL,
    PRIMARY KEY (instructor_id, date)
);
CREATE INDEX watch_days_date ON watch_days (date);

-- The notification kind slot.opened joins whatever kinds the check allows
-- (read from the constraint, so migrations of other features that add
-- kinds compose in any order).
-- +goose StatementBegin
DO $$
DECLARE kinds text[];
BEGIN
    SELECT array_agg(DISTINCT m[1]) INTO kinds
    FROM pg_constraint c, regexp_matches(pg_get_constraintdef(c.oid), '''([a-z_.]+)''', 'g') AS m
    WHERE c.conname = 'notifications_kind_check';
    ALTER TABLE notifications DROP CONSTRAINT IF EXISTS notifications_kind_check;
    EXECUTE format('ALTER TABLE notifications ADD CONSTRAINT notifications_kind_check CHECK (kind IN (%s))',
        (SELECT string_agg(quote_literal(k), ', ' ORDER BY k)
         FROM unnest(array_append(array_remove(kinds, 'slot.opened'), 'slot.opened')) AS k));
END $$;
-- +goose StatementEnd

INSERT INTO permissions (name, description) VALUES
    ('watches:manage', 'watch an instructor''s schedule and be told when a time opens')
ON CONFLICT (name) DO UPDATE SET description = EXCLUDED.description;

INSERT INTO role_permissions (role, permission) VALUES
    ('student', 'watches:manage'),
    ('instructor', 'watches:manage'),
    ('admin', 'watches:manage')
ON CONFLICT DO NOTHING;

-- +goose Down
DELETE FROM notifications WHERE kind = 'slot.opened';
-- +goose StatementBegin
DO $$
DECLARE kinds text[];
BEGIN
    SELECT array_agg(DISTINCT m[1]) INTO kinds
    FROM pg_constraint c, regexp_matches(pg_get_constraintdef(c.oid), '''([a-z_.]+)''', 'g') AS m
    WHERE c.conname = 'notifications_kind_check';
    ALTER TABLE notifications DROP CONSTRAINT IF EXISTS notifications_kind_check;
    EXECUTE format('ALTER TABLE notifications ADD CONSTRAINT notifications_kind_check CHECK (kind IN (%s))',
        (SELECT string_agg(quote_literal(k), ', ' ORDER BY k) FROM unnest(array_remove(kinds, 'slot.opened')) AS k));
END $$;
-- +goose StatementEnd
DELETE FROM role_permissions WHERE permission = 'watches:manage';
DELETE FROM permissions WHERE name = 'watches:manage';
DROP TABLE watch_days;
DROP TABLE watches;
