package http

import (
	"bufio"
	"context"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
	"golang.org/x/crypto/bcrypt"

	"instainstru/hub"
	"instainstru/market"
)

// exportTimeout bounds one export: the stream runs after the handler
// returned, outside Fiber's request timeouts.
const exportTimeout = time.Minute

// privacyRoutes: the caller's data export and account deletion, and the
// admins' audit trail.
func (s *Server) privacyRoutes(r fiber.Router) {
	s.handle(r, "GET", "/me/export", market.PermAccountExport, s.rest.exportLimit, s.exportMe)
	s.handle(r, "DELETE", "/me", market.PermAccountDelete, s.rest.passwordChecked(s, s.deleteMe)...)
	s.handle(r, "GET", "/admin/audit", market.PermAuditRead, s.listAudit)
}

// requestMeta is what store calls that audit or open sessions need to know
// about the request (see market.RequestMeta).
func (s *Server) requestMeta(c *fiber.Ctx) context.Context {
	m := market.RequestMeta{RequestID: requestID(c), IP: s.clientIP(c), UserAgent: string(c.Request().Header.UserAgent())}
	if u := currentUser(c); u != nil {
		m.ActorID = u.ID
	}
	return market.WithRequestMeta(c.UserContext(), m)
}

// audit records an action outside any transaction. The action already
// happened, so a failing write is logged, not returned.
func (s *Server) audit(c *fiber.Ctx, action, targetID string, details map[string]any) {
	if err := s.deps.DB.Audit(s.requestMeta(c), action, targetID, details); err != nil {
		s.log.Error("audit write failed", "action", action, "request_id", requestID(c), "err", err)
	}
}

