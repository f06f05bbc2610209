package pgfloor

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/jackc/pgx/v5"
)

// fixture creates what the scripts read per client: an instructor (New
// York, one area) offering the first service for 60 minutes with a
// 06:00–22:00 window on every day the slots can fall on, and a student of
// their own; and the recorded constants (args). It returns the first
// river_job id that may be the floor's, so cleanup can remove the jobs
// (no node should work the floor's email).
func fixture(ctx context.Context, conn *pgx.Conn, run string, clients int, args map[string]string) (firstJob int64, err error) {
	if err := conn.QueryRow(ctx, `SELECT COALESCE(max(id), 0) + 1 FROM river_job`).Scan(&firstJob); err != nil {
		return 0, fmt.Errorf("pgfloor: river_job: %w", err)
	}
	names := make([]string, 0, len(args))
	for n := range args {
		names = append(names, n)
	}
	sort.Strings(names)
	cols, vals, params := make([]string, len(names)), make([]string, len(names)), make([]any, len(names))
	for i, n := range names {
		cols[i], vals[i], params[i] = pgx.Identifier{n}.Sanitize()+" text", fmt.Sprintf("$%d::text", i+1), args[n]
	}
	stmts := []string{
		`DROP TABLE IF EXISTS pgfloor_fixture, pgfloor_args`,
		`CREATE TABLE pgfloor_fixture (client int PRIMARY KEY, inst text, stud text, offer text, tz text)`,
		`CREATE TABLE pgfloor_args (` + strings.Join(append([]string{"one int"}, cols...), ", ") + `)`,
	}
	for _, s := range stmts {
		if _, err := conn.Exec(ctx, s); err != nil {
			return 0, fmt.Errorf("pgfloor: %s: %w", s, err)
		}
	}
	if _, err := conn.Exec(ctx, `INSERT INTO pgfloor_args VALUES (`+strings.Join(append([]string{"1"}, vals...), ", ")+`)`, params...); err != nil {
		return 0, fmt.Errorf("pgfloor: args: %w", err)
	}
	for n := range clients {
		if err := fixtureClient(ctx, conn, run, n); err != nil {
			return 0, err
		}
	}
	return firstJob, nil
}

// fixtureClient creates client n's instructor, offer, windows and student.
func fixtureClient(ctx context.Context, conn *pgx.Conn, run string, n int) error {
	return pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		var inst, stud, offer string
		user := `INSERT INTO users (email, password_hash, full_name, email_verified_at)
			VALUES ($1, 'x', $2, now()) RETURNING id`
		if err := tx.QueryRow(ctx, user, fmt.Sprintf("pgfloor-%s-i%d@example.com", run, n), fmt.Sprintf("Floor Instructor %d", n)).Scan(&inst); err != nil {
			return fmt.Errorf("pgfloor: instructor: %w", err)
		}
		if err := tx.QueryRow(ctx, user, fmt.Sprintf("pgfloor-%s-s%d@example.com", run, n), fmt.Sprintf("Floor Student %d", n)).Scan(&stud); err != nil {
			return fmt.Errorf("pgfloor: student: %w", err)
		}
		b := &pgx.Batch{}
		b.Queue(`INSERT INTO user_roles (user_id, role) VALUES ($1, 'instructor'), ($2, 'student')`, inst, stud)
		b.Queue(`INSERT INTO instructor_profiles (user_id, areas, timezone) VALUES ($1, '{Upper West Side}', 'America/New_York')`, inst)
		b.Queue(`INSERT INTO instructor_services (instructor_id, service_id, hourly_rate_cents, durations)
			VALUES ($1, (SELECT id FROM services ORDER BY slug LIMIT 1), 6000, '{60}') RETURNING id`, inst).QueryRow(func(r pgx.Row) error {
			return r.Scan(&offer)
		})
		b.Queue(`INSERT INTO availability_windows (instructor_id, date, start_time, end_time)
			SELECT $1, current_date + 30 + d, '06:00', '22:00' FROM generate_series(0, 729) d`, inst)
		if err := tx.SendBatch(ctx, b).Close(); err != nil {
			return fmt.Errorf("pgfloor: client %d: %w", n, err)
		}
		_, err := tx.Exec(ctx, `INSERT INTO pgfloor_fixture VALUES ($1, $2, $3, $4, 'America/New_York')`, n, inst, stud, offer)
		return err
	})
}

// cleanup drops the fixture tables and the floor's River jobs. The
// floor's bookings, events and notifications stay (rows of its own
// instructors and students).
func cleanup(ctx context.Context, conn *pgx.Conn, firstJob int64) error {
	if _, err := conn.Exec(ctx, `DELETE FROM river_job WHERE id >= $1`, firstJob); err != nil {
		return fmt.Errorf("pgfloor: cleanup jobs: %w", err)
	}
	_, err := conn.Exec(ctx, `DROP TABLE IF EXISTS pgfloor_fixture, pgfloor_args`)
	return err
}
