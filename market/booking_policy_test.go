package market

import (
	"testing"
	"time"
)

func TestPolicyForOffersOnlyWhatTheWritesAccept(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	student, instructor := &User{ID: "s"}, &User{ID: "i"}
	stranger, admin := &User{ID: "x"}, &User{ID: "a", Permissions: []string{PermBookingsManageAny}}
	lesson := func(startsIn time.Duration, status string, notice int) *Booking {
		return &Booking{StudentID: "s", InstructorID: "i", Status: status, StartsAt: now.Add(startsIn), NoticeHours: notice}
	}
	tests := []struct {
		name                        string
		b                           *Booking
		viewer                      *User
		cancel, reschedule, lateNow bool
	}{
		{"student, well ahead", lesson(48*time.Hour, BookingConfirmed, 24), student, true, true, false},
		{"student, inside the notice", lesson(3*time.Hour, BookingConfirmed, 24), student, true, false, true},
		{"instructor, inside the notice", lesson(3*time.Hour, BookingConfirmed, 24), instructor, true, true, false},
		{"admin, inside the notice", lesson(3*time.Hour, BookingConfirmed, 24), admin, true, true, false},
		{"stranger", lesson(48*time.Hour, BookingConfirmed, 24), stranger, false, false, false},
		{"started", lesson(-time.Minute, BookingConfirmed, 24), student, false, false, false},
		{"cancelled", lesson(48*time.Hour, BookingCancelled, 24), student, false, false, false},
		{"no notice", lesson(time.Hour, BookingConfirmed, 0), student, true, true, false},
	}
	for _, tc := range tests {
		p := PolicyFor(tc.b, tc.viewer, now)
		if p.CanCancel != tc.cancel || p.CanReschedule != tc.reschedule || p.LateIfCancelledNow != tc.lateNow {
			t.Errorf("%s: %+v", tc.name, p)
		}
	}
	p := PolicyFor(lesson(48*time.Hour, BookingConfirmed, 24), student, now)
	if p.FreeUntil == nil || !p.FreeUntil.Equal(now.Add(24*time.Hour)) || p.NoticeHours != 24 {
		t.Errorf("free until: %+v", p)
	}
	if p := PolicyFor(lesson(48*time.Hour, BookingConfirmed, 0), student, now); p.FreeUntil != nil {
		t.Errorf("no notice has no free-until: %v", p.FreeUntil)
	}
}
