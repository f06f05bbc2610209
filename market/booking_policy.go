package market

import "time"

// BookingPolicy is what one viewer may still do with a booking, and at
// what cost, at one instant: the page offers only what the server would
// accept and states the cancellation terms before acting (SPEC §4.3).
type BookingPolicy struct {
	// CanCancel: the viewer may cancel it now (a confirmed lesson that has
	// not started, and the viewer is a party or manages all bookings).
	CanCancel bool `json:"can_cancel"`
	// CanReschedule: as CanCancel, and the move is not refused by the
	// notice (a student may not move a lesson inside the notice).
	CanReschedule bool `json:"can_reschedule"`
	// FreeUntil is the last instant a student's cancellation is free (the
	// start minus the instructor's notice); nil when there is no notice.
	FreeUntil *time.Time `json:"free_until"`
	// LateIfCancelledNow: a cancellation by this viewer now is marked late.
	LateIfCancelledNow bool `json:"late_if_cancelled_now"`
	// NoticeHours is the instructor's cancellation notice.
	NoticeHours int `json:"cancellation_notice_hours"`
}

// PolicyFor computes b's policy for viewer at now from the same rules the
// writes apply: CheckChangeable, CheckMoveNotice and LateCancel.
func PolicyFor(b *Booking, viewer *User, now time.Time) BookingPolicy {
	byStudent := viewer.ID == b.StudentID
	mayChange := byStudent || viewer.ID == b.InstructorID || viewer.Can(PermBookingsManageAny)
	p := BookingPolicy{NoticeHours: b.NoticeHours}
	if b.NoticeHours > 0 {
		t := b.StartsAt.Add(-time.Duration(b.NoticeHours) * time.Hour)
		p.FreeUntil = &t
	}
	if !mayChange || CheckChangeable(b, now) != nil {
		return p
	}
	p.CanCancel = true
	p.CanReschedule = CheckMoveNotice(byStudent, b.StartsAt, b.NoticeHours, now) == nil
	p.LateIfCancelledNow = LateCancel(byStudent, b.StartsAt, b.NoticeHours, now)
	return p
}
