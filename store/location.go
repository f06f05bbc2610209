package store

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"instainstru/market"
)

// checkLocation validates and normalises a booking's area and address,
// adding reasons to fields. The area is trimmed (its membership in the
// instructor's areas is checked under the schedule lock); the address is
// trimmed and nil when blank.
func checkLocation(fields map[string]string, area string, address *string) (string, *string) {
	area = strings.TrimSpace(area)
	switch {
	case utf8.RuneCountInString(area) > market.MaxAreaLen:
		fields["area"] = fmt.Sprintf("must be at most %d characters", market.MaxAreaLen)
	case badText(area):
		fields["area"] = "must not contain control or bidirectional formatting characters"
	}
	if address == nil {
		return area, nil
	}
	a := strings.TrimSpace(*address)
	switch {
	case a == "":
		return area, nil
	case utf8.RuneCountInString(a) > market.MaxAddressLen:
		fields["address"] = fmt.Sprintf("must be at most %d characters", market.MaxAddressLen)
	case badText(a):
		fields["address"] = "must not contain control or bidirectional formatting characters"
	}
	return area, &a
}

// badText reports control characters other than newline and tab, and
// bidirectional formatting characters (which can make an address read
// differently from what was stored).
func badText(s string) bool {
	if !utf8.ValidString(s) || market.HasBidiControl(s) {
		return true
	}
	for _, r := range s {
		if unicode.IsControl(r) && r != '\n' && r != '\t' {
			return true
		}
	}
	return false
}

// addressKey is the address as part of an idempotency request hash.
func addressKey(a *string) string {
	if a == nil {
		return "\x00nil"
	}
	return *a
}

// pickArea returns the area a booking takes place in, given the
// instructor's areas: the requested one spelled as the instructor lists it
// (case-insensitive match), or the instructor's first area when none was
// requested. An instructor who lists no area gets "" (and a requested area
// is refused).
func pickArea(areas []string, requested string) (string, error) {
	if requested == "" {
		if len(areas) == 0 {
			return "", nil
		}
		return areas[0], nil
	}
	for _, a := range areas {
		if strings.EqualFold(a, requested) {
			return a, nil
		}
	}
	if len(areas) == 0 {
		return "", market.ValidationError(map[string]string{"area": "this instructor lists no areas"})
	}
	return "", market.ValidationError(map[string]string{"area": "must be one of the instructor's areas: " + strings.Join(areas, ", ")})
}

// checkNotice refuses a student's reschedule of b when it starts inside
// the instructor's cancellation notice: moving it would dodge the late
// mark a cancellation gets. (Instructors and admins may still move it.)
func checkNotice(ctx context.Context, tx pgx.Tx, b *market.Booking, now time.Time) error {
	var hours int
	if err := tx.QueryRow(ctx, `SELECT cancellation_notice_hours FROM instructor_profiles WHERE user_id = $1`,
		b.InstructorID).Scan(&hours); err != nil {
		return fmt.Errorf("read cancellation notice: %w", err)
	}
	return market.CheckMoveNotice(true, b.StartsAt, hours, now)
}
