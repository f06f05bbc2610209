-- +goose Up
-- Privacy: an append-only audit trail, session details for the data export,
-- and the guard that keeps a deleted account from gaining new bookings.

-- Security-relevant actions. Rows are never updated; they are deleted only by
-- the retention job, which says so for its own transaction
-- (SET LOCAL instainstru.audit_prune = 'on'). The user columns carry no
-- foreign key: the trail must outlive anything it talks about, and users are
-- only ever soft-deleted. details holds small facts (ids, reasons), never
-- secrets, passwords, tokens or email addresses.
CREATE TABLE audit_log (
    id             bigserial PRIMARY KEY,
    at             timestamptz NOT NULL DEFAULT now(),
    actor_user_id  uuid,
    target_user_id uuid,
    action         varchar(64) NOT NULL CHECK (action ~ '^[a-z_]+(\.[a-z_]+)*$'),
    request_id     varchar(128),
    ip             inet,
    details        jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(details) = 'object' AND octet_length(details::text) <= 2000)
);
CREATE INDEX audit_log_at ON audit_log (at, id);
CREATE INDEX audit_log_target ON audit_log (target_user_id, at);
CREATE INDEX audit_log_actor ON audit_log (actor_user_id, at);

-- +goose StatementBegin
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND current_setting('instainstru.audit_prune', true) = 'on' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'audit_log is append-only (% refused)', TG_OP USING ERRCODE = 'insufficient_privilege';
END $$;
-- +goose StatementEnd
CREATE TRIGGER audit_log_no_update BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();

-- Sessions in the export: which client holds each refresh family.
ALTER TABLE refresh_tokens ADD COLUMN user_agent varchar(256) NOT NULL DEFAULT '';
-- Retention of spent/expired tokens walks by expiry.
CREATE INDEX refresh_tokens_expires ON refresh_tokens (expires_at);
CREATE INDEX refresh_tokens_user ON refresh_tokens (user_id);

-- Deletion cancels a user's future lessons under a lock on the user row; a
-- booking for that student committed concurrently would otherwise survive
-- the deletion. FOR SHARE waits for the deleting transaction and then sees
-- its deleted_at. (A deleted instructor is refused by lockSchedule.)
-- +goose StatementBegin
CREATE FUNCTION bookings_live_student() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1 FROM users WHERE id = NEW.student_id AND deleted_at IS NULL FOR SHARE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'student account is deleted' USING ERRCODE = 'foreign_key_violation',
            CONSTRAINT = 'bookings_live_student';
    END IF;
    RETURN NEW;
END $$;
-- +goose StatementEnd
CREATE TRIGGER bookings_live_student BEFORE INSERT ON bookings
    FOR EACH ROW EXECUTE FUNCTION bookings_live_student();

-- Past lessons of a deleted party are listed by their participant; the
-- retention job scrubs notes of old lessons by date.
CREATE INDEX bookings_cancelled_by ON bookings (cancelled_by) WHERE cancelled_by IS NOT NULL;
CREATE INDEX bookings_notes_retention ON bookings (upper(during)) WHERE note <> '' OR cancel_reason IS NOT NULL;

-- audit:read (admin, support) comes with the permissions migration (00006).

-- +goose Down
DROP INDEX bookings_notes_retention;
DROP INDEX bookings_cancelled_by;
DROP TRIGGER bookings_live_student ON bookings;
DROP FUNCTION bookings_live_student();
DROP INDEX refresh_tokens_user;
DROP INDEX refresh_tokens_expires;
ALTER TABLE refresh_tokens DROP COLUMN user_agent;
DROP TABLE audit_log;
DROP FUNCTION audit_log_append_only();
