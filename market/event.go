package market

import (
	"encoding/json"
	"strings"
	"time"
)

// Event types.
const (
	EventAvailabilityChanged = "availability.changed"
	EventBookingCreated      = "booking.created"   // to the instructor
	EventBookingConfirmed    = "booking.confirmed" // to the student
	EventBookingCancelled    = "booking.cancelled"
	EventBookingRescheduled  = "booking.rescheduled"
	EventBookingCompleted    = "booking.completed" // to both, when a lesson has ended
	EventBookingNoShow       = "booking.no_show"   // to both, when the instructor reports a no-show
	// EventAccountDeleted goes to the deleted user's private topic. Every
	// node's hub closes that user's sockets (4001) when it arrives live, so
	// the close rides the outbox: same transaction, relay as safety net.
	EventAccountDeleted = "account.deleted"
	// EventSessionEnded goes to a user's private topic when every session
	// of theirs ends (a password reset): the same close on every node.
	EventSessionEnded = "session.ended"
	// EventAccountVerified goes to a user's private topic when their email
	// address is verified (written in the verify transaction), so every
	// open tab drops its "confirm your email" banner at once.
	EventAccountVerified = "account.verified"
)

// EndsSessions reports whether an event on a user's private topic ends
// every live connection of that user.
func EndsSessions(eventType string) bool {
	return eventType == EventAccountDeleted || eventType == EventSessionEnded
}

// AvailabilityTopic is the public topic of an instructor's open time.
func AvailabilityTopic(instructorID string) string { return "availability:" + instructorID }

// UserTopic is a user's private topic; every connection of the user joins it.
func UserTopic(userID string) string { return "user:" + userID }

// TopicOwner returns the user id of a private user topic, or "" for others.
func TopicOwner(topic string) string {
	if id, ok := strings.CutPrefix(topic, "user:"); ok {
		return id
	}
	return ""
}

// Event is one committed change on a topic. Seq increases by one per topic,
// without gaps; TS is the commit time of the change (the event row is the
// last thing its transaction writes).
type Event struct {
	ID    int64           `json:"-"`
	Topic string          `json:"topic"`
	Seq   int64           `json:"seq"`
	Type  string          `json:"event"`
	Data  json.RawMessage `json:"data"`
	TS    time.Time       `json:"ts"`
}

// NewEvent is an event not yet written: a topic, a type and its data.
type NewEvent struct {
	Topic string
	Type  string
	Data  any
}
