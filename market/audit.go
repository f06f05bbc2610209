package market

import (
	"context"
	"time"
)

// Audit actions. Names are dotted lower-case words (the table checks it).
const (
	AuditLoginSucceeded   = "auth.login"
	AuditLoginFailed      = "auth.login_failed"
	AuditRefreshReuse     = "auth.refresh_reuse"
	AuditLogout           = "auth.logout"
	AuditRolesChanged     = "user.roles_changed"
	AuditAccountDeleted   = "user.deleted"
	AuditDataExported     = "user.exported"
	AuditAdminCancelled   = "booking.admin_cancelled"
	AuditPasswordChanged  = "auth.password_changed" // for the password change/reset flows
	AuditPasswordResetAsk = "auth.password_reset_requested"
)

// RequestMeta is who does something and from where: the authenticated
// actor (empty when anonymous), the request's id, the client IP and user
// agent. The http layer puts it on the context of requests whose store calls
// write audit rows or sessions inside their own transaction, so no store
// signature needs extra arguments. Missing meta only leaves those columns
// empty.
type RequestMeta struct {
	ActorID   string
	RequestID string
	IP        string
	UserAgent string
}

type requestMetaKey struct{}

// WithRequestMeta returns ctx carrying m.
func WithRequestMeta(ctx context.Context, m RequestMeta) context.Context {
	return context.WithValue(ctx, requestMetaKey{}, m)
}

// RequestMetaFrom returns the meta the http layer put on ctx (zero when none).
func RequestMetaFrom(ctx context.Context) RequestMeta {
	m, _ := ctx.Value(requestMetaKey{}).(RequestMeta)
	return m
}

// AuditEntry is one row of the trail. Details must hold no secrets
// (passwords, tokens, hashes) and no email addresses.
type AuditEntry struct {
	ID       int64     `json:"id"`
	At       time.Time `json:"at"`
	ActorID  string    `json:"actor_user_id,omitempty"`
	TargetID string    `json:"target_user_id,omitempty"`
	// ActorName and TargetName are the accounts' names now (a deleted
	// account reads "Deleted user"); empty when there is no such user.
	ActorName  string         `json:"actor_name,omitempty"`
	TargetName string         `json:"target_name,omitempty"`
	Action     string         `json:"action"`
	RequestID  string         `json:"request_id,omitempty"`
	IP         string         `json:"ip,omitempty"`
	Details    map[string]any `json:"details"`
}

// AuditQuery filters the trail for admins. Zero fields do not filter.
// Pages run newest first; AfterID is the last id of the previous page.
type AuditQuery struct {
	UserID  string // actor or target
	Action  string
	From    time.Time
	To      time.Time
	AfterID int64
	Limit   int
}
