-- +goose Up
-- Email verification and password reset.

-- email_verified_at: when the owner proved they read this address. Accounts
-- that existed before verification was introduced were created under the
-- old rules (and the seeded demo accounts are known addresses): they count
-- as verified from their creation.
ALTER TABLE users ADD COLUMN email_verified_at timestamptz;
UPDATE users SET email_verified_at = created_at WHERE deleted_at IS NULL;

-- token_version is in every access JWT ("ver") and compared on each request
-- in the same query that loads the user: a password reset bumps it, so
-- access tokens issued before the reset fail at once (no extra round trip,
-- and no clock comparison with JWT iat, which has whole-second precision).
ALTER TABLE users ADD COLUMN token_version integer NOT NULL DEFAULT 0 CHECK (token_version >= 0);

-- Single-use tokens mailed to the account's address. Only the SHA-256 of
-- the token is kept (32 random bytes: the hash cannot be reversed or
-- guessed). Issuing a token of a purpose removes the user's earlier ones of
-- that purpose, so only the newest link works and rows stay few per user.
CREATE TABLE account_tokens (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    purpose    varchar(16) NOT NULL CHECK (purpose IN ('verify_email', 'password_reset')),
    token_hash bytea NOT NULL UNIQUE CHECK (octet_length(token_hash) = 32),
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    used_at    timestamptz,
    CHECK (expires_at > created_at),
    CHECK (used_at IS NULL OR used_at >= created_at)
);
CREATE INDEX account_tokens_user ON account_tokens (user_id, purpose);

-- Asking for a new verification link is a write of one's own account:
-- the roles that book or teach hold it (support changes nothing).
INSERT INTO permissions (name, description) VALUES
    ('account:verify', 'ask for a new email verification link for own account')
ON CONFLICT (name) DO UPDATE SET description = EXCLUDED.description;
INSERT INTO role_permissions (role, permission) VALUES
    ('student', 'account:verify'), ('instructor', 'account:verify'), ('admin', 'account:verify')
ON CONFLICT DO NOTHING;

-- +goose Down
DELETE FROM role_permissions WHERE permission = 'account:verify';
DELETE FROM permissions WHERE name = 'account:verify';
DROP TABLE account_tokens;
ALTER TABLE users DROP COLUMN token_version;
ALTER TABLE users DROP COLUMN email_verified_at;
