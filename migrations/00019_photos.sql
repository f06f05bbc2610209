-- +goose Up
-- Instructor photos (docs/features/photos.md). The server decodes every
-- upload, re-encodes it from pixels (so EXIF, GPS and any other metadata are
-- gone) and stores only its own JPEG renditions, square and center-cropped:
-- image_96 for cards, image_320 for the profile page. hash is the SHA-256 of
-- the 320 px rendition and names both in the public, immutable URL
-- /photos/<hash>-<size>.jpg, so a new photo gets a new URL and caches never
-- go stale. Two instructors may upload the same picture: hash is indexed,
-- not unique. Rows go with the profile, and account deletion deletes them.
CREATE TABLE instructor_photos (
    instructor_id uuid PRIMARY KEY REFERENCES instructor_profiles (user_id) ON DELETE CASCADE,
    hash          char(64) NOT NULL CHECK (hash ~ '^[0-9a-f]{64}$'),
    image_96      bytea NOT NULL CHECK (octet_length(image_96) BETWEEN 1 AND 262144),
    image_320     bytea NOT NULL CHECK (octet_length(image_320) BETWEEN 1 AND 1048576),
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX instructor_photos_hash ON instructor_photos (hash);

-- +goose Down
DROP TABLE instructor_photos;
