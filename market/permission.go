package market

// RoleSupport reads users, bookings, audit data and analytics; it changes
// nothing (its grants hold no write permission).
const RoleSupport = "support"

// Permission names added with permissions-as-data (migration 00006). Which
// role holds each is data in role_permissions, changed by admins at runtime.
const (
	PermAccountRead         = "account:read"         // own account, roles and permissions
	PermProfileRead         = "profile:read"         // own instructor profile
	PermServicesManage      = "services:manage"      // own offered services
	PermBookingsReadAny     = "bookings:read_any"    // every booking, filtered
	PermBookingsManageAny   = "bookings:manage_any"  // cancel or reschedule any booking
	PermUsersRead           = "users:read"           // search and read accounts
	PermUsersDeactivate     = "users:deactivate"     // deactivate accounts
	PermRolesRead           = "roles:read"           // roles and their grants
	PermRolesManage         = "roles:manage"         // change grants
	PermInstructorsReadAny  = "instructors:read_any" // listing state and utilisation of every instructor
	PermAuditRead           = "audit:read"           // the admin audit log
	PermAnalyticsRead       = "analytics:read"       // /admin/analytics/…
	PermSearchHistory       = "search:history"       // read and clear own search history
	PermNotificationsRead   = "notifications:read"   // own inbox
	PermNotificationsManage = "notifications:manage" // mark read, notification settings
	PermAccountExport       = "account:export"       // export everything stored about oneself
	PermAccountDelete       = "account:delete"       // delete own account
	PermAccountVerify       = "account:verify"       // ask for a new email verification link
)

// LockoutPermissions are the grants without which nobody could repair the
// access model: a change that leaves no live user holding one of them is
// refused.
func LockoutPermissions() []string { return []string{PermUsersManage, PermRolesManage} }

// Permission is a named right that routes check and roles are granted.
type Permission struct {
	Name        string `json:"name"`
	Description string `json:"description"`
}
