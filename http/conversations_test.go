package http

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	nethttp "net/http"
	"strings"
	"testing"
	"time"

	"instainstru/internal/eventually"
	"instainstru/market"
	"instainstru/store"
	"instainstru/store/storetest"
)

// callWith is rtNode.call with request headers; it also returns the
// response headers and, for an error, its code.
func (n *rtNode) callWith(method, path, token string, headers map[string]string, body, out any) (int, nethttp.Header, string) {
	n.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := nethttp.NewRequest(method, n.base+path, rd)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := nethttp.DefaultClient.Do(req)
	if err != nil {
		n.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var e struct {
		Error struct {
			Code string `json:"code"`
		} `json:"error"`
	}
	if resp.StatusCode >= 400 {
		json.Unmarshal(raw, &e) //nolint:errcheck // a missing code fails the caller's assertion
	} else if out != nil && len(raw) > 0 {
		if err := json.Unmarshal(raw, out); err != nil {
			n.t.Fatalf("%s %s: decode %s: %v", method, path, raw, err)
		}
	}
	return resp.StatusCode, resp.Header, e.Error.Code
}

// nextEvent reads c's frames until an event of type typ arrives.
func nextEvent(t testing.TB, c *rtClient, typ string) rtFrame {
	t.Helper()
	for {
		f := c.next(frameWait)
		if f.Type == "event" && f.Event == typ {
			return f
		}
	}
}

// convWorld: two nodes on the shared Redis, an instructor with a socket on
// node B and a student with a socket on node A.
type convWorld struct {
	t                *testing.T
	db               *store.DB
	a, b             *rtNode
	inst, instTok    string
	stud, studTok    string
	instOnB, studOnA *rtClient
}

func newConvWorld(t *testing.T, opts ...rtNodeOpt) *convWorld {
	t.Helper()
	url, prefix := storetest.SharedRedis(t)
	w := &convWorld{t: t, db: storetest.NewDB(t)}
	w.a = startNode(t, w.db, url, prefix, "conv-a", opts...)
	w.b = startNode(t, w.db, url, prefix, "conv-b", opts...)
	w.instTok, w.inst = w.b.register(market.RoleInstructor)
	w.studTok, w.stud = w.a.register(market.RoleStudent)
	w.instOnB = dialWS(t, w.b.ws, bearer(w.instTok))
	w.instOnB.expect("welcome")
	w.studOnA = dialWS(t, w.a.ws, bearer(w.studTok))
	w.studOnA.expect("welcome")
	return w
}

// open opens the student's conversation with the instructor on node A.
func (w *convWorld) open() market.Conversation {
	w.t.Helper()
	var c market.Conversation
	if st, _, code := w.a.callWith("POST", "/api/v1/conversations", w.studTok, nil, map[string]string{"user_id": w.inst}, &c); st != 201 {
		w.t.Fatalf("open: %d %s", st, code)
	}
	return c
}

// send sends body on n as token and returns the message.
func (w *convWorld) send(n *rtNode, token, convID, body string) market.Message {
	w.t.Helper()
	var m market.Message
	if st, _, code := n.callWith("POST", "/api/v1/conversations/"+convID+"/messages", token, nil, map[string]string{"body": body}, &m); st != 201 {
		w.t.Fatalf("send %q: %d %s", body, st, code)
	}
	return m
}

func messageOf(t testing.TB, f rtFrame) market.MessageCreated {
	t.Helper()
	var mc market.MessageCreated
	mustJSON(t, f.Data, &mc)
	return mc
}

func TestMessageReplyAndReceiptCrossNodesWithUnreadCounts(t *testing.T) {
	t.Parallel()
	w := newConvWorld(t)
	conv := w.open()
	if conv.Other.ID != w.inst || conv.Unread != 0 || conv.LastMessage != nil {
		t.Fatalf("opened %+v", conv)
	}
	var again market.Conversation
	if st, _, _ := w.b.callWith("POST", "/api/v1/conversations", w.studTok, nil, map[string]string{"user_id": w.inst}, &again); st != 200 || again.ID != conv.ID {
		t.Fatalf("open again: %d %s, want 200 %s", st, again.ID, conv.ID)
	}

	q := w.send(w.a, w.studTok, conv.ID, "Hi! Do you teach <b>beginners</b>?")
	got := messageOf(t, nextEvent(t, w.instOnB, market.EventMessageCreated))
	if got.ConversationID != conv.ID || got.Message.ID != q.ID || got.Message.Body != q.Body || got.Message.SenderID != w.stud {
		t.Fatalf("instructor on B got %+v, want %+v", got, q)
	}
	if echo := messageOf(t, nextEvent(t, w.studOnA, market.EventMessageCreated)); echo.Message.ID != q.ID {
		t.Fatalf("sender's own devices got %+v", echo)
	}
	var list market.ConversationPage
	if st, _, _ := w.b.callWith("GET", "/api/v1/conversations", w.instTok, nil, nil, &list); st != 200 ||
		list.Unread != 1 || len(list.Items) != 1 || list.Items[0].Unread != 1 || list.Items[0].LastMessage.ID != q.ID {
		t.Fatalf("instructor's list %d %+v, want one conversation with 1 unread", st, list)
	}

	// The student wrote first, so the instructor may open (finds) it.
	var found market.Conversation
	if st, _, _ := w.b.callWith("POST", "/api/v1/conversations", w.instTok, nil, map[string]string{"user_id": w.stud}, &found); st != 200 || found.ID != conv.ID {
		t.Fatalf("instructor opens: %d %s", st, found.ID)
	}
	r := w.send(w.b, w.instTok, conv.ID, "Yes, all levels.")
	if got := messageOf(t, nextEvent(t, w.studOnA, market.EventMessageCreated)); got.Message.ID != r.ID || got.Message.SenderID != w.inst {
		t.Fatalf("student on A got %+v, want the reply", got)
	}
	if st, _, code := w.b.callWith("POST", "/api/v1/conversations/"+conv.ID+"/read", w.instTok, nil, map[string]string{"message_id": q.ID}, nil); st != 204 {
		t.Fatalf("read: %d %s", st, code)
	}
	var receipt market.ConversationRead
	mustJSON(t, nextEvent(t, w.studOnA, market.EventConversationRead).Data, &receipt)
	if receipt != (market.ConversationRead{ConversationID: conv.ID, ReaderID: w.inst, MessageID: q.ID}) {
		t.Fatalf("receipt on A %+v", receipt)
	}
	var page market.MessagePage
	if st, _, _ := w.a.callWith("GET", "/api/v1/conversations/"+conv.ID+"/messages", w.studTok, nil, nil, &page); st != 200 ||
		len(page.Items) != 2 || page.Items[0].ID != r.ID || page.Items[1].ID != q.ID ||
		page.ReadUpTo[w.inst] == nil || *page.ReadUpTo[w.inst] != q.ID || page.ReadUpTo[w.stud] != nil {
		t.Fatalf("messages %d %+v", st, page)
	}
	w.b.callWith("GET", "/api/v1/conversations", w.instTok, nil, nil, &list)
	if list.Unread != 0 {
		t.Fatalf("instructor unread after read = %d", list.Unread)
	}
	w.a.callWith("GET", "/api/v1/conversations", w.studTok, nil, nil, &list)
	if list.Unread != 1 || list.Items[0].LastMessage.ID != r.ID {
		t.Fatalf("student's list %+v, want the reply unread", list)
	}
}

func TestResumeAfterReconnectReplaysAMissedMessage(t *testing.T) {
	t.Parallel()
	w := newConvWorld(t)
	conv := w.open()
	w.send(w.a, w.studTok, conv.ID, "first")
	seen := nextEvent(t, w.instOnB, market.EventMessageCreated)
	w.instOnB.ws.CloseNow() //nolint:errcheck // the instructor's connection drops
	missed := w.send(w.a, w.studTok, conv.ID, "sent while you were away")

	// Back on the other node, resuming the private topic from the last seq seen.
	back := dialWS(t, w.a.ws, bearer(w.instTok))
	back.expect("welcome")
	replay, _ := back.subscribe(market.UserTopic(w.inst), seen.Seq)
	if len(replay) != 1 || replay[0].Seq != seen.Seq+1 || replay[0].Event != market.EventMessageCreated ||
		messageOf(t, replay[0]).Message.ID != missed.ID {
		t.Fatalf("replay after seq %d: %+v, want exactly the missed message", seen.Seq, replay)
	}
	live := w.send(w.b, w.studTok, conv.ID, "and now live")
	if got := nextEvent(t, back, market.EventMessageCreated); got.Seq != seen.Seq+2 || messageOf(t, got).Message.ID != live.ID {
		t.Fatalf("live after resume: seq %d %s", got.Seq, got.Data)
	}
	back.quiet(200 * time.Millisecond)
}

func TestStrangersGet404AndCannotOpenAndSelfIsRefused(t *testing.T) {
	t.Parallel()
	w := newConvWorld(t)
	conv := w.open()
	w.send(w.a, w.studTok, conv.ID, "hello")
	strangerTok, _ := w.a.register(market.RoleStudent)
	otherInstTok, _ := w.a.register(market.RoleInstructor)
	base := "/api/v1/conversations/" + conv.ID
	for _, tok := range []string{strangerTok, otherInstTok} {
		for _, c := range []struct {
			method, path string
			body         any
		}{
			{"GET", base, nil},
			{"GET", base + "/messages", nil},
			{"POST", base + "/messages", map[string]string{"body": "hi"}},
			{"POST", base + "/read", map[string]string{"message_id": conv.ID}},
			{"POST", base + "/block", nil},
			{"DELETE", base + "/block", nil},
		} {
			if st, _, code := w.b.callWith(c.method, c.path, tok, nil, c.body, nil); st != 404 || code != market.ENOTFOUND {
				t.Errorf("stranger %s %s: %d %s, want 404", c.method, c.path, st, code)
			}
		}
	}
	if st, _, code := w.a.callWith("POST", "/api/v1/conversations", otherInstTok, nil, map[string]string{"user_id": w.stud}, nil); st != 403 || code != market.EFORBIDDEN {
		t.Errorf("instructor opening with a student who never booked or wrote: %d %s, want 403", st, code)
	}
	if st, _, _ := w.a.callWith("POST", "/api/v1/conversations", w.studTok, nil, map[string]string{"user_id": w.stud}, nil); st != 422 {
		t.Errorf("conversation with oneself: %d, want 422", st)
	}
	if st, _, _ := w.a.callWith("POST", "/api/v1/conversations", w.studTok, nil, map[string]string{"user_id": "00000000-0000-0000-0000-000000000000"}, nil); st != 404 {
		t.Errorf("conversation with nobody: %d, want 404", st)
	}
	var list market.ConversationPage
	w.a.callWith("GET", "/api/v1/conversations", strangerTok, nil, nil, &list)
	if len(list.Items) != 0 || list.Unread != 0 {
		t.Errorf("a stranger's list shows %+v", list)
	}
}

func TestBlockedSenderGets403AndIdempotentSendReturnsTheSameMessage(t *testing.T) {
	t.Parallel()
	w := newConvWorld(t)
	conv := w.open()
	path := "/api/v1/conversations/" + conv.ID + "/messages"
	key := map[string]string{"Idempotency-Key": "msg-" + storetest.RandomSuffix()}
	var m1, m2 market.Message
	st1, _, _ := w.a.callWith("POST", path, w.studTok, key, map[string]string{"body": "once"}, &m1)
	st2, h2, _ := w.b.callWith("POST", path, w.studTok, key, map[string]string{"body": "once"}, &m2)
	if st1 != 201 || st2 != 201 || m1.ID == "" || m2 != m1 || h2.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("idempotent send: %d %+v then %d %+v (replayed %q)", st1, m1, st2, m2, h2.Get("Idempotent-Replayed"))
	}
	if st, _, code := w.a.callWith("POST", path, w.studTok, key, map[string]string{"body": "different"}, nil); st != 422 || code != market.EIDEMPOTENCY {
		t.Fatalf("same key, other body: %d %s", st, code)
	}
	var n int
	if err := storetest.Pool(w.db).QueryRow(context.Background(), `SELECT count(*) FROM messages WHERE conversation_id = $1`, conv.ID).Scan(&n); err != nil || n != 1 {
		t.Fatalf("messages stored = %d (%v), want 1", n, err)
	}
	for _, bad := range []string{"", "   ", strings.Repeat("x", 2001)} {
		if st, _, code := w.a.callWith("POST", path, w.studTok, nil, map[string]string{"body": bad}, nil); st != 422 || code != market.EVALIDATION {
			t.Errorf("body of %d chars: %d %s, want 422", len(bad), st, code)
		}
	}

	if st, _, _ := w.b.callWith("POST", "/api/v1/conversations/"+conv.ID+"/block", w.instTok, nil, nil, nil); st != 204 {
		t.Fatalf("block: %d", st)
	}
	if st, _, code := w.a.callWith("POST", path, w.studTok, nil, map[string]string{"body": "are you there?"}, nil); st != 403 || code != market.EBLOCKED {
		t.Fatalf("blocked student's send: %d %s, want 403 blocked", st, code)
	}
	w.send(w.b, w.instTok, conv.ID, "the blocker may still write")
	if st, _, _ := w.b.callWith("DELETE", "/api/v1/conversations/"+conv.ID+"/block", w.instTok, nil, nil, nil); st != 204 {
		t.Fatalf("unblock: %d", st)
	}
	w.send(w.a, w.studTok, conv.ID, "thanks for unblocking")
}

