-- +goose Up
-- Indexes for the retention jobs (store/retention.go): each deletes the
-- rows older than its cutoff in batches of RETENTION_BATCH, and without an
-- index on the age column every batch would scan the whole table.
CREATE INDEX idempotency_keys_created_at ON idempotency_keys (created_at);
CREATE INDEX notifications_read_at ON notifications (read_at) WHERE read_at IS NOT NULL;
CREATE INDEX emails_finished_at ON emails ((COALESCE(sent_at, failed_at)));

-- +goose Down
DROP INDEX emails_finished_at;
DROP INDEX notifications_read_at;
DROP INDEX idempotency_keys_created_at;
