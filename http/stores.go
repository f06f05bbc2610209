package http

import (
	"context"
	"io"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"instainstru/market"
)

// What the handlers need from persistence, one small interface per handler
// group, declared here where they are used. *store.DB satisfies them all
// (cmd/hubd/node passes it); http never imports the store package, so no
// database driver type reaches a handler. Failures are *market.Error values
// (ENOTFOUND, EVALIDATION, ECONFLICT…) or internal errors.

// Store is everything the server reads and writes: the union of the
// groups below.
type Store interface {
	accountStore
	catalogStore
	instructorStore
	photoStore
	availabilityStore
	bookingStore
	calendarStore
	notificationStore
	conversationStore
	privacyStore
	searchHistoryStore
	watchStore // watches.go
	adminStore
	analyticsStore
	opsStore
}

// accountStore: registration, login, tokens, roles (auth.go, token.go,
// ws.go, users.go, permissions.go, verify_reset.go).
type accountStore interface {
	RegisterUser(ctx context.Context, nu market.NewUser, verify market.TokenIssue) (*market.User, error)
	MailSignupAttempt(ctx context.Context, email string, at time.Time) error
	UserByEmail(ctx context.Context, email string) (*market.User, string, error)
	UserByID(ctx context.Context, id string) (*market.User, error)
	CreateRefreshToken(ctx context.Context, userID string, tokenVersion int, hash []byte, expiresAt time.Time) error
	RotateRefreshToken(ctx context.Context, oldHash, newHash []byte, expiresAt time.Time) (string, error)
	RevokeRefreshFamily(ctx context.Context, hash []byte) (string, error)
	VerifyEmail(ctx context.Context, hash []byte) (string, error)
	ResendVerification(ctx context.Context, userID string, t market.TokenIssue) error
	RequestPasswordReset(ctx context.Context, email string, t market.TokenIssue) error
	ResetPassword(ctx context.Context, hash []byte, passwordHash string) (market.PasswordReset, error)
	ListUsers(ctx context.Context, p market.UserPage) ([]market.User, bool, error)
	SetUserRoles(ctx context.Context, userID string, roles []string) (*market.User, error)
	Grants(ctx context.Context) (*market.Grants, error)
	SetRolePermissions(ctx context.Context, actorID, role string, perms []string) ([]string, error)
}

// catalogStore: categories and services (catalog.go).
type catalogStore interface {
	Categories(ctx context.Context) ([]market.Category, error)
	Services(ctx context.Context, f market.ServiceFilter) ([]market.Service, error)
	Areas(ctx context.Context) ([]market.Area, error) // areas.go
}

// instructorStore: profiles and offered services (instructors.go).
type instructorStore interface {
	ListInstructors(ctx context.Context, p market.InstructorPage) ([]market.Instructor, bool, error)
	InstructorByID(ctx context.Context, id string, withInactive bool) (*market.Instructor, error)
	UpdateInstructorProfile(ctx context.Context, instructorID string, p market.ProfileUpdate) (*market.Instructor, error)
	AddInstructorService(ctx context.Context, instructorID string, n market.NewInstructorService) (*market.InstructorService, error)
	UpdateInstructorService(ctx context.Context, instructorID, id string, ch market.InstructorServiceChange) (*market.InstructorService, error)
	DeactivateInstructorService(ctx context.Context, instructorID, id string) error
}

// availabilityReader: the public availability read and its cache stamp
// (availability.go, availability_cache.go); Deps.ReadDB may be a separate
// pool.
type availabilityReader interface {
	Availability(ctx context.Context, instructorID, from, to string) (*market.Availability, error)
	stamper
}

// availabilityStore: an instructor's own schedule writes (availability.go).
type availabilityStore interface {
	availabilityReader
	AddWindow(ctx context.Context, instructorID string, date string, w market.WindowInput, now func() time.Time) (*market.Window, error)
	DeleteWindow(ctx context.Context, instructorID, windowID string, now func() time.Time) error
	ReplaceWeek(ctx context.Context, instructorID, weekStart string, days []market.DayInput, now func() time.Time) (*market.Availability, error)
	CopyWeek(ctx context.Context, instructorID, sourceWeekStart, targetWeekStart string, now func() time.Time) (*market.Availability, error)
	ApplyPattern(ctx context.Context, instructorID, sourceWeekStart, from, to string, now func() time.Time) (*market.Availability, error)
}

