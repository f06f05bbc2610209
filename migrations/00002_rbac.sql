-- +goose Up
-- Roles and permissions are reference data: the code checks permission names,
-- the database decides which role holds them.
INSERT INTO roles (name) VALUES ('student'), ('instructor'), ('admin');

INSERT INTO permissions (name, description) VALUES
    ('bookings:create', 'book lessons'),
    ('bookings:read', 'read own bookings'),
    ('bookings:manage', 'cancel or reschedule own bookings'),
    ('availability:manage', 'edit own availability windows'),
    ('profile:manage', 'edit own instructor profile and services'),
    ('users:manage', 'manage any user account'),
    ('monitoring:read', 'read metrics and operational data'),
    ('realtime:subscribe', 'use private realtime channels');

INSERT INTO role_permissions (role, permission) VALUES
    ('student', 'bookings:create'),
    ('student', 'bookings:read'),
    ('student', 'bookings:manage'),
    ('student', 'realtime:subscribe'),
    ('instructor', 'bookings:read'),
    ('instructor', 'bookings:manage'),
    ('instructor', 'availability:manage'),
    ('instructor', 'profile:manage'),
    ('instructor', 'realtime:subscribe'),
    ('admin', 'bookings:read'),
    ('admin', 'bookings:manage'),
    ('admin', 'users:manage'),
    ('admin', 'monitoring:read'),
    ('admin', 'realtime:subscribe');

-- +goose Down
DELETE FROM role_permissions;
DELETE FROM permissions;
DELETE FROM roles;
