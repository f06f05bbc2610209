package http

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"instainstru/market"
)

// calendarStore: the per-user calendar feed (calendar.go). Lessons for
// one .ics come from bookingStore.Booking (parties and admins only).
type calendarStore interface {
	RotateCalendarFeed(ctx context.Context, userID string, hash []byte) (time.Time, error)
	CalendarFeed(ctx context.Context, userID string) (*time.Time, error)
	CalendarFeedLessons(ctx context.Context, hash []byte) (string, []market.Booking, error)
}

// calendarRoutes: "Add to calendar" for one lesson, and the private feed.
func (s *Server) calendarRoutes(r fiber.Router) {
	s.handle(r, "GET", "/bookings/:id/calendar.ics", market.PermBookingsRead, s.bookingICS)
	s.handle(r, "GET", "/me/calendar-feed", market.PermBookingsRead, s.getCalendarFeed)
	s.handle(r, "POST", "/me/calendar-feed", market.PermBookingsRead, s.rotateCalendarFeed)
	// Public: the secret token in the path is the credential (calendar
	// apps cannot send a bearer token).
	r.Get("/calendar/:token.ics", s.calendarFeedICS)
}

// calendarFeedView is GET/POST /me/calendar-feed. URL is set only by POST,
// the one moment the token exists outside the user's calendar app.
type calendarFeedView struct {
	Active    bool       `json:"active"`
	CreatedAt *time.Time `json:"created_at"`
	URL       *string    `json:"url,omitempty"`
}

// bookingICS is GET /bookings/{id}/calendar.ics: the lesson as an RFC 5545
// attachment, for its parties (404 for anyone else).
func (s *Server) bookingICS(c *fiber.Ctx) error {
	id, err := parseUUIDParam(c, "id")
	if err != nil {
		return err
	}
	u := currentUser(c)
	b, err := s.deps.DB.Booking(c.UserContext(), u, id)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, icsContentType)
	c.Set(fiber.HeaderContentDisposition, fmt.Sprintf(`attachment; filename="lesson-%s.ics"`, b.Date))
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.SendString(lessonCalendar([]market.Booking{*b}, u.ID, "InstaInstru lesson", s.pageURL(c), time.Now()))
}

// getCalendarFeed says whether the caller has a feed, and since when.
func (s *Server) getCalendarFeed(c *fiber.Ctx) error {
	at, err := s.deps.DB.CalendarFeed(c.UserContext(), currentUser(c).ID)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(calendarFeedView{Active: at != nil, CreatedAt: at})
}

// rotateCalendarFeed makes a new secret feed URL for the caller; the
// previous one stops working. 201 with the URL (shown this once).
func (s *Server) rotateCalendarFeed(c *fiber.Ctx) error {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return fmt.Errorf("random feed token: %w", err)
	}
	raw := base64.RawURLEncoding.EncodeToString(b)
	sum := sha256.Sum256([]byte(raw))
	at, err := s.deps.DB.RotateCalendarFeed(c.UserContext(), currentUser(c).ID, sum[:])
	if err != nil {
		return err
	}
	url := s.pageURL(c) + "/api/v1/calendar/" + raw + ".ics"
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.Status(fiber.StatusCreated).JSON(calendarFeedView{Active: true, CreatedAt: &at, URL: &url})
}

// feedToken is the shape of a feed token: 32 bytes, base64url.
var feedToken = regexp.MustCompile(`^[A-Za-z0-9_-]{43}$`)

// calendarFeedICS is GET /calendar/{token}.ics: the token owner's upcoming
// lessons. An unknown or rotated token is 404.
func (s *Server) calendarFeedICS(c *fiber.Ctx) error {
	raw := c.Params("token")
	if !feedToken.MatchString(raw) {
		return market.Errorf(market.ENOTFOUND, "calendar feed not found")
	}
	sum := sha256.Sum256([]byte(raw))
	owner, lessons, err := s.deps.DB.CalendarFeedLessons(c.UserContext(), sum[:])
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, icsContentType)
	c.Set(fiber.HeaderCacheControl, "private, no-store")
	return c.SendString(lessonCalendar(lessons, owner, "InstaInstru lessons", s.pageURL(c), time.Now()))
}

// pageURL is the web page's address for links: PUBLIC_URL, else this
// request's own origin.
func (s *Server) pageURL(c *fiber.Ctx) string {
	if s.cfg.PublicURL != "" {
		return strings.TrimRight(s.cfg.PublicURL, "/")
	}
	return c.BaseURL()
}
