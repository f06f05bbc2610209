-- +goose Up
-- The booking rules live here as constraints; Go code checks them first for
-- friendly errors, but these are the final guard under concurrency.
CREATE EXTENSION IF NOT EXISTS btree_gist;

CREATE TABLE users (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    email         varchar(254) NOT NULL,
    password_hash varchar(100) NOT NULL,
    full_name     varchar(200) NOT NULL CHECK (length(btrim(full_name)) > 0),
    created_at    timestamptz NOT NULL DEFAULT now(),
    deleted_at    timestamptz,
    CONSTRAINT users_email_lower CHECK (email = lower(email))
);
CREATE UNIQUE INDEX users_email_key ON users (email);

CREATE TABLE roles (
    name varchar(32) PRIMARY KEY
);

CREATE TABLE permissions (
    name        varchar(64) PRIMARY KEY,
    description varchar(200) NOT NULL DEFAULT ''
);

CREATE TABLE role_permissions (
    role       varchar(32) NOT NULL REFERENCES roles (name) ON DELETE CASCADE,
    permission varchar(64) NOT NULL REFERENCES permissions (name) ON DELETE CASCADE,
    PRIMARY KEY (role, permission)
);

CREATE TABLE user_roles (
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role    varchar(32) NOT NULL REFERENCES roles (name),
    PRIMARY KEY (user_id, role)
);

