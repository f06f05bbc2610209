-- +goose Up
-- The relay asks every 250 ms for the oldest unpublished event. Ordered by
-- creation time among unpublished rows only, that is one index entry;
-- without it Postgres walks every published event (the whole retained
-- history) to find it.
CREATE INDEX events_unpublished_created ON events (created_at) WHERE published_at IS NULL;

-- +goose Down
DROP INDEX events_unpublished_created;
