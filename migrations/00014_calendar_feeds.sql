-- +goose Up
-- A private calendar feed per user (GET /api/v1/calendar/<token>.ics): the
-- user's upcoming lessons for a calendar app to subscribe to. Only the
-- SHA-256 of the token is kept (32 random bytes: the hash cannot be
-- reversed or guessed); rotating replaces the row, so the old URL stops
-- working at once. One feed per user.
CREATE TABLE calendar_feeds (
    user_id    uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    token_hash bytea NOT NULL UNIQUE CHECK (octet_length(token_hash) = 32),
    created_at timestamptz NOT NULL DEFAULT now()
);

-- +goose Down
DROP TABLE calendar_feeds;
