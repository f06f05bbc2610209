-- +goose Up
-- Who and where, cancellation notice, lesson outcomes.

-- How many hours before a lesson a student may cancel without it being
-- marked late (0 = never late; at most two weeks).
ALTER TABLE instructor_profiles
    ADD COLUMN cancellation_notice_hours int NOT NULL DEFAULT 24
        CONSTRAINT instructor_profiles_notice_range CHECK (cancellation_notice_hours BETWEEN 0 AND 336);

-- area: one of the instructor's areas at booking time ('' only for lessons
-- booked before areas were recorded, or with an instructor who lists none).
-- address: an optional meeting address or note, shown to the two parties
-- only; bidirectional-override characters are refused so the text cannot
-- display differently from what was stored.
-- late: a student cancelled inside the instructor's cancellation notice.
-- outcome_at: when the lesson became completed or no_show.
ALTER TABLE bookings
    ADD COLUMN area       varchar(64) NOT NULL DEFAULT '',
    ADD COLUMN address    varchar(300),
    ADD COLUMN late       boolean NOT NULL DEFAULT false,
    ADD COLUMN outcome_at timestamptz,
    ADD CONSTRAINT bookings_address_text CHECK (
        address IS NULL OR (length(btrim(address)) > 0
            AND address !~ '[\u202A-\u202E\u2066-\u2069\u200E\u200F\u061C]')),
    ADD CONSTRAINT bookings_late_is_cancelled CHECK (NOT late OR status = 'cancelled'),
    ADD CONSTRAINT bookings_outcome_at CHECK ((outcome_at IS NOT NULL) = (status IN ('completed', 'no_show')));

-- The completion job looks for confirmed lessons that have ended.
CREATE INDEX bookings_confirmed_end ON bookings (upper(during)) WHERE status = 'confirmed';

-- +goose Down
DROP INDEX bookings_confirmed_end;
ALTER TABLE bookings
    DROP CONSTRAINT bookings_outcome_at,
    DROP CONSTRAINT bookings_late_is_cancelled,
    DROP CONSTRAINT bookings_address_text,
    DROP COLUMN outcome_at,
    DROP COLUMN late,
    DROP COLUMN address,
    DROP COLUMN area;
ALTER TABLE instructor_profiles DROP COLUMN cancellation_notice_hours;
