package market

import (
	"fmt"
	"time"
)

// AnalyticsZone is the zone whose calendar days the analytics series use.
const AnalyticsZone = "America/New_York"

// MaxAnalyticsDays bounds a range (inclusive days) so one request cannot
// scan years of rows.
const MaxAnalyticsDays = 366

// ValidateAnalyticsRange checks an inclusive [from, to] range of dates:
// EVALIDATION when from is after to or it spans more than a year.
func ValidateAnalyticsRange(from, to time.Time) error {
	if from.After(to) {
		return ValidationError(map[string]string{"from": "must not be after to"})
	}
	if days := int(to.Sub(from).Hours()/24) + 1; days > MaxAnalyticsDays {
		return ValidationError(map[string]string{"to": fmt.Sprintf("range is %d days; at most %d", days, MaxAnalyticsDays)})
	}
	return nil
}

// BookingDay is one day of bookings created and cancelled.
type BookingDay struct {
	Date      string `json:"date"`
	Created   int    `json:"created"`
	Cancelled int    `json:"cancelled"`
}

// LateCancellationDay is one day's cancellations and how many of them came
// within LateCancelWindow of the lesson's start.
type LateCancellationDay struct {
	Date      string `json:"date"`
	Cancelled int    `json:"cancelled"`
	Late      int    `json:"late"`
}

// SearchDay is one day of searches and those that found nothing.
type SearchDay struct {
	Date        string `json:"date"`
	Searches    int    `json:"searches"`
	ZeroResults int    `json:"zero_results"`
}

// ConversionDay is one day of instructor-page views, searches and bookings
// created. The rates are per day, not per visitor: nothing personal is
// recorded with a view or a search, so a booking cannot be traced back to
// the view that led to it. Nil when the denominator is zero.
type ConversionDay struct {
	Date             string   `json:"date"`
	Views            int      `json:"views"`
	Searches         int      `json:"searches"`
	Bookings         int      `json:"bookings"`
	ViewConversion   *float64 `json:"view_conversion"`
	SearchConversion *float64 `json:"search_conversion"`
}

// RankedCount is one row of a top-N list.
type RankedCount struct {
	Name         string `json:"name"`
	Bookings     int    `json:"bookings"`
	RevenueCents int64  `json:"revenue_cents"`
}

// UtilisationDay is one lesson date's open hours (availability windows of
// every instructor) and booked hours (confirmed or completed lessons).
type UtilisationDay struct {
	Date        string   `json:"date"`
	OpenHours   float64  `json:"open_hours"`
	BookedHours float64  `json:"booked_hours"`
	Utilisation *float64 `json:"utilisation"`
}

// NotificationDay is one day of in-app notifications created and jobs
// (emails, reminders) that finished: sent, or failed for good.
type NotificationDay struct {
	Date    string `json:"date"`
	Created int    `json:"created"`
	Sent    int    `json:"sent"`
	Failed  int    `json:"failed"`
}

// NotificationAvailability says which sources existed for NotificationSeries.
type NotificationAvailability struct {
	Notifications bool `json:"notifications"`
	Jobs          bool `json:"jobs"`
}
