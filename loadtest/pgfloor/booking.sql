-- Recorded from the store by loadtest/pgfloor/record_test.go; do not edit (go test ./loadtest/pgfloor -update).
\set k :k + 1
SELECT f.inst,
  f.stud,
  f.offer,
  s.day::text AS day,
  s.st::text AS st,
  (s.st + interval '60 minutes')::text AS et,
  ((s.day + s.st) AT TIME ZONE f.tz)::text AS sat,
  ((s.day + s.st + interval '60 minutes') AT TIME ZONE f.tz)::text AS eat,
  ((s.day - 2)::timestamp AT TIME ZONE 'UTC')::text AS lo,
  ((s.day + 3)::timestamp AT TIME ZONE 'UTC')::text AS hi,
  gen_random_uuid()::text AS ikey,
  u.u1,
  u.u2,
  u.u3,
  (SELECT array_agg(decode(md5(random()::text), 'hex')) FROM generate_series(1, 6))::text AS rk1,
  a.c1 AS c1,
  a.c10 AS c10,
  a.c11 AS c11,
  replace(replace(a.c12, '00000000-0000-4000-8000-000000000004', u.u1), '00000000-0000-4000-8000-000000000005', u.u2) AS c12,
  replace(a.c13, '00000000-0000-4000-8000-000000000005', u.u2) AS c13,
  a.c14 AS c14,
  a.c15 AS c15,
  a.c16 AS c16,
  replace(replace(a.c17, '00000000-0000-4000-8000-000000000004', u.u1), '00000000-0000-4000-8000-000000000006', u.u3) AS c17,
  replace(a.c18, '00000000-0000-4000-8000-000000000006', u.u3) AS c18,
  replace(replace(a.c19, '00000000-0000-4000-8000-000000000001', f.inst), '00000000-0000-4000-8000-000000000002', f.stud) AS c19,
  a.c2 AS c2,
  a.c20 AS c20,
  replace(replace(a.c21, '00000000-0000-4000-8000-000000000001', f.inst), '00000000-0000-4000-8000-000000000002', f.stud) AS c21,
  a.c22 AS c22,
  a.c23 AS c23,
  replace(replace(replace(replace(replace(replace(a.c24, '00000000-0000-4000-8000-000000000001', f.inst), '00000000-0000-4000-8000-000000000002', f.stud), '00000000-0000-4000-8000-000000000003', f.offer), '00000000-0000-4000-8000-000000000004', u.u1), '00000000-0000-4000-8000-000000000005', u.u2), '00000000-0000-4000-8000-000000000006', u.u3) AS c24,
  a.c25 AS c25,
  a.c26 AS c26,
  a.c27 AS c27,
  replace(replace(replace(a.c28, '00000000-0000-4000-8000-000000000001', f.inst), '00000000-0000-4000-8000-000000000002', f.stud), '00000000-0000-4000-8000-000000000004', u.u1) AS c28,
  a.c29 AS c29,
  a.c3 AS c3,
  a.c30 AS c30,
  a.c31 AS c31,
  a.c32 AS c32,
  a.c33 AS c33,
  a.c34 AS c34,
  a.c35 AS c35,
  a.c36 AS c36,
  a.c37 AS c37,
  a.c38 AS c38,
  a.c4 AS c4,
  a.c5 AS c5,
  a.c6 AS c6,
  a.c7 AS c7,
  replace(replace(replace(replace(a.c8, '00000000-0000-4000-8000-000000000001', f.inst), '00000000-0000-4000-8000-000000000002', f.stud), '00000000-0000-4000-8000-000000000003', f.offer), '00000000-0000-4000-8000-000000000004', u.u1) AS c8,
  a.c9 AS c9
FROM pgfloor_fixture f, pgfloor_args a,
  (SELECT current_date + 30 + (:k % 730) AS day, make_time(6 + (:k / 730) % 16, 0, 0) AS st) s,
  (SELECT gen_random_uuid()::text AS u1, gen_random_uuid()::text AS u2, gen_random_uuid()::text AS u3) u
