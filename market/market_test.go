package market

import (
	"errors"
	"fmt"
	"testing"
)

func TestPriceCentsIsTheHourlyRateProRataRoundedToTheCent(t *testing.T) {
	tests := []struct {
		rate, minutes, want int
	}{
		{6000, 60, 6000},
		{6000, 30, 3000},
		{6000, 45, 4500},
		{6000, 90, 9000},
		{5000, 45, 3750},
		{3333, 30, 1667}, // 1666.5 rounds half up
		{3331, 45, 2498}, // 2498.25 rounds down
		{1, 15, 0},       // 0.25 cent
		{2, 15, 1},       // 0.5 cent rounds up
		{0, 60, 0},
	}
	for _, tc := range tests {
		s := InstructorService{HourlyRateCents: tc.rate}
		if got := s.PriceCents(tc.minutes); got != tc.want {
			t.Errorf("rate %d for %d min = %d, want %d", tc.rate, tc.minutes, got, tc.want)
		}
	}
}

func TestAllowsDurationOnlyForOfferedLengths(t *testing.T) {
	s := InstructorService{Durations: []int{30, 60}}
	for minutes, want := range map[int]bool{30: true, 60: true, 45: false, 0: false, -30: false} {
		if got := s.AllowsDuration(minutes); got != want {
			t.Errorf("AllowsDuration(%d) = %v, want %v", minutes, got, want)
		}
	}
	if (&InstructorService{}).AllowsDuration(60) {
		t.Error("a service without durations allowed one")
	}
}

func TestTopicsNameTheirOwner(t *testing.T) {
	tests := []struct {
		topic, owner string
	}{
		{UserTopic("u1"), "u1"},
		{AvailabilityTopic("i1"), ""},
		{"user:", ""},
		{"users:u1", ""},
		{"", ""},
	}
	for _, tc := range tests {
		if got := TopicOwner(tc.topic); got != tc.owner {
			t.Errorf("TopicOwner(%q) = %q, want %q", tc.topic, got, tc.owner)
		}
	}
	if AvailabilityTopic("i1") != "availability:i1" || UserTopic("u1") != "user:u1" {
		t.Error("topic names differ from the SPEC's")
	}
}

func TestErrorCodeAndMessageHideInternalErrors(t *testing.T) {
	domain := Errorf(ESLOTUNAVAIL, "slot %s is taken", "09:00")
	tests := []struct {
		name      string
		err       error
		code, msg string
	}{
		{"nil", nil, "", "internal error"},
		{"domain", domain, ESLOTUNAVAIL, "slot 09:00 is taken"},
		{"wrapped domain", fmt.Errorf("create booking: %w", domain), ESLOTUNAVAIL, "slot 09:00 is taken"},
		{"driver error", errors.New(`pq: duplicate key value violates unique constraint "users_email_key"`), EINTERNAL, "internal error"},
		{"validation", ValidationError(map[string]string{"date": "not a date"}), EVALIDATION, "request failed validation"},
	}
	for _, tc := range tests {
		if got := ErrorCode(tc.err); got != tc.code {
			t.Errorf("%s: code %q, want %q", tc.name, got, tc.code)
		}
		if got := ErrorMessage(tc.err); got != tc.msg {
			t.Errorf("%s: message %q, want %q", tc.name, got, tc.msg)
		}
	}
	if v := ValidationError(map[string]string{"date": "not a date"}); v.Details["date"] != "not a date" {
		t.Errorf("validation details %v", v.Details)
	}
}

func TestUserRolesAndPermissions(t *testing.T) {
	u := User{Roles: []string{RoleInstructor}, Permissions: []string{PermAvailabilityManage}}
	if !u.HasRole(RoleInstructor) || u.HasRole(RoleAdmin) {
		t.Errorf("HasRole wrong for %v", u.Roles)
	}
	if !u.Can(PermAvailabilityManage) || u.Can(PermUsersManage) {
		t.Errorf("Can wrong for %v", u.Permissions)
	}
}
