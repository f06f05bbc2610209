// Package mail sends the hub's email over SMTP (go-mail), with bodies from
// embedded templates: a plain-text part (text/template) and an HTML part
// (html/template) per template name.
package mail

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/mail"
	"net/url"
	"strconv"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"
)

// Config is how to reach the SMTP server.
type Config struct {
	// URL is smtp://[user:pass@]host[:port] (STARTTLS when the server
	// offers it, port 25 by default) or smtps://user:pass@host[:port]
	// (implicit TLS, port 465 by default).
	URL string
	// From is the sender, e.g. "InstaInstru <no-reply@instainstru.local>".
	From    string
	Timeout time.Duration // per message, default 15s
}

// Message is one rendered email to one recipient.
type Message struct {
	To, ToName string
	Subject    string
	Text, HTML string
	// MessageID is set on the message (without angle brackets), so a
	// message sent twice after a crash is recognisable as one.
	MessageID string
}

// Sender sends messages to one SMTP server.
type Sender struct {
	from    string
	domain  string
	options []gomail.Option
	host    string
	timeout time.Duration
}

// NewSender checks cfg and returns its Sender. It does not connect.
func NewSender(cfg Config) (*Sender, error) {
	u, err := url.Parse(cfg.URL)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("SMTP_URL %q is not smtp://host:port or smtps://user:pass@host:port", cfg.URL)
	}
	from, err := mail.ParseAddress(cfg.From)
	if err != nil {
		return nil, fmt.Errorf("MAIL_FROM %q is not an address: %w", cfg.From, err)
	}
	s := &Sender{from: cfg.From, host: u.Hostname(), timeout: cfg.Timeout}
	if s.timeout == 0 {
		s.timeout = 15 * time.Second
	}
	_, s.domain, _ = strings.Cut(from.Address, "@")
	port := 25
	switch u.Scheme {
	case "smtp":
		s.options = append(s.options, gomail.WithTLSPortPolicy(gomail.TLSOpportunistic))
	case "smtps":
		port = 465
		s.options = append(s.options, gomail.WithSSL())
	default:
		return nil, fmt.Errorf("SMTP_URL scheme %q: want smtp or smtps", u.Scheme)
	}
	if p := u.Port(); p != "" {
		if port, err = strconv.Atoi(p); err != nil {
			return nil, fmt.Errorf("SMTP_URL port %q: %w", p, err)
		}
	}
	s.options = append(s.options, gomail.WithPort(port), gomail.WithTimeout(s.timeout))
	if u.User != nil {
		pass, _ := u.User.Password()
		s.options = append(s.options, gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover),
			gomail.WithUsername(u.User.Username()), gomail.WithPassword(pass))
	}
	return s, nil
}

// MessageID returns the Message-ID of the email with this key: the same
// key always gives the same id.
func (s *Sender) MessageID(key string) string { return key + "@" + s.domain }

// Send delivers m; an error means the server did not accept it (retry).
func (s *Sender) Send(ctx context.Context, m Message) error {
	msg := gomail.NewMsg()
	if err := msg.From(s.from); err != nil {
		return fmt.Errorf("from: %w", err)
	}
	// net/mail quotes and escapes (or RFC 2047-encodes) the display name;
	// go-mail's AddToFormat pastes it between quotes as it is, so a name
	// with a quote or angle bracket made every email to its owner fail.
	if err := msg.AddTo((&mail.Address{Name: m.ToName, Address: m.To}).String()); err != nil {
		return fmt.Errorf("to %q: %w", m.To, err)
	}
	msg.Subject(m.Subject)
	if m.MessageID != "" {
		msg.SetMessageIDWithValue(m.MessageID)
	}
	msg.SetBodyString(gomail.TypeTextPlain, m.Text)
	if m.HTML != "" {
		msg.AddAlternativeString(gomail.TypeTextHTML, m.HTML)
	}
	c, err := gomail.NewClient(s.host, s.options...)
	if err != nil {
		return fmt.Errorf("smtp client: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	if err := c.DialAndSendWithContext(ctx, msg); err != nil {
		var ne net.Error
		if errors.As(err, &ne) {
			return fmt.Errorf("smtp %s unreachable: %w", s.host, err)
		}
		return fmt.Errorf("smtp send: %w", err)
	}
	return nil
}