func TestSendsPerUserAreRateLimited(t *testing.T) {
	t.Parallel()
	w := newConvWorld(t, func(c *NodeConfig) { c.HTTP.MessageSendPerUserPerMinute = 2 })
	conv := w.open()
	w.send(w.a, w.studTok, conv.ID, "one")
	w.send(w.b, w.studTok, conv.ID, "two")
	if st, _, code := w.a.callWith("POST", "/api/v1/conversations/"+conv.ID+"/messages", w.studTok, nil, map[string]string{"body": "three"}, nil); st != 429 || code != market.ERATELIMIT {
		t.Fatalf("third send in a minute: %d %s, want 429", st, code)
	}
	w.send(w.b, w.instTok, conv.ID, "the other party has their own budget")
}

func TestUnreadMessageIsEmailedOnceAfterTheDelayAndNotWhenReadInTime(t *testing.T) {
	t.Parallel()
	db, mp := storetest.NewDB(t), storetest.StartMailpit(t)
	n := startNode(t, db, "", "", "conv-mail", withNotify(mp.SMTPURL(), 2),
		func(c *NodeConfig) { c.HTTP.MessageEmailDelay = 3 * time.Second })
	studTok, _ := n.register(market.RoleStudent)
	_, slow, slowEmail := n.registerEmail(market.RoleInstructor)
	quickTok, quick, quickEmail := n.registerEmail(market.RoleInstructor)
	w := &convWorld{t: t, db: db, a: n}
	open := func(inst string) string {
		var c market.Conversation
		if st, _, code := n.callWith("POST", "/api/v1/conversations", studTok, nil, map[string]string{"user_id": inst}, &c); st != 201 {
			t.Fatalf("open: %d %s", st, code)
		}
		return c.ID
	}
	toSlow, toQuick := open(slow), open(quick)
	w.send(n, studTok, toSlow, "Is Saturday morning free?")
	m := w.send(n, studTok, toQuick, "Quick question")
	if st, _, _ := n.callWith("POST", "/api/v1/conversations/"+toQuick+"/read", quickTok, nil, map[string]string{"message_id": m.ID}, nil); st != 204 {
		t.Fatalf("read in time: %d", st)
	}
	w.send(n, studTok, toSlow, "Or Sunday?")

	got := mp.WaitFor(1, 20*time.Second, storetest.To(slowEmail))
	if !strings.Contains(got[0].Subject, "New message from") {
		t.Fatalf("subject %q", got[0].Subject)
	}
	if text := mp.Message(got[0].ID).Text; !strings.Contains(text, "Is Saturday morning free?") || !strings.Contains(text, "/#/messages/"+toSlow) {
		t.Fatalf("email text %q lacks the message or the link", text)
	}
	// Every message's job has run: the one read in time and the second
	// unread message of the same conversation sent nothing.
	eventually.True(t, 20*time.Second, "message_unread jobs done", func() bool {
		var done int
		storetest.Pool(db).QueryRow(context.Background(), //nolint:errcheck // polled
			`SELECT count(*) FROM river_job WHERE kind = 'message_unread' AND state = 'completed'`).Scan(&done)
		return done == 3
	})
	eventually.True(t, 10*time.Second, "queued emails sent", func() bool {
		var pending int
		storetest.Pool(db).QueryRow(context.Background(), //nolint:errcheck // polled
			`SELECT count(*) FROM emails WHERE sent_at IS NULL AND failed_at IS NULL`).Scan(&pending)
		return pending == 0
	})
	if s, q := len(filterMail(mp.Messages(), slowEmail)), len(filterMail(mp.Messages(), quickEmail)); s != 1 || q != 0 {
		t.Fatalf("emails: %d to the instructor who did not read (want 1), %d to the one who read in time (want 0)", s, q)
	}
}