WHERE f.client = :client_id \gset
\startpipeline
begin;
INSERT INTO idempotency_keys (user_id, key, request_hash) VALUES (:stud, :ikey, :c1) ON CONFLICT (user_id, key) DO NOTHING;
SELECT request_hash, response_body FROM idempotency_keys WHERE user_id = :stud AND key = :ikey;
SELECT p.timezone, p.areas, now(), clock_timestamp(), u.email_verified_at IS NOT NULL FROM instructor_profiles p JOIN users u ON u.id = p.user_id WHERE p.user_id = :inst AND u.deleted_at IS NULL FOR UPDATE OF p;
SELECT 1 FROM user_roles WHERE user_id = :inst AND role = :c2 FOR SHARE;
SELECT os.instructor_id, os.hourly_rate_cents, os.durations, os.is_active, sv.name FROM instructor_services os JOIN services sv ON sv.id = os.service_id WHERE os.id = :offer;
SELECT su.full_name, iu.full_name, COALESCE(ss.email, true), COALESCE(ss.reminders, true), COALESCE(ss.reminder_hours, '{24,1}'), COALESCE(si.email, true), COALESCE(si.reminders, true), COALESCE(si.reminder_hours, '{24,1}') FROM users su JOIN users iu ON iu.id = :inst LEFT JOIN notification_settings ss ON ss.user_id = su.id LEFT JOIN notification_settings si ON si.user_id = iu.id WHERE su.id = :stud;
SELECT start_time, end_time FROM availability_windows WHERE instructor_id = :inst AND date = :day ORDER BY start_time;
SELECT date, start_time, lower(during), upper(during) FROM bookings WHERE instructor_id = :inst AND status <> 'cancelled' AND lower(during) >= :lo AND lower(during) < :hi AND (NULL::uuid IS NULL OR id <> NULL);
SELECT date, start_time, lower(during), upper(during) FROM bookings WHERE student_id = :stud AND status <> 'cancelled' AND lower(during) >= :lo AND lower(during) < :hi AND (NULL::uuid IS NULL OR id <> NULL);
\endpipeline
\startpipeline
INSERT INTO bookings (id, student_id, instructor_id, instructor_service_id, date, start_time, end_time, duration_minutes, price_cents, note, during, area, address, created_at) VALUES (:u1, :stud, :inst, :offer, :day, :st, :et, :c3, :c4, :c5, tstzrange(:sat, :eat, '[)'), :c6, NULL, :c7);
UPDATE idempotency_keys SET response_body = :c8 WHERE user_id = :stud AND key = :ikey;
INSERT INTO notifications (id, user_id, kind, title, body, booking_id, dedupe_key, created_at) VALUES (:u2, :inst, :c9, :c10, :c11, :u1, NULL, COALESCE(:c7, clock_timestamp())) RETURNING created_at;
INSERT INTO emails (user_id, template, data, dedupe_key) VALUES (:inst, :c9, :c12, :c13) ON CONFLICT (dedupe_key) DO NOTHING RETURNING id;
INSERT INTO notifications (id, user_id, kind, title, body, booking_id, dedupe_key, created_at) VALUES (:u3, :stud, :c14, :c15, :c16, :u1, NULL, COALESCE(:c7, clock_timestamp())) RETURNING created_at;
INSERT INTO emails (user_id, template, data, dedupe_key) VALUES (:stud, :c14, :c17, :c18) ON CONFLICT (dedupe_key) DO NOTHING RETURNING id;
WITH s AS ( INSERT INTO topic_seqs AS ts (topic, seq) SELECT t.topic, t.n FROM unnest(:c19::text[], :c20::bigint[]) WITH ORDINALITY AS t(topic, n, ord) ORDER BY t.ord ON CONFLICT (topic) DO UPDATE SET seq = ts.seq + EXCLUDED.seq RETURNING topic, seq) INSERT INTO events (topic, seq, type, payload) SELECT e.topic, s.seq - e.back, e.type, e.payload::jsonb FROM unnest(:c21::text[], :c22::bigint[], :c23::text[], :c24::text[]) AS e(topic, back, type, payload) JOIN s ON s.topic = e.topic RETURNING id, topic, seq, created_at;
WITH new AS (SELECT n.date, n.open::jsonb AS open FROM unnest(:c25::date[], :c26::text[]) AS n(date, open)), old AS (SELECT d.date, d.open FROM watch_days d JOIN new ON new.date = d.date WHERE d.instructor_id = :inst), up AS (UPDATE watch_days d SET open = new.open FROM new WHERE d.instructor_id = :inst AND d.date = new.date AND d.open IS DISTINCT FROM new.open) SELECT old.date, old.open, new.open FROM old JOIN new ON new.date = old.date WHERE old.open IS DISTINCT FROM new.open;
\endpipeline
WITH raw_job_data AS ( SELECT unnest(:c27::bigint[]) AS id, unnest(:c28::jsonb[]) AS args, unnest(:c29::timestamptz[]) AS created_at, unnest(:c30::text[]) AS kind, unnest(:c31::smallint[]) AS max_attempts, unnest(:c32::jsonb[]) AS metadata, unnest(:c33::smallint[]) AS priority, unnest(:c34::text[]) AS queue, unnest(:c35::timestamptz[]) AS scheduled_at, unnest(:c36::text[]) AS state, unnest(:c37::text[]) AS tags, unnest(:rk1::bytea[]) AS unique_key, unnest(:c38::integer[]) AS unique_states ) INSERT INTO river_job( id, args, created_at, kind, max_attempts, metadata, priority, queue, scheduled_at, state, tags, unique_key, unique_states ) SELECT coalesce(nullif(id, 0), nextval('river_job_id_seq'::regclass)), args, coalesce(nullif(created_at, '0001-01-01 00:00:00 +0000'), now()) AS created_at, kind, max_attempts, coalesce(metadata, '{}'::jsonb) AS metadata, priority, queue, coalesce(nullif(scheduled_at, '0001-01-01 00:00:00 +0000'), now()) AS scheduled_at, state::river_job_state, string_to_array(tags, ',')::varchar(255)[], nullif(unique_key, '')::bytea, nullif(unique_states::integer, 0)::bit(8) FROM raw_job_data ON CONFLICT (unique_key) WHERE unique_key IS NOT NULL AND unique_states IS NOT NULL AND river_job_state_in_bitmask(unique_states, state) DO UPDATE SET kind = river_job.kind RETURNING river_job.id, river_job.args, river_job.attempt, river_job.attempted_at, river_job.attempted_by, river_job.created_at, river_job.errors, river_job.finalized_at, river_job.kind, river_job.max_attempts, river_job.metadata, river_job.priority, river_job.queue, river_job.state, river_job.scheduled_at, river_job.tags, river_job.unique_key, river_job.unique_states, (xmax != 0) AS unique_skipped_as_duplicate;
commit;
