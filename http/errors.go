package http

import (
	"context"
	"errors"
	"net"

	"github.com/gofiber/fiber/v2"

	"instainstru/market"
)

// Codes that exist only at the HTTP layer (the domain never produces them).
const (
	codeMethodNotAllowed = "method_not_allowed"
	codeUnsupportedMedia = "unsupported_media_type"
)

// statusOf is the one table from error codes to HTTP statuses. Anything not
// listed is internal (500).
func statusOf(code string) int {
	switch code {
	case market.EMALFORMED:
		return fiber.StatusBadRequest
	case market.EUNAUTHORIZED, market.ENOSESSION:
		return fiber.StatusUnauthorized
	case market.EFORBIDDEN, market.EEMAILUNVERIFIED, market.EBLOCKED, market.EFETCHHEADER:
		return fiber.StatusForbidden
	case market.ENOTFOUND:
		return fiber.StatusNotFound
	case codeMethodNotAllowed:
		return fiber.StatusMethodNotAllowed
	case market.ECONFLICT, market.ESLOTUNAVAIL, market.EINSIDENOTICE, market.EINSTRUCTORUNAVAIL:
		return fiber.StatusConflict
	case market.ETOOLARGE, market.EIMAGETOOLARGE:
		return fiber.StatusRequestEntityTooLarge
	case codeUnsupportedMedia, market.EUNSUPPORTEDIMAGE:
		return fiber.StatusUnsupportedMediaType
	case market.EVALIDATION, market.EIDEMPOTENCY, market.EIMAGEDIMENSIONS, market.EIMAGETOOSMALL:
		return fiber.StatusUnprocessableEntity
	case market.ERATELIMIT:
		return fiber.StatusTooManyRequests
	case market.EUNAVAILABLE:
		return fiber.StatusServiceUnavailable
	}
	return fiber.StatusInternalServerError
}

// errorBody is the SPEC's error JSON.
type errorBody struct {
	Error errorPayload `json:"error"`
}

type errorPayload struct {
	Code      string         `json:"code"`
	Message   string         `json:"message"`
	Details   map[string]any `json:"details"`
	RequestID string         `json:"request_id"`
}

// fromFiberError turns the errors Fiber itself raises (no route, body too
// large, wrong method…) into domain errors so they share the JSON shape.
func fromFiberError(fe *fiber.Error) *market.Error {
	switch fe.Code {
	case fiber.StatusNotFound:
		return &market.Error{Code: market.ENOTFOUND, Message: "route not found"}
	case fiber.StatusMethodNotAllowed:
		return &market.Error{Code: codeMethodNotAllowed, Message: "method not allowed"}
	case fiber.StatusRequestEntityTooLarge:
		return &market.Error{Code: market.ETOOLARGE, Message: "request body too large"}
	case fiber.StatusUnsupportedMediaType:
		return &market.Error{Code: codeUnsupportedMedia, Message: "unsupported content type"}
	case fiber.StatusTooManyRequests:
		return &market.Error{Code: market.ERATELIMIT, Message: "too many requests"}
	case fiber.StatusServiceUnavailable:
		return &market.Error{Code: market.EUNAVAILABLE, Message: "service unavailable"}
	case fiber.StatusUnauthorized:
		return &market.Error{Code: market.EUNAUTHORIZED, Message: "unauthorized"}
	case fiber.StatusForbidden:
		return &market.Error{Code: market.EFORBIDDEN, Message: "forbidden"}
	}
	if fe.Code >= 400 && fe.Code < 500 {
		// Request-level faults fasthttp/Fiber detect (bad headers, timeouts
		// reading the body…): the client sent something we cannot parse.
		return &market.Error{Code: market.EMALFORMED, Message: "malformed request"}
	}
	return nil
}

// errorHandler is Fiber's ErrorHandler: every error a handler returns ends
// here and is written as the SPEC's JSON. Internal errors are logged with
// the request id and shown only as a generic message; no stack trace or
// driver text ever reaches the client.
func (s *Server) errorHandler(c *fiber.Ctx, err error) error {
	var me *market.Error
	var fe *fiber.Error
	switch {
	case errors.As(err, &me):
	case errors.As(err, &fe):
		me = photoUploadTooLarge(c, fromFiberError(fe))
	case s.dependencyDown(err):
		me = &market.Error{Code: market.EUNAVAILABLE, Message: "a backing service is unavailable, retry shortly"}
	}
	status := fiber.StatusInternalServerError
	body := errorPayload{Code: market.EINTERNAL, Message: "internal error", RequestID: requestID(c)}
	if me != nil && statusOf(me.Code) != fiber.StatusInternalServerError {
		status = statusOf(me.Code)
		body.Code, body.Message, body.Details = me.Code, me.Message, me.Details
	}
	if body.Details == nil {
		body.Details = map[string]any{}
	}
	if status >= 500 && !errors.Is(err, market.ErrOverloaded) { // shed writes are counted, not logged one by one
		// The real error (with a 503's cause) goes to the log only.
		s.log.Error("request failed",
			"request_id", body.RequestID, "method", c.Method(), "path", c.Path(), "status", status, "err", err)
	}
	if status == fiber.StatusServiceUnavailable {
		c.Set(fiber.HeaderRetryAfter, "1")
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.Status(status).JSON(errorBody{Error: body})
}

// writeError writes err as a response right away and returns nil, for
// middleware that must see the final status (rate limiters that count only
// failures) before Fiber's ErrorHandler would run.
func (s *Server) writeError(c *fiber.Ctx, err error) error {
	if err == nil {
		return nil
	}
	return s.errorHandler(c, err)
}

// respondErrors runs the rest of the chain and turns a returned error into
// its response immediately, so enclosing middleware reads the real status.
func (s *Server) respondErrors(c *fiber.Ctx) error {
	return s.writeError(c, c.Next())
}

// dependencyDown reports errors that mean Postgres or Redis could not be
// reached in time (a refused or broken connection, a timeout), which the
// SPEC answers with 503 rather than 500. Drivers wrap the net error, so no
// driver type is needed here.
func (s *Server) dependencyDown(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) || errors.Is(err, context.DeadlineExceeded) || (s.deps.DB != nil && s.deps.DB.Unavailable(err))
}
