package store

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"instainstru/market"
)

// instructorFilter is the WHERE clause of an instructor's schedule reads
// (availability, its stamp, the instructor's own profile): a live user with
// the instructor role and a profile.
const instructorFilter = `u.deleted_at IS NULL
	AND EXISTS (SELECT 1 FROM user_roles r WHERE r.user_id = u.id AND r.role = 'instructor')`

// listedFilter is the WHERE clause of every read that lists or shows an
// instructor to others (browse, public detail, search candidates and
// suggestions): instructorFilter and a verified email address. An
// unverified instructor is not bookable either (market.CheckInstructor).
const listedFilter = instructorFilter + ` AND u.email_verified_at IS NOT NULL`

// ListInstructors returns up to p.Limit instructors with their active
// services, and whether more follow.
func (db *DB) ListInstructors(ctx context.Context, p market.InstructorPage) ([]market.Instructor, bool, error) {
	var serviceID, afterName, afterID *string
	if p.ServiceID != "" {
		serviceID = &p.ServiceID
	}
	if p.After != nil {
		afterName, afterID = &p.After.FullName, &p.After.ID
	}
	rows, err := db.pool.Query(ctx, `
		SELECT u.id, u.full_name, p.bio, p.years_experience, p.timezone, p.areas, p.cancellation_notice_hours
		FROM instructor_profiles p JOIN users u ON u.id = p.user_id
		WHERE `+listedFilter+`
		  AND ($1::uuid IS NULL OR EXISTS (SELECT 1 FROM instructor_services s
		        WHERE s.instructor_id = p.user_id AND s.is_active AND s.service_id = $1::uuid))
		  AND ($2 = '' OR u.full_name ILIKE '%' || $3 || '%' ESCAPE '\'
		        OR p.bio ILIKE '%' || $3 || '%' ESCAPE '\'
		        OR EXISTS (SELECT 1 FROM instructor_services s JOIN services sv ON sv.id = s.service_id
		              WHERE s.instructor_id = p.user_id AND s.is_active AND sv.name ILIKE '%' || $3 || '%' ESCAPE '\'))
		  AND ($4::text IS NULL OR (u.full_name, u.id) > ($4::text, $5::uuid))
		ORDER BY u.full_name, u.id
		LIMIT $6`, serviceID, p.Query, escapeLike(p.Query), afterName, afterID, p.Limit+1)
	if err != nil {
		return nil, false, fmt.Errorf("list instructors: %w", translate(err))
	}
	list, err := pgx.CollectRows(rows, scanInstructor)
	if err != nil {
		return nil, false, fmt.Errorf("list instructors: %w", translate(err))
	}
	more := len(list) > p.Limit
	if more {
		list = list[:p.Limit]
	}
	if err := db.fillServices(ctx, list, false); err != nil {
		return nil, false, err
	}
	return list, more, nil
}

// InstructorByID returns an instructor with their services. The public
// view (withInactive false) shows only listed instructors (listedFilter: an
// unverified one is ENOTFOUND) and only active services; the instructor's
// own view (withInactive) shows every live instructor, verified or not,
// with removed services too. ENOTFOUND for anyone who is not a live
// instructor.
func (db *DB) InstructorByID(ctx context.Context, id string, withInactive bool) (*market.Instructor, error) {
	filter := listedFilter
	if withInactive {
		filter = instructorFilter
	}
	rows, err := db.pool.Query(ctx, `
		SELECT u.id, u.full_name, p.bio, p.years_experience, p.timezone, p.areas, p.cancellation_notice_hours
		FROM instructor_profiles p JOIN users u ON u.id = p.user_id
		WHERE p.user_id = $1 AND `+filter, id)
	if err != nil {
		return nil, fmt.Errorf("instructor: %w", translate(err))
	}
	list, err := pgx.CollectRows(rows, scanInstructor)
	if err != nil {
		return nil, fmt.Errorf("instructor: %w", translate(err))
	}
	if len(list) == 0 {
		return nil, &market.Error{Code: market.ENOTFOUND, Message: "instructor not found"}
	}
	if err := db.fillServices(ctx, list, withInactive); err != nil {
		return nil, err
	}
	return &list[0], nil
}

func scanInstructor(r pgx.CollectableRow) (market.Instructor, error) {
	var in market.Instructor
	err := r.Scan(&in.ID, &in.FullName, &in.Bio, &in.YearsExperience, &in.Timezone, &in.Areas, &in.CancellationNoticeHours)
	if in.Areas == nil {
		in.Areas = []string{}
	}
	in.Services = []market.InstructorService{}
	return in, err
}

// fillServices loads the offered services of every instructor in list with
// one query.
func (db *DB) fillServices(ctx context.Context, list []market.Instructor, withInactive bool) error {
	if len(list) == 0 {
		return nil
	}
	ids := make([]string, len(list))
	at := make(map[string]int, len(list))
	for i, in := range list {
		ids[i] = in.ID
		at[in.ID] = i
	}
	rows, err := db.pool.Query(ctx, `
		SELECT s.instructor_id, s.is_active AND s.id = (SELECT f.id FROM instructor_services f
			WHERE f.instructor_id = s.instructor_id AND f.is_active ORDER BY f.created_at, f.id LIMIT 1), `+instructorServiceColumns+`
		FROM instructor_services s JOIN services sv ON sv.id = s.service_id
		WHERE s.instructor_id = ANY($1::uuid[]) AND (s.is_active OR $2)
		ORDER BY s.is_active DESC, sv.name, s.created_at`, ids, withInactive)
	if err != nil {
		return fmt.Errorf("instructor services: %w", translate(err))
	}
	defer rows.Close()
	for rows.Next() {
		var owner string
		var s market.InstructorService
		if err := rows.Scan(append([]any{&owner, &s.Main}, instructorServiceDest(&s)...)...); err != nil {
			return fmt.Errorf("scan instructor service: %w", err)
		}
		i := at[owner]
		list[i].Services = append(list[i].Services, s)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("instructor services: %w", translate(err))
	}
	return nil
}

