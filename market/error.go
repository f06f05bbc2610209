// Package market holds the domain of the InstaInstru hub: users, the catalog,
// instructors, availability windows, bookings, events and the error codes
// every layer speaks. It imports no other package of this module; every other
// package imports it, so dependencies point inward.
package market

import (
	"errors"
	"fmt"
)

// Error codes. They are the `code` field of the API's error JSON; the http
// package maps each to a status in one table.
const (
	EMALFORMED    = "malformed_request"      // 400: body is not valid JSON or has wrong types
	EUNAUTHORIZED = "unauthorized"           // 401: missing, expired or forged credentials
	EFORBIDDEN    = "forbidden"              // 403: authenticated but not allowed
	ENOTFOUND     = "not_found"              // 404
	ECONFLICT     = "conflict"               // 409: generic conflict (duplicate email…)
	ESLOTUNAVAIL  = "slot_unavailable"       // 409: the requested time is not open
	EVALIDATION   = "validation_failed"      // 422: well-formed but invalid, with per-field details
	EIDEMPOTENCY  = "idempotency_key_reused" // 422: same key, different request
	ETOOLARGE     = "payload_too_large"      // 413
	ERATELIMIT    = "rate_limited"           // 429
	EUNAVAILABLE  = "service_unavailable"    // 503: a dependency is down
	EINTERNAL     = "internal"               // 500: never shown with details
)

// EINSIDENOTICE (409): a student tried to reschedule a lesson that starts
// inside the instructor's cancellation notice (they may still cancel; the
// cancellation is marked late).
const EINSIDENOTICE = "inside_cancellation_notice"

// EEMAILUNVERIFIED (403): the action needs a verified email address (a
// booking by an account that has not opened its verification link).
const EEMAILUNVERIFIED = "email_unverified"

// EINSTRUCTORUNAVAIL (409): the instructor exists but cannot be booked
// (their email address is not verified yet, so they are not listed either).
const EINSTRUCTORUNAVAIL = "instructor_unavailable"

// Error is the one error type that crosses layers. Anything that is not an
// *Error is treated as internal and its text is never shown to users.
type Error struct {
	Code    string
	Message string
	Details map[string]any
}

func (e *Error) Error() string {
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

// Errorf builds an *Error with a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ValidationError is a 422 with per-field reasons.
func ValidationError(fields map[string]string) *Error {
	d := make(map[string]any, len(fields))
	for k, v := range fields {
		d[k] = v
	}
	return &Error{Code: EVALIDATION, Message: "request failed validation", Details: d}
}

// ErrorCode returns the code of err, or EINTERNAL for errors that are not
// domain errors (and "" for nil).
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the user-facing message of err; internal errors get a
// generic text so that no driver detail leaks.
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "internal error"
}
