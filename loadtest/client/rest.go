package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// API is a small client of the hub's REST API (SPEC §4.1 shapes).
type API struct {
	hc *http.Client
}

func NewAPI(timeout time.Duration, maxConns int) *API {
	tr := &http.Transport{
		Proxy:               nil,
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        maxConns,
		MaxIdleConnsPerHost: maxConns,
		IdleConnTimeout:     5 * time.Second, // below servers' idle timeouts, so no request races a server-side close
		DisableCompression:  true,
		ForceAttemptHTTP2:   false,
	}
	return &API{hc: &http.Client{Transport: tr, Timeout: timeout}}
}

// APIError is a non-2xx answer: the status and the SPEC error code.
type APIError struct {
	Status  int
	Code    string
	Message string
	Retry   time.Duration // from Retry-After on 429
}

func (e *APIError) Error() string {
	return fmt.Sprintf("HTTP %d %s: %s", e.Status, e.Code, e.Message)
}

// IsShed reports a write the server refused past capacity (503 with
// Retry-After): nothing changed, the client may retry. It is load
// shedding, counted apart from failures.
func IsShed(err error) bool {
	var ae *APIError
	return errors.As(err, &ae) && ae.Status == http.StatusServiceUnavailable && ae.Retry > 0
}

// ErrorKind names a failure for the "errors by kind" table: http_<status>_<code>,
// timeout, or transport.
func ErrorKind(err error) string {
	var ae *APIError
	if errors.As(err, &ae) {
		if ae.Code != "" {
			return fmt.Sprintf("http_%d_%s", ae.Status, ae.Code)
		}
		return fmt.Sprintf("http_%d", ae.Status)
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return "timeout"
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return "timeout"
	}
	if errors.Is(err, context.Canceled) {
		return "cancelled"
	}
	return "transport"
}

// Do sends a JSON request and decodes a 2xx JSON answer into out (when
// non-nil). It returns the status code.
func (a *API) Do(ctx context.Context, method, u, token string, hdr map[string]string, in, out any) (int, error) {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return 0, err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return 0, err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := a.hc.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return resp.StatusCode, err
	}
	if resp.StatusCode/100 != 2 {
		ae := &APIError{Status: resp.StatusCode}
		var e struct {
			Error struct {
				Code    string         `json:"code"`
				Message string         `json:"message"`
				Details map[string]any `json:"details"`
			} `json:"error"`
		}
		if json.Unmarshal(b, &e) == nil {
			ae.Code, ae.Message = e.Error.Code, e.Error.Message
			if len(e.Error.Details) > 0 {
				d, _ := json.Marshal(e.Error.Details)
				ae.Message += " " + string(d)
			}
		}
		if ae.Message == "" {
			ae.Message = strings.TrimSpace(string(b[:min(len(b), 200)]))
		}
		if s := resp.Header.Get("Retry-After"); s != "" {
			if n, err := strconv.Atoi(s); err == nil {
				ae.Retry = time.Duration(n) * time.Second
			}
		}
		return resp.StatusCode, ae
	}
	if out != nil && len(b) > 0 {
		if err := json.Unmarshal(b, out); err != nil {
			return resp.StatusCode, fmt.Errorf("decode %s %s: %w", method, u, err)
		}
	}
	return resp.StatusCode, nil
}

// Session is a signed-in user.
type Session struct {
	UserID string
	Email  string
	Token  string
	Roles  []string
}

type authAnswer struct {
	AccessToken string `json:"access_token"`
	User        struct {
		ID    string   `json:"id"`
		Email string   `json:"email"`
		Roles []string `json:"roles"`
	} `json:"user"`
}

func (a *API) authCall(ctx context.Context, u string, in any) (*Session, error) {
	var out authAnswer
	for attempt := 0; ; attempt++ {
		_, err := a.Do(ctx, http.MethodPost, u, "", nil, in, &out)
		var ae *APIError
		if errors.As(err, &ae) && ae.Status == http.StatusTooManyRequests && attempt < 20 {
			// Rate-limited (a staging cluster keeps its defaults): wait as
			// told, so a large -students still completes, slowly.
			wait := ae.Retry
			if wait <= 0 {
				wait = 2 * time.Second
			}
			select {
			case <-ctx.Done():
				return nil, ctx.Err()
			case <-time.After(wait):
			}
			continue
		}
		if err != nil {
			return nil, err
		}
		break
	}
	if out.AccessToken == "" || out.User.ID == "" {
		return nil, fmt.Errorf("%s: answer without access_token or user.id", u)
	}
	return &Session{UserID: out.User.ID, Email: out.User.Email, Token: out.AccessToken, Roles: out.User.Roles}, nil
}

func (a *API) Register(ctx context.Context, base, email, password, name, role string) (*Session, error) {
	return a.authCall(ctx, base+"/api/v1/auth/register", map[string]string{
		"email": email, "password": password, "full_name": name, "role": role,
	})
}

func (a *API) Login(ctx context.Context, base, email, password string) (*Session, error) {
	return a.authCall(ctx, base+"/api/v1/auth/login", map[string]string{"email": email, "password": password})
}

