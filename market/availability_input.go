package market

// WindowInput is one window of a write request, in the instructor's local time.
type WindowInput struct {
	Start string
	End   string
}

// DayInput is the complete set of windows wanted on one date.
type DayInput struct {
	Date    string
	Windows []WindowInput
}

// AvailabilityStamp names one state of an instructor's public availability:
// every committed change to their windows or bookings bumps the
// availability topic's seq in the same transaction (that is what lets a
// client resume from a snapshot's seq), and the timezone and the
// instructor's existence are the only other inputs of the GET shape. So two
// reads with the same stamp return the same days for the same range.
type AvailabilityStamp struct {
	Timezone string
	Seq      int64
}