// bookingStore: bookings and their outcomes (bookings.go, outcomes.go).
type bookingStore interface {
	CreateBooking(ctx context.Context, nb market.NewBooking) (*market.BookingResult, error)
	Bookings(ctx context.Context, actor *market.User, q market.BookingQuery) ([]market.Booking, string, error)
	Booking(ctx context.Context, actor *market.User, id string) (*market.Booking, error)
	CancelBooking(ctx context.Context, actor *market.User, id, reason string, now func() time.Time) (*market.Booking, error)
	RescheduleBooking(ctx context.Context, actor *market.User, id, date, startTime string, now func() time.Time) (*market.Booking, bool, error)
	MarkNoShow(ctx context.Context, actor *market.User, id string, now func() time.Time) (*market.Booking, error)
}

// notificationStore: the in-app inbox and settings (notifications.go).
type notificationStore interface {
	Notifications(ctx context.Context, userID string, q market.NotificationQuery) (*market.NotificationPage, error)
	MarkNotificationsRead(ctx context.Context, userID string, ids []string, all bool) error
	NotificationSettings(ctx context.Context, userID string) (market.NotificationSettings, error)
	SaveNotificationSettings(ctx context.Context, userID string, s market.NotificationSettings) (market.NotificationSettings, error)
}

// privacyStore: export, deletion and the audit trail (privacy.go).
type privacyStore interface {
	Audit(ctx context.Context, action, targetID string, details map[string]any) error
	AuditEntries(ctx context.Context, q market.AuditQuery) ([]market.AuditEntry, bool, error)
	ExportUser(ctx context.Context, userID string, now time.Time, w io.Writer) error
	PasswordHash(ctx context.Context, userID string) (string, error)
	DeleteAccount(ctx context.Context, d market.AccountDeletion) (*market.DeletionResult, error)
}

// searchHistoryStore: a user's recent searches and their recording
// (search.go).
type searchHistoryStore interface {
	RecordSearch(ctx context.Context, r market.SearchRecord, keep int) error
	SearchHistory(ctx context.Context, userID string, limit int) ([]market.SearchHistoryEntry, error)
	DeleteSearchHistory(ctx context.Context, userID, id string) error
	ClearSearchHistory(ctx context.Context, userID string) error
	PruneSearchHistory(ctx context.Context, now time.Time, retention time.Duration) (int64, error)
}

// adminStore: the admin console's lists (admin.go).
type adminStore interface {
	AdminBookings(ctx context.Context, f market.AdminBookingFilter) ([]market.AdminBooking, string, error)
	AdminInstructors(ctx context.Context, from, to time.Time) ([]market.AdminInstructor, error)
	RecordInstructorView(ctx context.Context, instructorID string) error
}

// analyticsStore: the admin analytics series (admin.go).
type analyticsStore interface {
	BookingSeries(ctx context.Context, from, to time.Time) ([]market.BookingDay, error)
	LateCancellationSeries(ctx context.Context, from, to time.Time) ([]market.LateCancellationDay, error)
	SearchSeries(ctx context.Context, from, to time.Time) ([]market.SearchDay, bool, error)
	ConversionSeries(ctx context.Context, from, to time.Time) ([]market.ConversionDay, error)
	TopServices(ctx context.Context, from, to time.Time, limit int) ([]market.RankedCount, error)
	TopAreas(ctx context.Context, from, to time.Time, limit int) ([]market.RankedCount, error)
	UtilisationSeries(ctx context.Context, from, to time.Time) ([]market.UtilisationDay, error)
	NotificationSeries(ctx context.Context, from, to time.Time) ([]market.NotificationDay, market.NotificationAvailability, error)
}

// opsStore: readiness, pool metrics and the 503 rule (ops.go, errors.go).
type opsStore interface {
	Ping(ctx context.Context) error
	// Collectors export the store's pool and admission statistics.
	Collectors() []prometheus.Collector
	// Unavailable reports whether err means the database could not serve
	// the request (connection lost or refused, server restarting) rather
	// than refusing it: 503 with Retry-After, never 500.
	Unavailable(err error) bool
}

// Searcher answers GET /search and /search/suggest (store.Searcher).
type Searcher interface {
	Search(ctx context.Context, q string, limit int, now time.Time) (*market.SearchResult, error)
	// SearchWith is Search with options (exact words, no relaxations).
	SearchWith(ctx context.Context, q string, o market.SearchOptions, now time.Time) (*market.SearchResult, error)
	Suggest(ctx context.Context, userID, prefix string, limit int) ([]market.Suggestion, error)
}
