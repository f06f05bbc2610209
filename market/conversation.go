package market

import (
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Conversations between a student and an instructor, before and after a
// booking (docs/features/conversations.md). The rules here are pure: the
// store reads the facts, asks these functions, and writes.

// Permissions of conversations.
const (
	PermConversationsUse  = "conversations:use"  // open own conversations, read and send own messages
	PermConversationsRead = "conversations:read" // the audited admin view of any conversation
)

// EBLOCKED refuses a send to someone who blocked the sender (403).
const EBLOCKED = "blocked"

// Events of conversations, on both parties' user topics.
const (
	EventMessageCreated   = "message.created"   // {"conversation_id","message"}
	EventConversationRead = "conversation.read" // {"conversation_id","reader_id","message_id"}
)

// AuditConversationViewed is written for every admin view of a conversation.
const AuditConversationViewed = "conversation.viewed"

// MaxMessageLen is the most characters (Unicode code points) a message body may have.
const MaxMessageLen = 2000

// Conversation is one party's view of a conversation: the other party, the
// caller's unread count and the newest message.
type Conversation struct {
	ID          string        `json:"id"`
	Other       Correspondent `json:"other"`
	Unread      int           `json:"unread"`
	LastMessage *Message      `json:"last_message"`
	UpdatedAt   time.Time     `json:"updated_at"`
	// Blocked says whether the caller blocked the other party; BlockedBy
	// whether the other party blocked the caller (their sends answer 403).
	Blocked   bool `json:"blocked"`
	BlockedBy bool `json:"blocked_by_other"`
}

// Correspondent is the other person of a conversation.
type Correspondent struct {
	ID       string   `json:"id"`
	FullName string   `json:"full_name"`
	Roles    []string `json:"roles"`
}

// Message is one message. Body is plain text; clients render it as text.
type Message struct {
	ID        string    `json:"id"`
	SenderID  string    `json:"sender_id"`
	Body      string    `json:"body"`
	CreatedAt time.Time `json:"created_at"`
}

// MessageCreated is the data of a message.created event.
type MessageCreated struct {
	ConversationID string  `json:"conversation_id"`
	Message        Message `json:"message"`
}

// ConversationRead is the data of a conversation.read event.
type ConversationRead struct {
	ConversationID string `json:"conversation_id"`
	ReaderID       string `json:"reader_id"`
	MessageID      string `json:"message_id"`
}

// ConversationPage is one page of a user's conversations, newest activity
// first, and the caller's unread messages over all their conversations.
type ConversationPage struct {
	Items      []Conversation `json:"items"`
	NextCursor *string        `json:"next_cursor"`
	Unread     int            `json:"unread"`
}

// MessagePage is a page of a conversation's messages, newest first, and how
// far each party has read (the id of the last message they marked read).
type MessagePage struct {
	Items    []Message          `json:"items"`
	ReadUpTo map[string]*string `json:"read_up_to"`
}

// NewMessage is a send: the conversation, the sender, the body, and an
// optional idempotency key. EmailAfter is when an email tells the
// recipient about it if they have not read it by then (0: no email).
type NewMessage struct {
	ConversationID string
	SenderID       string
	Body           string
	IdempotencyKey string
	EmailAfter     time.Duration
}

// MessageResult is a sent message; Replay is true when it answers a
// repeated Idempotency-Key (nothing new was written).
type MessageResult struct {
	Message Message
	Replay  bool
}

// OpenFacts is what deciding who may open a conversation needs to know
// about the two people.
type OpenFacts struct {
	OpenerID    string
	OpenerRoles []string
	OtherID     string
	OtherRoles  []string
	// OtherLive: the other account exists and is not deleted.
	OtherLive bool
	// OtherTeaches: the other person is an active instructor (instructor
	// role and a profile).
	OtherTeaches bool
	// OtherBookedOpener: the other person booked a lesson with the opener.
	OtherBookedOpener bool
	// OtherWroteFirst: a conversation exists in which the other person
	// sent a message to the opener.
	OtherWroteFirst bool
}

// Pair is a conversation's two parties by role.
type Pair struct {
	StudentID, InstructorID string
}

// CanOpen decides whether f.OpenerID may open a conversation with
// f.OtherID and returns the pair: a student with any active instructor; an
// instructor with a student who booked them or wrote first; nobody with
// themself. ENOTFOUND when the other person does not exist (or is deleted),
// EVALIDATION for oneself, EFORBIDDEN otherwise.
func CanOpen(f OpenFacts) (Pair, error) {
	if f.OpenerID == f.OtherID {
		return Pair{}, ValidationError(map[string]string{"user_id": "cannot open a conversation with yourself"})
	}
	if !f.OtherLive {
		return Pair{}, Errorf(ENOTFOUND, "user not found")
	}
	if hasRole(f.OpenerRoles, RoleStudent) && f.OtherTeaches {
		return Pair{StudentID: f.OpenerID, InstructorID: f.OtherID}, nil
	}
	if hasRole(f.OpenerRoles, RoleInstructor) && hasRole(f.OtherRoles, RoleStudent) &&
		(f.OtherBookedOpener || f.OtherWroteFirst) {
		return Pair{StudentID: f.OtherID, InstructorID: f.OpenerID}, nil
	}
	return Pair{}, Errorf(EFORBIDDEN, "you may message an instructor, or a student who booked you or wrote to you first")
}

func hasRole(roles []string, r string) bool {
	for _, x := range roles {
		if x == r {
			return true
		}
	}
	return false
}

// SendFacts is the state of a conversation that decides a send.
type SendFacts struct {
	SenderID     string
	Pair         Pair
	BlockedBy    map[string]bool // party id → that party blocked the other
	OtherDeleted bool
}

// Other returns the party of p that is not userID.
func (p Pair) Other(userID string) string {
	if userID == p.StudentID {
		return p.InstructorID
	}
	return p.StudentID
}

// Has reports whether userID is one of the two parties.
func (p Pair) Has(userID string) bool { return userID == p.StudentID || userID == p.InstructorID }

// CanSend decides whether f.SenderID may send: ENOTFOUND for anyone but the
// two parties (the conversation is not theirs to know of), EBLOCKED when
// the other party blocked the sender, EFORBIDDEN when the other account is
// deleted.
func CanSend(f SendFacts) error {
	if !f.Pair.Has(f.SenderID) {
		return Errorf(ENOTFOUND, "conversation not found")
	}
	if f.BlockedBy[f.Pair.Other(f.SenderID)] {
		return Errorf(EBLOCKED, "you cannot message this person")
	}
	if f.OtherDeleted {
		return Errorf(EFORBIDDEN, "this account was deleted")
	}
	return nil
}

// NormalizeMessageBody checks and normalises a message body: line endings
// become "\n", surrounding white space goes, and the result must have
// 1..MaxMessageLen characters of valid UTF-8 with no control characters
// other than newline and tab. The body is stored and sent as plain text.
func NormalizeMessageBody(body string) (string, error) {
	bad := func(msg string) (string, error) {
		return "", ValidationError(map[string]string{"body": msg})
	}
	if !utf8.ValidString(body) {
		return bad("must be valid UTF-8 text")
	}
	body = strings.TrimSpace(strings.ReplaceAll(strings.ReplaceAll(body, "\r\n", "\n"), "\r", "\n"))
	n := utf8.RuneCountInString(body)
	if n == 0 {
		return bad("must not be empty")
	}
	if n > MaxMessageLen {
		return bad("must be at most 2000 characters")
	}
	for _, r := range body {
		if unicode.IsControl(r) && r != '\n' && r != '\t' {
			return bad("must not contain control characters")
		}
	}
	return body, nil
}

// AdminConversation is the support view of a conversation (every view is
// audited): both parties, block flags, and a page of messages newest first.
type AdminConversation struct {
	ID                  string      `json:"id"`
	Student             Party       `json:"student"`
	Instructor          Party       `json:"instructor"`
	CreatedAt           time.Time   `json:"created_at"`
	UpdatedAt           time.Time   `json:"updated_at"`
	BlockedByStudent    bool        `json:"blocked_by_student"`
	BlockedByInstructor bool        `json:"blocked_by_instructor"`
	Messages            MessagePage `json:"messages"`
}
