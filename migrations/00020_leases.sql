-- +goose Up
-- Leases: a job that one node at a time should do across the cluster (the
-- outbox relay, store/lease.go) is led by the holder of a row here until
-- expires_at, renewed while it runs. A row, not a session advisory lock, so
-- leadership survives a pooler in transaction mode (DB_POOLING=transaction)
-- and a crashed holder's lease simply expires.
CREATE TABLE leases (
    name       text PRIMARY KEY,
    holder     text NOT NULL,
    expires_at timestamptz NOT NULL
);

-- +goose Down
DROP TABLE leases;