// exportMe streams GET /me/export: everything stored about the caller as
// one JSON attachment. The export is audited before the first byte goes.
func (s *Server) exportMe(c *fiber.Ctx) error {
	u := currentUser(c)
	if err := s.deps.DB.Audit(s.requestMeta(c), market.AuditDataExported, u.ID, nil); err != nil {
		return err
	}
	now := time.Now()
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSONCharsetUTF8)
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="instainstru-export-`+now.UTC().Format("20060102")+`.json"`)
	c.Set(fiber.HeaderCacheControl, "no-store")
	userID, reqID := u.ID, requestID(c)
	c.Context().SetBodyStreamWriter(func(w *bufio.Writer) {
		ctx, cancel := context.WithTimeout(s.baseCtx, exportTimeout)
		defer cancel()
		if err := s.deps.DB.ExportUser(ctx, userID, now, w); err != nil {
			// Headers are gone: the client sees a truncated (invalid) document.
			s.log.Error("export failed mid-stream", "request_id", reqID, "user_id", userID, "err", err)
		}
		w.Flush() //nolint:errcheck // the client may have gone
	})
	return nil
}

type deleteMeRequest struct {
	Password string `json:"password" validate:"required,max=1024"`
}

// deleteMe is DELETE /me {"password"}: the caller's own account deletion.
func (s *Server) deleteMe(c *fiber.Ctx) error {
	var req deleteMeRequest
	if err := s.bind(c, &req); err != nil {
		return err
	}
	u := currentUser(c)
	hash, err := s.deps.DB.PasswordHash(c.UserContext(), u.ID)
	if err != nil {
		return err
	}
	if bcrypt.CompareHashAndPassword([]byte(hash), []byte(req.Password)) != nil {
		return market.ValidationError(map[string]string{"password": "is not your password"})
	}
	return s.deleteAccount(c, u.ID)
}

// deleteAccount runs the one deletion path (self-service and admin) and
// then closes the user's sockets: on this node at once, and on every other
// node through the account.deleted event the deletion committed on the
// user's topic (each hub closes that user's sockets with 4001 when it
// arrives; the outbox relay republishes it if the fast path fails).
func (s *Server) deleteAccount(c *fiber.Ctx, userID string) error {
	if _, err := s.deps.DB.DeleteAccount(s.requestMeta(c), market.AccountDeletion{UserID: userID, Actor: currentUser(c)}); err != nil {
		return err
	}
	if s.deps.Hub != nil {
		s.deps.Hub.DisconnectUser(userID, hub.StatusTokenExpired, "account deleted")
	}
	return c.SendStatus(fiber.StatusNoContent)
}

type auditItem struct {
	ID        string         `json:"id"`
	At        string         `json:"at"`
	ActorID   *string        `json:"actor_user_id"`
	TargetID  *string        `json:"target_user_id"`
	Action    string         `json:"action"`
	RequestID *string        `json:"request_id"`
	IP        *string        `json:"ip"`
	Details   map[string]any `json:"details"`
}

type auditResponse struct {
	Items      []auditItem `json:"items"`
	NextCursor *string     `json:"next_cursor"`
}

// listAudit is GET /admin/audit?user_id=&action=&from=&to=&limit=&cursor=,
// newest first; from/to are RFC 3339 instants ([from, to)).
func (s *Server) listAudit(c *fiber.Ctx) error {
	fields := map[string]string{}
	q := market.AuditQuery{}
	if v := c.Query("user_id"); v != "" {
		if _, err := uuid.Parse(v); err != nil || len(v) != 36 {
			fields["user_id"] = "must be a user id"
		}
		q.UserID = v
	}
	if v := c.Query("action"); v != "" {
		if len(v) > 64 || !validText(v) {
			fields["action"] = "must be an action name"
		}
		q.Action = v
	}
	for name, dst := range map[string]*time.Time{"from": &q.From, "to": &q.To} {
		if v := c.Query(name); v != "" {
			t, err := time.Parse(time.RFC3339Nano, v)
			if err != nil {
				fields[name] = "must be an RFC 3339 instant"
			}
			*dst = t
		}
	}
	if v := c.Query("cursor"); v != "" {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil || id <= 0 {
			fields["cursor"] = "is not a cursor this server issued"
		}
		q.AfterID = id
	}
	limit, err := queryLimit(c)
	if err != nil {
		return err
	}
	q.Limit = limit
	if len(fields) > 0 {
		return market.ValidationError(fields)
	}
	entries, more, err := s.deps.DB.AuditEntries(c.UserContext(), q)
	if err != nil {
		return err
	}
	resp := auditResponse{Items: make([]auditItem, 0, len(entries))}
	opt := func(v string) *string {
		if v == "" {
			return nil
		}
		return &v
	}
	for _, e := range entries {
		resp.Items = append(resp.Items, auditItem{ID: strconv.FormatInt(e.ID, 10),
			At: e.At.Format("2006-01-02T15:04:05.000000Z07:00"), ActorID: opt(e.ActorID), TargetID: opt(e.TargetID),
			Action: e.Action, RequestID: opt(e.RequestID), IP: opt(e.IP), Details: e.Details})
	}
	if more && len(entries) > 0 {
		next := strconv.FormatInt(entries[len(entries)-1].ID, 10)
		resp.NextCursor = &next
	}
	return c.JSON(resp)
}

// privacyOps documents privacyRoutes in /openapi.json.
func privacyOps() []apiOp {
	return []apiOp{
		{Method: "GET", Path: "/api/v1/me/export", Tag: "privacy",
			Summary: "Everything stored about the caller, as one JSON attachment (rate-limited, audited)",
			Auth:    authBearer, Status: 200,
			Response: map[string]any{"type": "object", "description": "format, exported_at, user_id, account, roles, profile, " +
				"offers, availability, bookings, sessions, booking_requests, security_log"}},
		{Method: "DELETE", Path: "/api/v1/me", Tag: "privacy",
			Summary: "Delete the caller's account: future lessons cancelled, personal data scrubbed, every session ended",
			Auth:    authBearer, Request: deleteMeRequest{}, Status: 204},
		{Method: "GET", Path: "/api/v1/admin/audit", Tag: "admin", Summary: "The security audit trail, newest first",
			Auth: market.PermAuditRead, Query: []apiParam{
				param("user_id", str("actor or target user id")), param("action", str("e.g. auth.login_failed")),
				param("from", str("RFC 3339 instant, inclusive")), param("to", str("RFC 3339 instant, exclusive")),
				param("limit", str("1..100")), param("cursor", str("next_cursor of the previous page"))},
			Status: 200, Response: auditResponse{}},
	}
}