func filterMail(ms []storetest.MailSummary, to string) []storetest.MailSummary {
	var out []storetest.MailSummary
	for _, m := range ms {
		if storetest.To(to)(m) {
			out = append(out, m)
		}
	}
	return out
}

func TestExportHoldsConversationsSupportViewIsAuditedAndDeletionScrubsBodies(t *testing.T) {
	t.Parallel()
	db := storetest.NewDB(t)
	n := startNode(t, db, "", "", "conv-privacy")
	w := &convWorld{t: t, db: db, a: n}
	w.instTok, w.inst = n.register(market.RoleInstructor)
	w.studTok, w.stud = n.register(market.RoleStudent)
	conv := w.open()
	w.send(n, w.studTok, conv.ID, "My number is 555-0100")
	w.send(n, w.instTok, conv.ID, "Noted, see you Saturday")

	var export struct {
		Conversations []struct {
			ID       string `json:"id"`
			YourRole string `json:"your_role"`
			Messages []struct {
				From, Body string
			} `json:"messages"`
		} `json:"conversations"`
	}
	if st, _, _ := n.callWith("GET", "/api/v1/me/export", w.studTok, nil, nil, &export); st != 200 {
		t.Fatalf("export: %d", st)
	}
	if len(export.Conversations) != 1 || export.Conversations[0].ID != conv.ID || export.Conversations[0].YourRole != "student" ||
		len(export.Conversations[0].Messages) != 2 || export.Conversations[0].Messages[0].Body != "My number is 555-0100" ||
		export.Conversations[0].Messages[0].From != "you" || export.Conversations[0].Messages[1].From != "other" {
		t.Fatalf("export conversations %+v", export.Conversations)
	}

	support := n.staffToken(db, market.RoleSupport)
	var view market.AdminConversation
	if st, _, code := n.callWith("GET", "/api/v1/admin/conversations/"+conv.ID, support, nil, nil, &view); st != 200 ||
		view.Student.ID != w.stud || view.Instructor.ID != w.inst || len(view.Messages.Items) != 2 {
		t.Fatalf("support view: %d %s %+v", st, code, view)
	}
	if st, _, _ := n.callWith("GET", "/api/v1/admin/conversations/"+conv.ID, w.studTok, nil, nil, nil); st != 403 {
		t.Fatalf("a student on the admin view: %d, want 403", st)
	}
	var audited int
	storetest.Pool(db).QueryRow(context.Background(), `SELECT count(*) FROM audit_log WHERE action = $1 AND details->>'conversation_id' = $2`, //nolint:errcheck
		market.AuditConversationViewed, conv.ID).Scan(&audited)
	if audited != 2 {
		t.Fatalf("audit rows for one view = %d, want one per party", audited)
	}

	if st, _, code := n.callWith("DELETE", "/api/v1/me", w.studTok, nil, map[string]string{"password": testPassword}, nil); st != 204 {
		t.Fatalf("delete: %d %s", st, code)
	}
	var page market.MessagePage
	if st, _, _ := n.callWith("GET", "/api/v1/conversations/"+conv.ID+"/messages", w.instTok, nil, nil, &page); st != 200 ||
		len(page.Items) != 2 || page.Items[1].Body != "" || page.Items[0].Body != "Noted, see you Saturday" {
		t.Fatalf("instructor's thread after the student's deletion: %+v", page.Items)
	}
	var left int
	storetest.Pool(db).QueryRow(context.Background(), `SELECT count(*) FROM messages WHERE body LIKE '%555-0100%'`).Scan(&left) //nolint:errcheck
	if left != 0 {
		t.Fatalf("%d messages still hold the deleted user's text", left)
	}
	var list market.ConversationPage
	n.callWith("GET", "/api/v1/conversations", w.instTok, nil, nil, &list)
	if len(list.Items) != 1 || list.Items[0].Other.FullName != market.DeletedUserName {
		t.Fatalf("instructor's list after deletion %+v", list.Items)
	}
	if st, _, code := n.callWith("POST", "/api/v1/conversations/"+conv.ID+"/messages", w.instTok, nil, map[string]string{"body": "hello?"}, nil); st != 403 || code != market.EFORBIDDEN {
		t.Fatalf("send to a deleted account: %d %s, want 403", st, code)
	}
}

