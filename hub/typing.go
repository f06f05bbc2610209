package hub

import (
	"context"
	"time"

	"github.com/google/uuid"

	"instainstru/market"
)

// TypingRelay decides client-originated typing frames: whether userID may
// signal typing in conversationID, and to whom. The conversations store
// implements it; cmd/hubd/node sets it in Options.Typing. Without one,
// typing frames are answered with an "unavailable" error.
type TypingRelay interface {
	// TypingPeer returns the other party of conversationID when userID is
	// one of its two parties and may write there. Errors carry market
	// codes: ENOTFOUND (no such conversation, or userID is not a party),
	// EFORBIDDEN (blocked); anything else is taken for an outage.
	TypingPeer(ctx context.Context, userID, conversationID string) (peerID string, err error)
}

// typingTimeout bounds the relay's lookup, which runs on the connection's
// read side.
const typingTimeout = 2 * time.Second

// typing handles {"type":"typing","conversation_id"}: the other party's
// connections on every node receive {"type":"typing","conversation_id",
// "user_id"} as an ephemeral frame (no seq, never stored or replayed). A
// frame with an id is acked once the frame has left this node.
func (c *Client) typing(ctx context.Context, in inbound) {
	relay := c.h.opts.Typing
	switch {
	case c.userID == "":
		c.replyError(in.ID, "forbidden", "sign in to send typing")
		return
	case relay == nil:
		c.replyError(in.ID, "unavailable", "typing is not enabled on this node")
		return
	case uuid.Validate(in.ConversationID) != nil:
		c.replyError(in.ID, "bad_frame", "typing takes a conversation_id (a UUID)")
		return
	}
	ctx, cancel := context.WithTimeout(ctx, typingTimeout)
	defer cancel()
	peer, err := relay.TypingPeer(ctx, c.userID, in.ConversationID)
	if err != nil {
		switch market.ErrorCode(err) {
		case market.ENOTFOUND:
			c.replyError(in.ID, "not_found", "no such conversation")
		case market.EFORBIDDEN:
			c.replyError(in.ID, "forbidden", "you cannot write in this conversation")
		default:
			c.h.log.Warn("typing lookup", "conversation_id", in.ConversationID, "err", err)
			c.replyError(in.ID, "unavailable", "try again")
		}
		return
	}
	frame := mustJSON(map[string]string{"type": "typing", "conversation_id": in.ConversationID, "user_id": c.userID})
	if err := c.h.SendEphemeral(ctx, market.UserTopic(peer), frame); err != nil {
		c.h.log.Warn("typing publish", "conversation_id", in.ConversationID, "err", err)
		c.replyError(in.ID, "unavailable", "try again")
		return
	}
	c.ack(in.ID, "")
}
