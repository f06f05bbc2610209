package http

import "instainstru/market"

// conversationOps documents conversationRoutes in /openapi.json.
func conversationOps() []apiOp {
	paging := []apiParam{
		param("limit", apiParam{Description: "page size, 1..100 (default 20)",
			Schema: map[string]any{"type": "integer", "minimum": 1, "maximum": maxPageLimit, "default": defaultPageLimit}}),
		param("cursor", str("opaque next_cursor of the previous page")),
	}
	msgPaging := []apiParam{
		param("before", apiParam{Description: "only messages older than this message id",
			Schema: map[string]any{"type": "string", "format": "uuid"}}),
		param("limit", apiParam{Description: "page size, 1..100 (default 50)",
			Schema: map[string]any{"type": "integer", "minimum": 1, "maximum": maxMessageLimit, "default": defaultMessageLimit}}),
	}
	body := object(map[string]any{"body": map[string]any{"type": "string", "minLength": 1, "maxLength": market.MaxMessageLen}}, "body")
	return []apiOp{
		{Method: "POST", Path: "/api/v1/conversations", Tag: "conversations",
			Summary: "Open a conversation (201), or get the existing one (200): a student with any active instructor; " +
				"an instructor with a student who booked them or wrote first (403 otherwise); never with oneself (422)",
			Request: openConversationRequest{}, Status: 201, Response: market.Conversation{}},
		{Method: "GET", Path: "/api/v1/conversations", Tag: "conversations",
			Summary: "The caller's conversations, newest activity first; \"unread\" is the caller's unread messages over all of them",
			Query:   paging, Status: 200, Response: market.ConversationPage{}},
		{Method: "GET", Path: "/api/v1/conversations/:id", Tag: "conversations",
			Summary: "One conversation as the caller sees it (404 for anyone but the two parties)",
			Status:  200, Response: market.Conversation{}},
		{Method: "GET", Path: "/api/v1/conversations/:id/messages", Tag: "conversations",
			Summary: "Messages, newest first, and how far each party has read (read_up_to: user id → message id or null)",
			Query:   msgPaging, Status: 200, Response: market.MessagePage{}},
		{Method: "POST", Path: "/api/v1/conversations/:id/messages", Tag: "conversations",
			Summary: "Send a message (1..2000 characters, plain text): pushed to both parties as message.created; " +
				"403 \"blocked\" when the other party blocked the sender; 429 past RATE_LIMIT_MESSAGES_PER_MIN; " +
				"emailed to the recipient if still unread after MESSAGE_EMAIL_DELAY",
			Headers: []apiParam{param("Idempotency-Key", apiParam{Description: "a repeat returns the first message (Idempotent-Replayed: true)",
				Schema: map[string]any{"type": "string", "maxLength": market.MaxIdempotencyKeyLen}})},
			Request: body, Status: 201, Response: market.Message{}},
		{Method: "POST", Path: "/api/v1/conversations/:id/read", Tag: "conversations",
			Summary: "Mark the conversation read up to a message: both parties are pushed conversation.read",
			Request: readConversationRequest{}, Status: 204},
		{Method: "POST", Path: "/api/v1/conversations/:id/block", Tag: "conversations",
			Summary: "Block the other party: their sends answer 403 \"blocked\"", Status: 204},
		{Method: "DELETE", Path: "/api/v1/conversations/:id/block", Tag: "conversations",
			Summary: "Unblock the other party", Status: 204},
		{Method: "GET", Path: "/api/v1/admin/conversations/:id", Tag: "admin",
			Summary: "Support view of a conversation; every view is written to the audit log (conversation.viewed)",
			Query:   msgPaging, Status: 200, Response: market.AdminConversation{}},
	}
}