-- Rotating refresh tokens: only a hash is stored. Every rotation spends the
-- old token (used_at) and issues a new one in the same family; presenting a
-- spent token revokes the whole family (theft detection).
CREATE TABLE refresh_tokens (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    family_id  uuid NOT NULL,
    token_hash bytea NOT NULL UNIQUE,
    expires_at timestamptz NOT NULL,
    used_at    timestamptz,
    revoked_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX refresh_tokens_family_idx ON refresh_tokens (family_id);

CREATE TABLE categories (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    slug        varchar(80) NOT NULL UNIQUE,
    name        varchar(120) NOT NULL,
    description varchar(500) NOT NULL DEFAULT '',
    sort_order  int NOT NULL DEFAULT 0
);

CREATE TABLE services (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    category_id uuid NOT NULL REFERENCES categories (id),
    slug        varchar(120) NOT NULL UNIQUE,
    name        varchar(120) NOT NULL,
    description varchar(500) NOT NULL DEFAULT ''
);
CREATE INDEX services_category_idx ON services (category_id);

CREATE TABLE instructor_profiles (
    user_id          uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    bio              varchar(2000) NOT NULL DEFAULT '',
    years_experience int NOT NULL DEFAULT 0 CHECK (years_experience BETWEEN 0 AND 80),
    areas            varchar(64)[] NOT NULL DEFAULT '{}',
    timezone         varchar(64) NOT NULL DEFAULT 'America/New_York',
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE instructor_services (
    id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    instructor_id     uuid NOT NULL REFERENCES instructor_profiles (user_id) ON DELETE CASCADE,
    service_id        uuid NOT NULL REFERENCES services (id),
    hourly_rate_cents int NOT NULL CHECK (hourly_rate_cents BETWEEN 100 AND 10000000),
    durations         int[] NOT NULL CHECK (
        cardinality(durations) BETWEEN 1 AND 8
        AND 0 < ALL (durations) AND 480 >= ALL (durations)),
    is_active         boolean NOT NULL DEFAULT true,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now()
);
-- One active offer per service and instructor; soft-deleted rows keep history.
CREATE UNIQUE INDEX instructor_services_active_key
    ON instructor_services (instructor_id, service_id) WHERE is_active;
CREATE INDEX instructor_services_service_idx ON instructor_services (service_id) WHERE is_active;

-- Availability: wall-clock windows on a local date (the instructor's zone).
-- end_time may be 24:00. Windows of one instructor never overlap on a day.
CREATE TABLE availability_windows (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    instructor_id uuid NOT NULL REFERENCES instructor_profiles (user_id) ON DELETE CASCADE,
    date          date NOT NULL,
    start_time    time NOT NULL,
    end_time      time NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT availability_windows_order CHECK (start_time < end_time),
    CONSTRAINT availability_windows_aligned CHECK (
        extract(epoch FROM start_time)::int % 900 = 0
        AND extract(epoch FROM end_time)::int % 900 = 0),
    CONSTRAINT availability_windows_no_overlap EXCLUDE USING gist (
        instructor_id WITH =,
        tsrange(date + start_time, date + end_time, '[)') WITH &&)
);
CREATE INDEX availability_windows_lookup ON availability_windows (instructor_id, date);

-- Bookings are their own layer: they do not reference windows. `during` is
-- the DST-correct instant range, computed from date/start in the
-- instructor's zone by the store when the row is written.
CREATE TABLE bookings (
    id                    uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    student_id            uuid NOT NULL REFERENCES users (id),
    instructor_id         uuid NOT NULL REFERENCES instructor_profiles (user_id),
    instructor_service_id uuid NOT NULL REFERENCES instructor_services (id),
    date                  date NOT NULL,
    start_time            time NOT NULL,
    end_time              time NOT NULL,
    duration_minutes      int NOT NULL,
    price_cents           int NOT NULL CHECK (price_cents >= 0),
    status                varchar(16) NOT NULL DEFAULT 'confirmed',
    note                  varchar(1000) NOT NULL DEFAULT '',
    during                tstzrange NOT NULL,
    created_at            timestamptz NOT NULL DEFAULT now(),
    updated_at            timestamptz NOT NULL DEFAULT now(),
    cancelled_at          timestamptz,
    cancelled_by          uuid REFERENCES users (id),
    cancel_reason         varchar(1000),
    CONSTRAINT bookings_status CHECK (status IN ('confirmed', 'cancelled', 'completed', 'no_show')),
    CONSTRAINT bookings_duration CHECK (duration_minutes > 0 AND duration_minutes % 15 = 0),
    CONSTRAINT bookings_aligned CHECK (extract(epoch FROM start_time)::int % 900 = 0),
    CONSTRAINT bookings_during_valid CHECK (
        NOT isempty(during) AND lower_inc(during) AND NOT upper_inc(during)
        AND upper(during) - lower(during) = make_interval(mins => duration_minutes)),
    CONSTRAINT bookings_not_self CHECK (student_id <> instructor_id),
    CONSTRAINT bookings_instructor_no_overlap EXCLUDE USING gist (
        instructor_id WITH =, during WITH &&) WHERE (status = 'confirmed'),
    CONSTRAINT bookings_student_no_overlap EXCLUDE USING gist (
        student_id WITH =, during WITH &&) WHERE (status = 'confirmed')
);
CREATE INDEX bookings_instructor_date ON bookings (instructor_id, date);
CREATE INDEX bookings_student_during ON bookings (student_id, lower(during));
CREATE INDEX bookings_instructor_during ON bookings (instructor_id, lower(during));

-- Idempotency: the row is inserted first in the booking transaction, so a
-- concurrent request with the same key waits on it and then reads the stored
-- response instead of booking twice.
CREATE TABLE idempotency_keys (
    user_id         uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    key             varchar(128) NOT NULL,
    request_hash    bytea NOT NULL,
    response_status int,
    response_body   jsonb,
    created_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, key)
);

-- Transactional outbox. seq is per topic, +1 with no gaps: it comes from
-- topic_seqs under that row's lock, held until the writing transaction ends.
CREATE TABLE topic_seqs (
    topic varchar(200) PRIMARY KEY,
    seq   bigint NOT NULL CHECK (seq >= 0)
);

CREATE TABLE events (
    id           bigserial PRIMARY KEY,
    topic        varchar(200) NOT NULL,
    seq          bigint NOT NULL CHECK (seq > 0),
    type         varchar(64) NOT NULL,
    payload      jsonb NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT clock_timestamp(),
    published_at timestamptz,
    CONSTRAINT events_topic_seq_key UNIQUE (topic, seq)
);
CREATE INDEX events_unpublished ON events (id) WHERE published_at IS NULL;
CREATE INDEX events_created_at ON events (created_at);

-- +goose Down
DROP TABLE events;
DROP TABLE topic_seqs;
DROP TABLE idempotency_keys;
DROP TABLE bookings;
DROP TABLE availability_windows;
DROP TABLE instructor_services;
DROP TABLE instructor_profiles;
DROP TABLE services;
DROP TABLE categories;
DROP TABLE refresh_tokens;
DROP TABLE user_roles;
DROP TABLE role_permissions;
DROP TABLE permissions;
DROP TABLE roles;
DROP TABLE users;
