-- +goose Up
-- Conversations between a student and an instructor (docs/features/conversations.md).
-- One per pair. The row is the conversation's lock: a send takes it FOR
-- UPDATE to number its message (last_seq + 1), so messages of a
-- conversation are numbered without gaps in commit order. Each party's read
-- position is the seq (and id) of the last message they marked read; their
-- unread counter is the other party's messages after it, kept in the row so
-- the list and the total need no count over messages.
CREATE TABLE conversations (
    id                    uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    student_id            uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    instructor_id         uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_by            uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at            timestamptz NOT NULL DEFAULT now(),
    updated_at            timestamptz NOT NULL DEFAULT now(),
    last_seq              bigint NOT NULL DEFAULT 0,
    student_read_seq      bigint NOT NULL DEFAULT 0,
    instructor_read_seq   bigint NOT NULL DEFAULT 0,
    student_read_id       uuid,
    instructor_read_id    uuid,
    student_unread        int NOT NULL DEFAULT 0 CHECK (student_unread >= 0),
    instructor_unread     int NOT NULL DEFAULT 0 CHECK (instructor_unread >= 0),
    blocked_by_student    boolean NOT NULL DEFAULT false,
    blocked_by_instructor boolean NOT NULL DEFAULT false,
    CONSTRAINT conversations_pair UNIQUE (student_id, instructor_id),
    CONSTRAINT conversations_not_self CHECK (student_id <> instructor_id),
    CONSTRAINT conversations_creator CHECK (created_by IN (student_id, instructor_id))
);
-- Each party's list, newest activity first.
CREATE INDEX conversations_student ON conversations (student_id, updated_at DESC, id DESC);
CREATE INDEX conversations_instructor ON conversations (instructor_id, updated_at DESC, id DESC);

-- Messages. body is plain text (the page renders it as text, never HTML);
-- '' only once scrubbed (account deletion, retention).
CREATE TABLE messages (
    id              uuid PRIMARY KEY,
    conversation_id uuid NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    seq             bigint NOT NULL CHECK (seq > 0),
    sender_id       uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    body            varchar(2000) NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT clock_timestamp(),
    CONSTRAINT messages_conversation_seq UNIQUE (conversation_id, seq)
);
CREATE INDEX messages_sender ON messages (sender_id);
CREATE INDEX messages_created_at ON messages (created_at);

INSERT INTO permissions (name, description) VALUES
    ('conversations:use', 'open conversations, read and send own messages'),
    ('conversations:read', 'read any conversation through the audited admin view');
INSERT INTO role_permissions (role, permission) VALUES
    ('student', 'conversations:use'),
    ('instructor', 'conversations:use'),
    ('admin', 'conversations:read'),
    ('support', 'conversations:read');

-- +goose Down
DELETE FROM role_permissions WHERE permission IN ('conversations:use', 'conversations:read');
DELETE FROM permissions WHERE name IN ('conversations:use', 'conversations:read');
DROP TABLE messages;
DROP TABLE conversations;