// MailOff turns the session's user's email and reminders off.
func (a *API) MailOff(ctx context.Context, base string, s *Session) error {
	st, err := a.Do(ctx, http.MethodPut, base+"/api/v1/me/notification-settings", s.Token, nil,
		map[string]any{"email": false, "reminders": false, "reminder_hours": []int{24, 1}}, nil)
	if err != nil {
		return fmt.Errorf("notification settings of %s: %w", s.Email, err)
	}
	if st != http.StatusOK {
		return fmt.Errorf("notification settings of %s: HTTP %d", s.Email, st)
	}
	return nil
}

// InstructorSummary is one item of GET /instructors.
type InstructorSummary struct {
	ID       string `json:"id"`
	FullName string `json:"full_name"`
}

func (a *API) ListInstructors(ctx context.Context, base string, limit int) ([]InstructorSummary, error) {
	var all []InstructorSummary
	cursor := ""
	for len(all) < limit {
		q := url.Values{"limit": {strconv.Itoa(min(100, limit-len(all)))}}
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		var page struct {
			Items      []InstructorSummary `json:"items"`
			NextCursor *string             `json:"next_cursor"`
		}
		if _, err := a.Do(ctx, http.MethodGet, base+"/api/v1/instructors?"+q.Encode(), "", nil, nil, &page); err != nil {
			return nil, err
		}
		all = append(all, page.Items...)
		if page.NextCursor == nil || *page.NextCursor == "" || len(page.Items) == 0 {
			break
		}
		cursor = *page.NextCursor
	}
	return all, nil
}

// OfferedService is one of an instructor's services.
type OfferedService struct {
	ID        string `json:"id"`
	ServiceID string `json:"service_id"`
	Name      string `json:"name"`
	Durations []int  `json:"durations"`
}

type instructorDetail struct {
	ID       string           `json:"id"`
	FullName string           `json:"full_name"`
	Timezone string           `json:"timezone"`
	Services []OfferedService `json:"services"`
}

func (a *API) Instructor(ctx context.Context, base, id string) (*instructorDetail, error) {
	var d instructorDetail
	_, err := a.Do(ctx, http.MethodGet, base+"/api/v1/instructors/"+url.PathEscape(id), "", nil, nil, &d)
	return &d, err
}

// OwnProfile is GET /instructors/me with the instructor's token: it answers
// before the instructor's email is verified, when the public detail is 404.
func (a *API) OwnProfile(ctx context.Context, base string, s *Session) (*instructorDetail, error) {
	var d instructorDetail
	_, err := a.Do(ctx, http.MethodGet, base+"/api/v1/instructors/me", s.Token, nil, nil, &d)
	return &d, err
}

// Interval is a local [start, end) in "HH:MM".
type Interval struct {
	Start string `json:"start"`
	End   string `json:"end"`
}

type AvailabilityDay struct {
	Date string     `json:"date"`
	Open []Interval `json:"open"`
}

type availability struct {
	InstructorID string            `json:"instructor_id"`
	Timezone     string            `json:"timezone"`
	Seq          int64             `json:"seq"`
	Days         []AvailabilityDay `json:"days"`
}

func (a *API) Availability(ctx context.Context, base, id, from, to string) (*availability, error) {
	var av availability
	u := base + "/api/v1/instructors/" + url.PathEscape(id) + "/availability?from=" + from + "&to=" + to
	_, err := a.Do(ctx, http.MethodGet, u, "", nil, nil, &av)
	return &av, err
}

// BookingRequest is the body of POST /bookings.
type BookingRequest struct {
	InstructorID        string `json:"instructor_id"`
	InstructorServiceID string `json:"instructor_service_id"`
	Date                string `json:"date"`
	StartTime           string `json:"start_time"`
	DurationMinutes     int    `json:"duration_minutes"`
}

type bookingAnswer struct {
	ID           string `json:"id"`
	Status       string `json:"status"`
	StudentID    string `json:"student_id"`
	InstructorID string `json:"instructor_id"`
}

func (a *API) Book(ctx context.Context, base, token, idemKey string, req BookingRequest) (*bookingAnswer, error) {
	var b bookingAnswer
	_, err := a.Do(ctx, http.MethodPost, base+"/api/v1/bookings", token,
		map[string]string{"Idempotency-Key": idemKey}, req, &b)
	if err == nil && b.ID == "" {
		err = errors.New("booking answer without id")
	}
	return &b, err
}

func (a *API) Cancel(ctx context.Context, base, token, id string) error {
	var b bookingAnswer
	_, err := a.Do(ctx, http.MethodPost, base+"/api/v1/bookings/"+url.PathEscape(id)+"/cancel", token, nil,
		map[string]string{"reason": "loadtest"}, &b)
	if err == nil && b.Status != "cancelled" {
		err = fmt.Errorf("cancel answered status %q", b.Status)
	}
	return err
}

// WaitReady polls GET /ready until it answers 200 or ctx ends.
func (a *API) WaitReady(ctx context.Context, base string) error {
	var last error
	for {
		_, err := a.Do(ctx, http.MethodGet, base+"/ready", "", nil, nil, nil)
		if err == nil {
			return nil
		}
		last = err
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s/ready: %w (last: %v)", base, ctx.Err(), last)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// Scrape returns a node's /metrics exposition.
func (a *API) Scrape(ctx context.Context, base, key string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/metrics", nil)
	if err != nil {
		return nil, err
	}
	if key != "" {
		req.Header.Set("X-Monitoring-API-Key", key)
	}
	resp, err := a.hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 32<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s/metrics: HTTP %d (set -monitoring-key?)", base, resp.StatusCode)
	}
	return body, nil
}
