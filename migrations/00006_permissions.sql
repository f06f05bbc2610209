-- +goose Up
-- Permissions as data: every route names one permission (http/permissions.go),
-- and which role holds it is decided here and changed by admins through
-- PUT /api/v1/admin/roles/{role}/permissions. `support` reads users,
-- bookings and audit data and changes nothing.
INSERT INTO roles (name) VALUES ('support') ON CONFLICT DO NOTHING;

INSERT INTO permissions (name, description) VALUES
    ('account:read', 'read own account, roles and permissions'),
    ('profile:read', 'read own instructor profile'),
    ('services:manage', 'offer, reprice and withdraw own services'),
    ('bookings:read_any', 'read and filter every booking'),
    ('bookings:manage_any', 'cancel or reschedule any booking'),
    ('users:read', 'search and read user accounts'),
    ('users:deactivate', 'deactivate user accounts'),
    ('roles:read', 'read roles and their permissions'),
    ('roles:manage', 'change the permissions granted to roles'),
    ('instructors:read_any', 'read every instructor''s listing state and utilisation'),
    ('audit:read', 'read the admin audit log'),
    ('analytics:read', 'read booking, search, conversion and utilisation analytics'),
    -- second-round features (SPEC §4.2); their routes name these
    ('search:history', 'read and clear own search history'),
    ('notifications:read', 'read own notifications'),
    ('notifications:manage', 'mark notifications read and change notification settings'),
    ('account:export', 'export everything stored about oneself'),
    ('account:delete', 'delete own account')
ON CONFLICT (name) DO UPDATE SET description = EXCLUDED.description;

UPDATE permissions SET description = 'edit own instructor profile' WHERE name = 'profile:manage';

INSERT INTO role_permissions (role, permission) VALUES
    ('student', 'account:read'),
    ('student', 'search:history'),
    ('student', 'notifications:read'),
    ('student', 'notifications:manage'),
    ('student', 'account:export'),
    ('student', 'account:delete'),
    ('instructor', 'account:read'),
    ('instructor', 'profile:read'),
    ('instructor', 'services:manage'),
    ('instructor', 'search:history'),
    ('instructor', 'notifications:read'),
    ('instructor', 'notifications:manage'),
    ('instructor', 'account:export'),
    ('instructor', 'account:delete'),
    ('admin', 'account:read'),
    ('admin', 'bookings:read_any'),
    ('admin', 'bookings:manage_any'),
    ('admin', 'users:read'),
    ('admin', 'users:deactivate'),
    ('admin', 'roles:read'),
    ('admin', 'roles:manage'),
    ('admin', 'instructors:read_any'),
    ('admin', 'audit:read'),
    ('admin', 'analytics:read'),
    ('admin', 'search:history'),
    ('admin', 'notifications:read'),
    ('admin', 'notifications:manage'),
    ('admin', 'account:export'),
    ('support', 'account:read'),
    ('support', 'bookings:read_any'),
    ('support', 'users:read'),
    ('support', 'roles:read'),
    ('support', 'instructors:read_any'),
    ('support', 'audit:read'),
    ('support', 'analytics:read'),
    ('support', 'realtime:subscribe'),
    ('support', 'notifications:read')
ON CONFLICT DO NOTHING;

-- Instructor-page views for conversion analytics: which page and when,
-- nothing about who looked.
CREATE TABLE instructor_page_views (
    id            bigserial PRIMARY KEY,
    instructor_id uuid NOT NULL REFERENCES instructor_profiles (user_id) ON DELETE CASCADE,
    viewed_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX instructor_page_views_at ON instructor_page_views (viewed_at);

-- Analytics aggregate bookings by creation and cancellation day.
CREATE INDEX bookings_created_at ON bookings (created_at);
CREATE INDEX bookings_cancelled_at ON bookings (cancelled_at) WHERE cancelled_at IS NOT NULL;
-- The console lists every booking latest lesson first (keyset on start, id).
CREATE INDEX bookings_starts ON bookings (lower(during), id);

-- +goose Down
DROP INDEX bookings_starts;
DROP INDEX bookings_cancelled_at;
DROP INDEX bookings_created_at;
DROP TABLE instructor_page_views;
DELETE FROM user_roles WHERE role = 'support';
DELETE FROM role_permissions WHERE role = 'support' OR permission IN ('account:read', 'profile:read',
    'services:manage', 'bookings:read_any', 'bookings:manage_any', 'users:read', 'users:deactivate',
    'roles:read', 'roles:manage', 'instructors:read_any', 'audit:read', 'analytics:read');
DELETE FROM permissions WHERE name IN ('account:read', 'profile:read', 'services:manage',
    'bookings:read_any', 'bookings:manage_any', 'users:read', 'users:deactivate', 'roles:read',
    'roles:manage', 'instructors:read_any', 'audit:read', 'analytics:read');
DELETE FROM roles WHERE name = 'support';
