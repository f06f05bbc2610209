package storetest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// Mailpit is a real SMTP server (github.com/axllent/mailpit) the test owns,
// on free ports, with its JSON API for reading what arrived. Stop and Start
// keep the ports and the stored messages, so a test can take the mail
// server away and bring it back.
type Mailpit struct {
	tb       testing.TB
	bin, db  string
	SMTPPort int
	HTTPPort int
	cmd      *exec.Cmd
}

// MailpitBinary finds mailpit: $MAILPIT, then .tools/bin/mailpit in the
// module root (where `make tools` installs it), then $PATH.
func MailpitBinary() (string, error) {
	if p := os.Getenv("MAILPIT"); p != "" {
		return p, nil
	}
	if dir, err := os.Getwd(); err == nil {
		for ; dir != filepath.Dir(dir); dir = filepath.Dir(dir) {
			if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
				p := filepath.Join(dir, ".tools", "bin", "mailpit")
				if _, err := os.Stat(p); err == nil {
					return p, nil
				}
				break
			}
		}
	}
	if p, err := exec.LookPath("mailpit"); err == nil {
		return p, nil
	}
	return "", fmt.Errorf("mailpit not found: run `make tools` (installs github.com/axllent/mailpit into .tools/bin) or set MAILPIT")
}

// StartMailpit starts a private Mailpit, killed in cleanup.
func StartMailpit(tb testing.TB) *Mailpit {
	skipInShortMode(tb)
	tb.Helper()
	bin, err := MailpitBinary()
	if err != nil {
		tb.Fatalf("storetest: %v", err)
	}
	m := &Mailpit{tb: tb, bin: bin, db: filepath.Join(tb.TempDir(), "mailpit.db")}
	if m.SMTPPort, err = FreePort(); err != nil {
		tb.Fatal(err)
	}
	if m.HTTPPort, err = FreePort(); err != nil {
		tb.Fatal(err)
	}
	m.Start()
	tb.Cleanup(m.Stop)
	return m
}

// SMTPURL is the SMTP_URL of this server.
func (m *Mailpit) SMTPURL() string { return fmt.Sprintf("smtp://127.0.0.1:%d", m.SMTPPort) }

// APIURL is the base of its web UI and JSON API.
func (m *Mailpit) APIURL() string { return fmt.Sprintf("http://127.0.0.1:%d", m.HTTPPort) }

// Start (re)starts the server on its ports and waits until both answer.
func (m *Mailpit) Start() {
	m.tb.Helper()
	m.cmd = exec.Command(m.bin, "--listen", fmt.Sprintf("127.0.0.1:%d", m.HTTPPort),
		"--smtp", fmt.Sprintf("127.0.0.1:%d", m.SMTPPort), "--database", m.db,
		"--disable-version-check", "--quiet")
	if err := m.cmd.Start(); err != nil {
		m.tb.Fatalf("storetest: start mailpit: %v", err)
	}
	deadline := time.Now().Add(15 * time.Second)
	for !answers(fmt.Sprintf("127.0.0.1:%d", m.SMTPPort)) || !answers(fmt.Sprintf("127.0.0.1:%d", m.HTTPPort)) {
		if time.Now().After(deadline) {
			m.tb.Fatalf("storetest: mailpit did not start")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Stop kills the server (its stored messages stay for the next Start).
func (m *Mailpit) Stop() {
	if m.cmd == nil || m.cmd.Process == nil {
		return
	}
	m.cmd.Process.Kill() //nolint:errcheck // already gone is fine
	m.cmd.Wait()         //nolint:errcheck // killed
	m.cmd = nil
}

// MailAddress is a sender or recipient as Mailpit reports it.
type MailAddress struct {
	Name    string `json:"Name"`
	Address string `json:"Address"`
}

// MailSummary is one message of GET /api/v1/messages.
type MailSummary struct {
	ID        string        `json:"ID"`
	MessageID string        `json:"MessageID"`
	From      MailAddress   `json:"From"`
	To        []MailAddress `json:"To"`
	Subject   string        `json:"Subject"`
}

// MailMessage is GET /api/v1/message/{ID}: the summary and both bodies.
type MailMessage struct {
	MailSummary
	Text string `json:"Text"`
	HTML string `json:"HTML"`
}

func (m *Mailpit) get(path string, out any) error {
	resp, err := http.Get(m.APIURL() + path)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		return fmt.Errorf("GET %s: %s", path, resp.Status)
	}
	return json.NewDecoder(resp.Body).Decode(out)
}

// Messages lists every stored message, newest first.
func (m *Mailpit) Messages() []MailSummary {
	m.tb.Helper()
	var out struct {
		Messages []MailSummary `json:"messages"`
	}
	if err := m.get("/api/v1/messages?limit=1000", &out); err != nil {
		m.tb.Fatalf("storetest: mailpit messages: %v", err)
	}
	return out.Messages
}

// Message reads one message with its bodies.
func (m *Mailpit) Message(id string) MailMessage {
	m.tb.Helper()
	var out MailMessage
	if err := m.get("/api/v1/message/"+id, &out); err != nil {
		m.tb.Fatalf("storetest: mailpit message %s: %v", id, err)
	}
	return out
}

// WaitFor polls until match accepts n messages (or more) and returns them,
// failing the test after timeout.
func (m *Mailpit) WaitFor(n int, timeout time.Duration, match func(MailSummary) bool) []MailSummary {
	m.tb.Helper()
	deadline := time.Now().Add(timeout)
	for {
		var got []MailSummary
		for _, s := range m.Messages() {
			if match == nil || match(s) {
				got = append(got, s)
			}
		}
		if len(got) >= n {
			return got
		}
		if time.Now().After(deadline) {
			m.tb.Fatalf("storetest: %d matching messages after %v, want %d", len(got), timeout, n)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// To matches messages to address.
func To(address string) func(MailSummary) bool {
	return func(s MailSummary) bool {
		for _, a := range s.To {
			if a.Address == address {
				return true
			}
		}
		return false
	}
}
