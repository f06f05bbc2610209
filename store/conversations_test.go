package store_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"instainstru/market"
	"instainstru/store"
	"instainstru/store/storetest"
)

func TestConcurrentSendsAreNumberedWithoutGapsAndCountedUnreadOnce(t *testing.T) {
	t.Parallel()
	w := newSchedWorld(t)
	ctx := context.Background()
	stud := w.user(market.RoleStudent)
	inst, _ := w.instructor(market.DefaultTimezone)
	conv, created, err := w.db.OpenConversation(ctx, &market.User{ID: stud, Roles: []string{market.RoleStudent}}, inst)
	noErr(t, err)
	if !created {
		t.Fatal("first open did not create")
	}
	w.rec.take()
	const n = 12
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := w.db.SendMessage(ctx, market.NewMessage{ConversationID: conv.ID, SenderID: stud, Body: fmt.Sprint("m", i)})
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		noErr(t, err)
	}
	if got := w.count(`SELECT count(DISTINCT seq) FROM messages WHERE conversation_id = $1 AND seq BETWEEN 1 AND $2`, conv.ID, n); got != n {
		t.Fatalf("seqs 1..%d taken %d times", n, got)
	}
	if got := w.count(`SELECT instructor_unread FROM conversations WHERE id = $1`, conv.ID); got != n {
		t.Fatalf("instructor unread = %d, want %d", got, n)
	}
	evs := w.rec.take()
	if len(evs) != 2*n {
		t.Fatalf("%d events published, want %d (one per party per message)", len(evs), 2*n)
	}
	for _, e := range evs {
		if e.Type != market.EventMessageCreated || (e.Topic != market.UserTopic(stud) && e.Topic != market.UserTopic(inst)) {
			t.Fatalf("event %s on %s", e.Type, e.Topic)
		}
	}

	page, err := w.db.Messages(ctx, inst, conv.ID, "", 5)
	noErr(t, err)
	noErr(t, w.db.MarkConversationRead(ctx, inst, conv.ID, page.Items[2].ID)) // the third newest
	if got := w.count(`SELECT instructor_unread FROM conversations WHERE id = $1`, conv.ID); got != 2 {
		t.Fatalf("unread after reading up to the third newest = %d, want 2", got)
	}
	noErr(t, w.db.MarkConversationRead(ctx, inst, conv.ID, page.Items[4].ID)) // older: no step back
	if got := w.count(`SELECT count(*) FROM conversations WHERE id = $1 AND instructor_read_id::text = $2`, conv.ID, page.Items[2].ID); got != 1 {
		t.Fatal("an older read moved the read position back")
	}
	older, err := w.db.Messages(ctx, inst, conv.ID, page.Items[4].ID, 100)
	noErr(t, err)
	if len(older.Items) != n-5 {
		t.Fatalf("before the 5th newest: %d messages, want %d", len(older.Items), n-5)
	}
}

func TestMessageRetentionDeletesOldMessagesAndKeepsTheConversation(t *testing.T) {
	t.Parallel()
	w := newSchedWorld(t)
	ctx := context.Background()
	stud := w.user(market.RoleStudent)
	inst, _ := w.instructor(market.DefaultTimezone)
	conv, _, err := w.db.OpenConversation(ctx, &market.User{ID: stud, Roles: []string{market.RoleStudent}}, inst)
	noErr(t, err)
	old, err := w.db.SendMessage(ctx, market.NewMessage{ConversationID: conv.ID, SenderID: stud, Body: "old"})
	noErr(t, err)
	_, err = w.db.SendMessage(ctx, market.NewMessage{ConversationID: conv.ID, SenderID: inst, Body: "new"})
	noErr(t, err)
	_, err = storetest.Pool(w.db).Exec(ctx, `UPDATE messages SET created_at = now() - interval '800 days' WHERE id = $1`, old.Message.ID)
	noErr(t, err)

	n, err := w.db.Prune(ctx, store.RetentionMessages, time.Now().Add(-730*24*time.Hour), 1)
	noErr(t, err)
	if n != 1 || w.count(`SELECT count(*) FROM messages WHERE conversation_id = $1`, conv.ID) != 1 {
		t.Fatalf("pruned %d, want exactly the old message", n)
	}
	page, err := w.db.Conversations(ctx, stud, 10, "")
	noErr(t, err)
	if len(page.Items) != 1 || page.Items[0].LastMessage == nil || page.Items[0].LastMessage.Body != "new" {
		t.Fatalf("conversation after retention: %+v", page.Items)
	}
}
