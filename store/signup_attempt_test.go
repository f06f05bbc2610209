package store_test

import (
	"context"
	"testing"
	"time"

	"instainstru/market"
	"instainstru/store"
)

// A signup attempt on a taken address queues one email to its owner per
// clock hour, however often it is tried; an address without an account
// queues nothing and is no error.
func TestMailSignupAttemptMailsTheOwnerOnceAnHour(t *testing.T) {
	t.Parallel()
	w := newSchedWorld(t)
	ctx := context.Background()
	id := w.user(market.RoleStudent)
	owner := w.actor(id)
	at := time.Date(2027, 1, 4, 13, 5, 0, 0, time.UTC)
	for _, try := range []struct {
		email string
		at    time.Time
	}{
		{owner.Email, at},
		{" " + owner.Email + " ", at.Add(50 * time.Minute)}, // same hour: no second email
		{owner.Email, at.Add(time.Hour)},
		{"nobody@example.com", at},
	} {
		noErr(t, w.db.MailSignupAttempt(ctx, try.email, try.at))
	}
	if n := w.count(`SELECT count(*) FROM emails WHERE template = $1 AND user_id = $2`, store.TemplateSignupAttempt, id); n != 2 {
		t.Fatalf("%d signup attempt emails to the owner, want 2 (one per hour)", n)
	}
	if n := w.count(`SELECT count(*) FROM emails WHERE template = $1`, store.TemplateSignupAttempt); n != 2 {
		t.Fatalf("%d signup attempt emails in all, want 2", n)
	}
}
