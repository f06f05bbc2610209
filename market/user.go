package market

import "time"

// Role names. Permissions are granted to roles in the database (RBAC).
const (
	RoleStudent    = "student"
	RoleInstructor = "instructor"
	RoleAdmin      = "admin"
)

// Permission names checked by the http layer's requires(...) middleware.
const (
	PermBookingsCreate     = "bookings:create"
	PermBookingsRead       = "bookings:read"
	PermBookingsManage     = "bookings:manage" // cancel / reschedule own bookings
	PermAvailabilityManage = "availability:manage"
	PermProfileManage      = "profile:manage" // instructor's own profile and services
	PermUsersManage        = "users:manage"
	PermMonitoringRead     = "monitoring:read"
	PermRealtimeSubscribe  = "realtime:subscribe"
)

// User is an account. Roles and Permissions are filled by lookups that join them.
type User struct {
	ID          string    `json:"id"`
	Email       string    `json:"email"`
	FullName    string    `json:"full_name"`
	Roles       []string  `json:"roles"`
	Permissions []string  `json:"permissions,omitempty"`
	CreatedAt   time.Time `json:"created_at"`
	// EmailVerified: the owner opened the verification link (or reset the
	// password through the address). Booking requires it.
	EmailVerified bool `json:"email_verified"`
	// TokenVersion is compared with the "ver" claim of access tokens; a
	// password reset increments it, ending every token issued before.
	TokenVersion int `json:"-"`
}

// HasRole reports whether u has role r.
func (u *User) HasRole(r string) bool {
	for _, x := range u.Roles {
		if x == r {
			return true
		}
	}
	return false
}

// Can reports whether u holds permission p.
func (u *User) Can(p string) bool {
	for _, x := range u.Permissions {
		if x == p {
			return true
		}
	}
	return false
}
