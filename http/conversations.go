package http

import (
	"context"
	"fmt"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"instainstru/market"
)

// conversationStore: conversations between a student and an instructor
// (conversations.go).
type conversationStore interface {
	OpenConversation(ctx context.Context, opener *market.User, otherID string) (*market.Conversation, bool, error)
	Conversation(ctx context.Context, userID, id string) (*market.Conversation, error)
	Conversations(ctx context.Context, userID string, limit int, cursor string) (*market.ConversationPage, error)
	Messages(ctx context.Context, userID, convID, before string, limit int) (*market.MessagePage, error)
	SendMessage(ctx context.Context, nm market.NewMessage) (*market.MessageResult, error)
	MarkConversationRead(ctx context.Context, userID, convID, messageID string) error
	SetConversationBlocked(ctx context.Context, userID, convID string, blocked bool) error
	AdminConversation(ctx context.Context, id, before string, limit int) (*market.AdminConversation, error)
}

// Page sizes of a conversation's messages.
const (
	defaultMessageLimit = 50
	maxMessageLimit     = 100
)

// conversationRoutes: a user's conversations and the audited support view.
func (s *Server) conversationRoutes(r fiber.Router) {
	use := market.PermConversationsUse
	sendLimit := s.newLimiter(s.limiterStorage(), "message-send-user", s.cfg.MessageSendPerUserPerMinute,
		func(c *fiber.Ctx) string { return currentUser(c).ID }, false)
	s.handle(r, "POST", "/conversations", use, s.openConversation)
	s.handle(r, "GET", "/conversations", use, s.listConversations)
	s.handle(r, "GET", "/conversations/:id", use, s.getConversation)
	s.handle(r, "GET", "/conversations/:id/messages", use, s.listMessages)
	s.handle(r, "POST", "/conversations/:id/messages", use, sendLimit, s.sendMessage)
	s.handle(r, "POST", "/conversations/:id/read", use, s.readConversation)
	s.handle(r, "POST", "/conversations/:id/block", use, s.blockConversation(true))
	s.handle(r, "DELETE", "/conversations/:id/block", use, s.blockConversation(false))
	s.handle(r, "GET", "/admin/conversations/:id", market.PermConversationsRead, s.adminConversation)
}

type openConversationRequest struct {
	UserID string `json:"user_id" validate:"required"`
}

// openConversation is POST /conversations {"user_id"} → 201 the new
// conversation, or 200 the existing one (market.CanOpen says who may).
func (s *Server) openConversation(c *fiber.Ctx) error {
	var req openConversationRequest
	if err := s.bind(c, &req); err != nil {
		return err
	}
	other, err := parseUUID(req.UserID)
	if err != nil {
		return market.ValidationError(map[string]string{"user_id": "must be a UUID"})
	}
	conv, created, err := s.deps.DB.OpenConversation(c.UserContext(), currentUser(c), other)
	if err != nil {
		return err
	}
	status := fiber.StatusOK
	if created {
		status = fiber.StatusCreated
	}
	c.Set(fiber.HeaderLocation, "/api/v1/conversations/"+conv.ID)
	return c.Status(status).JSON(conv)
}

// listConversations is GET /conversations?limit=&cursor=: newest activity
// first, with "unread", the caller's unread messages over all of them.
func (s *Server) listConversations(c *fiber.Ctx) error {
	limit, err := queryLimit(c)
	if err != nil {
		return err
	}
	cursor, err := queryText(c, "cursor", 512)
	if err != nil {
		return err
	}
	page, err := s.deps.DB.Conversations(c.UserContext(), currentUser(c).ID, limit, cursor)
	if err != nil {
		return err
	}
	return c.JSON(page)
}

// getConversation is GET /conversations/{id}: the caller's view of one.
func (s *Server) getConversation(c *fiber.Ctx) error {
	id, err := parseUUIDParam(c, "id")
	if err != nil {
		return err
	}
	conv, err := s.deps.DB.Conversation(c.UserContext(), currentUser(c).ID, id)
	if err != nil {
		return err
	}
	return c.JSON(conv)
}