const instructorServiceColumns = `s.id, s.service_id, sv.name, s.hourly_rate_cents, s.durations, s.is_active`

func instructorServiceDest(s *market.InstructorService) []any {
	return []any{&s.ID, &s.ServiceID, &s.Name, &s.HourlyRateCents, &s.Durations, &s.Active}
}

// UpdateInstructorProfile replaces the profile of instructorID under the
// schedule lock that bookings and availability writes take. Changing the
// timezone while confirmed lessons lie ahead is ECONFLICT: their local dates
// and times were fixed in the old zone, and moving them silently would
// change either the wall-clock time or the instant the student booked.
func (db *DB) UpdateInstructorProfile(ctx context.Context, instructorID string, p market.ProfileUpdate) (*market.Instructor, error) {
	err := db.transact(ctx, func(tx pgx.Tx) error {
		loc, err := lockSchedule(ctx, tx, instructorID)
		if err != nil {
			return err
		}
		if loc.String() != p.Timezone {
			var busy bool
			if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM bookings
				WHERE instructor_id = $1 AND status = 'confirmed' AND upper(during) > now())`, instructorID).Scan(&busy); err != nil {
				return fmt.Errorf("check upcoming bookings: %w", err)
			}
			if busy {
				return &market.Error{Code: market.ECONFLICT,
					Message: "cannot change timezone while confirmed lessons are upcoming",
					Details: map[string]any{"timezone": "has upcoming confirmed bookings"}}
			}
		}
		areas, err := resolveAreas(ctx, tx, p.Areas)
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE instructor_profiles
			SET bio = $2, years_experience = $3, areas = $4, timezone = $5, updated_at = now(),
			    cancellation_notice_hours = $6
			WHERE user_id = $1`, instructorID, p.Bio, p.YearsExperience, areas, p.Timezone, p.CancellationNoticeHours)
		if err != nil {
			return fmt.Errorf("update profile: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return db.InstructorByID(ctx, instructorID, true)
}

// AddInstructorService offers a catalog service. EVALIDATION if the catalog
// service does not exist; ECONFLICT if it is already actively offered.
func (db *DB) AddInstructorService(ctx context.Context, instructorID string, n market.NewInstructorService) (*market.InstructorService, error) {
	var s market.InstructorService
	err := db.transact(ctx, func(tx pgx.Tx) error {
		var exists bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM services WHERE id = $1)`, n.ServiceID).Scan(&exists); err != nil {
			return fmt.Errorf("check service: %w", err)
		}
		if !exists {
			return market.ValidationError(map[string]string{"service_id": "no such catalog service"})
		}
		err := tx.QueryRow(ctx, `
			WITH s AS (
				INSERT INTO instructor_services (instructor_id, service_id, hourly_rate_cents, durations)
				VALUES ($1, $2, $3, $4) RETURNING *)
			SELECT `+instructorServiceColumns+` FROM s JOIN services sv ON sv.id = s.service_id`,
			instructorID, n.ServiceID, n.HourlyRateCents, n.Durations).Scan(instructorServiceDest(&s)...)
		if err != nil {
			if market.ErrorCode(translate(err)) == market.ECONFLICT {
				return &market.Error{Code: market.ECONFLICT, Message: "you already offer this service",
					Details: map[string]any{"service_id": "already offered"}}
			}
			return fmt.Errorf("insert instructor service: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &s, nil
}

// UpdateInstructorService changes an active offer of instructorID. Existing
// bookings keep the price they were booked at. ENOTFOUND if the offer is
// not theirs or was removed.
func (db *DB) UpdateInstructorService(ctx context.Context, instructorID, id string, ch market.InstructorServiceChange) (*market.InstructorService, error) {
	var s market.InstructorService
	err := db.transact(ctx, func(tx pgx.Tx) error {
		return tx.QueryRow(ctx, `
			WITH s AS (
				UPDATE instructor_services
				SET hourly_rate_cents = COALESCE($3::int, hourly_rate_cents),
				    durations = COALESCE($4::int[], durations), updated_at = now()
				WHERE id = $1 AND instructor_id = $2 AND is_active RETURNING *)
			SELECT `+instructorServiceColumns+` FROM s JOIN services sv ON sv.id = s.service_id`,
			id, instructorID, ch.HourlyRateCents, ch.Durations).Scan(instructorServiceDest(&s)...)
	})
	if err != nil {
		if market.ErrorCode(err) == market.ENOTFOUND {
			return nil, &market.Error{Code: market.ENOTFOUND, Message: "offered service not found"}
		}
		return nil, err
	}
	return &s, nil
}

// DeactivateInstructorService soft-deletes an offer (is_active=false): it is
// no longer listed or bookable, while bookings that reference it keep it.
// ENOTFOUND if it is not an active offer of instructorID.
func (db *DB) DeactivateInstructorService(ctx context.Context, instructorID, id string) error {
	tag, err := db.pool.Exec(ctx, `UPDATE instructor_services SET is_active = false, updated_at = now()
		WHERE id = $1 AND instructor_id = $2 AND is_active`, id, instructorID)
	if err != nil {
		return fmt.Errorf("deactivate instructor service: %w", translate(err))
	}
	if tag.RowsAffected() == 0 {
		return &market.Error{Code: market.ENOTFOUND, Message: "offered service not found"}
	}
	return nil
}
