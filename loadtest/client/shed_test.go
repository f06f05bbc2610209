package client

import (
	"fmt"
	"testing"
	"time"
)

func TestOnlyA503WithRetryAfterCountsAsShedNotFailed(t *testing.T) {
	tests := []struct {
		name string
		err  error
		shed bool
	}{
		{"503 with Retry-After", &APIError{Status: 503, Code: "service_unavailable", Retry: time.Second}, true},
		{"wrapped 503 with Retry-After", fmt.Errorf("book: %w", &APIError{Status: 503, Retry: time.Second}), true},
		{"503 without Retry-After is a failure", &APIError{Status: 503, Code: "service_unavailable"}, false},
		{"409 is a conflict", &APIError{Status: 409, Code: "slot_unavailable"}, false},
		{"500 is a failure", &APIError{Status: 500, Code: "internal"}, false},
		{"a timeout is a failure", fmt.Errorf("post: %w", errTimeoutForTest{}), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := IsShed(tc.err); got != tc.shed {
				t.Fatalf("isShed = %v, want %v", got, tc.shed)
			}
		})
	}
}

type errTimeoutForTest struct{}

func (errTimeoutForTest) Error() string   { return "timeout" }
func (errTimeoutForTest) Timeout() bool   { return true }
func (errTimeoutForTest) Temporary() bool { return true }