// messageQuery reads ?before=<message id>&limit= (1..100, default 50).
func messageQuery(c *fiber.Ctx) (before string, limit int, err error) {
	if before, err = queryUUID(c, "before"); err != nil {
		return "", 0, err
	}
	limit = defaultMessageLimit
	if raw := c.Query("limit"); raw != "" {
		n, err := strconv.Atoi(raw)
		if err != nil || n < 1 || n > maxMessageLimit {
			return "", 0, market.ValidationError(map[string]string{"limit": fmt.Sprintf("must be an integer from 1 to %d", maxMessageLimit)})
		}
		limit = n
	}
	return before, limit, nil
}

// listMessages is GET /conversations/{id}/messages?before=&limit=50:
// newest first, with both parties' read positions.
func (s *Server) listMessages(c *fiber.Ctx) error {
	id, err := parseUUIDParam(c, "id")
	if err != nil {
		return err
	}
	before, limit, err := messageQuery(c)
	if err != nil {
		return err
	}
	page, err := s.deps.DB.Messages(c.UserContext(), currentUser(c).ID, id, before, limit)
	if err != nil {
		return err
	}
	return c.JSON(page)
}

type sendMessageRequest struct {
	Body string `json:"body"`
}

// sendMessage is POST /conversations/{id}/messages {"body"} → 201 the
// message. With an Idempotency-Key, a repeat answers the first message
// (Idempotent-Replayed: true) and sends nothing.
func (s *Server) sendMessage(c *fiber.Ctx) error {
	id, err := parseUUIDParam(c, "id")
	if err != nil {
		return err
	}
	key := c.Get(headerIdempotencyKey)
	if len(key) > market.MaxIdempotencyKeyLen || !validText(key) {
		return market.ValidationError(map[string]string{headerIdempotencyKey: fmt.Sprintf(
			"must be at most %d characters of text", market.MaxIdempotencyKeyLen)})
	}
	var req sendMessageRequest
	if err := s.decodeOnly(c, &req); err != nil {
		return err
	}
	res, err := s.deps.DB.SendMessage(c.UserContext(), market.NewMessage{ConversationID: id, SenderID: currentUser(c).ID,
		Body: req.Body, IdempotencyKey: key, EmailAfter: s.cfg.MessageEmailDelay})
	if err != nil {
		return err
	}
	if res.Replay {
		c.Set(headerReplayed, "true")
	}
	return c.Status(fiber.StatusCreated).JSON(res.Message)
}

type readConversationRequest struct {
	MessageID string `json:"message_id" validate:"required"`
}

// readConversation is POST /conversations/{id}/read {"message_id"} → 204.
func (s *Server) readConversation(c *fiber.Ctx) error {
	id, err := parseUUIDParam(c, "id")
	if err != nil {
		return err
	}
	var req readConversationRequest
	if err := s.bind(c, &req); err != nil {
		return err
	}
	msg, err := parseUUID(req.MessageID)
	if err != nil {
		return market.ValidationError(map[string]string{"message_id": "must be a UUID"})
	}
	if err := s.deps.DB.MarkConversationRead(c.UserContext(), currentUser(c).ID, id, msg); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

// blockConversation is POST (block) or DELETE (unblock)
// /conversations/{id}/block → 204.
func (s *Server) blockConversation(blocked bool) fiber.Handler {
	return func(c *fiber.Ctx) error {
		id, err := parseUUIDParam(c, "id")
		if err != nil {
			return err
		}
		if err := s.deps.DB.SetConversationBlocked(c.UserContext(), currentUser(c).ID, id, blocked); err != nil {
			return err
		}
		return c.SendStatus(fiber.StatusNoContent)
	}
}

// adminConversation is GET /admin/conversations/{id}?before=&limit=: the
// support view, audited: each view writes conversation.viewed once per
// party (so it shows in both parties' security log and export); a failed
// audit write refuses the view, so no unaudited view is ever answered.
func (s *Server) adminConversation(c *fiber.Ctx) error {
	id, err := parseUUIDParam(c, "id")
	if err != nil {
		return err
	}
	before, limit, err := messageQuery(c)
	if err != nil {
		return err
	}
	conv, err := s.deps.DB.AdminConversation(c.UserContext(), id, before, limit)
	if err != nil {
		return err
	}
	details := map[string]any{"conversation_id": id, "messages": len(conv.Messages.Items)}
	for _, target := range []string{conv.Student.ID, conv.Instructor.ID} {
		if err := s.deps.DB.Audit(s.requestMeta(c), market.AuditConversationViewed, target, details); err != nil {
			return err
		}
	}
	return c.JSON(conv)
}
