package mail

import (
	"context"
	"testing"
	"time"

	"instainstru/store/storetest"
)

// TestDisplayNamesWithQuotesAndBracketsAreEncoded: a name is the user's
// own text; one with a quote, angle brackets or non-ASCII letters must
// reach the server as that name, not break the To header.
func TestDisplayNamesWithQuotesAndBracketsAreEncoded(t *testing.T) {
	mp := storetest.StartMailpit(t)
	s, err := NewSender(Config{URL: mp.SMTPURL(), From: "InstaInstru <no-reply@instainstru.local>", Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]string{
		"dana@example.com":  `Dana "D <dj> Park`,
		"zoe@example.com":   `Zoë O'Brien, Jr.`,
		"plain@example.com": "Plain Name",
	}
	for addr, name := range names {
		if err := s.Send(context.Background(), Message{To: addr, ToName: name, Subject: "hello", Text: "hi"}); err != nil {
			t.Fatalf("send to %q <%s>: %v", name, addr, err)
		}
	}
	for addr, name := range names {
		got := mp.WaitFor(1, 10*time.Second, storetest.To(addr))
		if len(got) != 1 || len(got[0].To) != 1 || got[0].To[0].Name != name || got[0].To[0].Address != addr {
			t.Fatalf("message to %s: %+v, want To %q <%s>", addr, got, name, addr)
		}
	}
}
