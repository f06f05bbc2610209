package http

import (
	"time"

	"instainstru/market"
)

// bookingOut is a booking as REST answers show it to one viewer: the
// booking object and what that viewer may still do with it (can_cancel,
// can_reschedule, free_until, late_if_cancelled_now,
// cancellation_notice_hours), so the page offers only what would be
// accepted and states the terms before acting. Events carry the plain
// booking: their readers are two different viewers.
type bookingOut struct {
	*market.Booking
	market.BookingPolicy
}

// withPolicy pairs b with its policy for viewer now.
func withPolicy(b *market.Booking, viewer *market.User) bookingOut {
	return bookingOut{Booking: b, BookingPolicy: market.PolicyFor(b, viewer, time.Now())}
}

// withPolicies is withPolicy for a list.
func withPolicies(bs []market.Booking, viewer *market.User) []bookingOut {
	out := make([]bookingOut, len(bs))
	for i := range bs {
		out[i] = withPolicy(&bs[i], viewer)
	}
	return out
}