func TestTypingWithTheConversationsStoreReachesOnlyTheOtherPartyAcrossNodes(t *testing.T) {
	t.Parallel()
	w := newConvWorld(t)
	conv := w.open()
	strangerTok, _ := w.a.register(market.RoleStudent)
	stranger := dialWS(t, w.b.ws, bearer(strangerTok))
	stranger.expect("welcome")

	id := w.studOnA.send(map[string]any{"type": "typing", "conversation_id": conv.ID})
	if ack := w.studOnA.expect("ack"); string(ack.ID) != fmt.Sprint(id) {
		t.Fatalf("typing ack id %s, want %d", ack.ID, id)
	}
	f := w.instOnB.expect("typing")
	if f.ConversationID != conv.ID || f.UserID == nil || *f.UserID != w.stud || f.Seq != 0 {
		t.Fatalf("typing on the other node = %s", f.Raw)
	}
	stranger.send(map[string]any{"type": "typing", "conversation_id": conv.ID})
	if e := stranger.expect("error"); e.Code != "not_found" {
		t.Fatalf("a stranger's typing: %s, want not_found", e.Raw)
	}
	if st, _, _ := w.b.callWith("POST", "/api/v1/conversations/"+conv.ID+"/block", w.instTok, nil, nil, nil); st != 204 {
		t.Fatalf("block: %d", st)
	}
	w.studOnA.send(map[string]any{"type": "typing", "conversation_id": conv.ID})
	if e := w.studOnA.expect("error"); e.Code != "forbidden" {
		t.Fatalf("a blocked sender's typing: %s, want forbidden", e.Raw)
	}
	// Typing is never stored: the instructor's private topic holds no event of it.
	var n int
	storetest.Pool(w.db).QueryRow(context.Background(), `SELECT count(*) FROM events WHERE payload::text LIKE '%typing%'`).Scan(&n) //nolint:errcheck
	if n != 0 {
		t.Fatalf("%d stored events mention typing", n)
	}
}
