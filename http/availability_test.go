package http

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"instainstru/market"
	"instainstru/store"
	"instainstru/store/storetest"
)

// schedPublisher is a real EventPublisher that keeps what it was given,
// so tests can check what the handlers hand to the broker after commit.
type schedPublisher struct {
	mu    sync.Mutex
	calls [][]market.Event
}

func (p *schedPublisher) PublishCommitted(_ context.Context, evs []market.Event) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.calls = append(p.calls, append([]market.Event(nil), evs...))
}

func (p *schedPublisher) events() []market.Event {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []market.Event
	for _, c := range p.calls {
		out = append(out, c...)
	}
	return out
}

func withSchedPublisher(p *schedPublisher) testOption {
	return func(_ *Config, d *Deps) { d.DB = d.DB.(*store.DB).WithPublisher(p) }
}

// schedCounter reads a counter's current value.
func schedCounter(t *testing.T, c prometheus.Counter) float64 {
	t.Helper()
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetCounter().GetValue()
}

// newSchedInstructor signs up an instructor who offers a fresh catalog service at
// 60 USD/h in 30 or 60 minute lessons; it returns their token, user and the
// offer id.
func newSchedInstructor(ts *testServer) (string, market.User, string) {
	ts.t.Helper()
	tok, u := ts.signUp(market.RoleInstructor)
	ctx := context.Background()
	slug := "svc-" + storetest.RandomSuffix()
	var cat, svc, offer string
	if err := storetest.Pool(ts.db).QueryRow(ctx, `INSERT INTO categories (slug, name) VALUES ($1, $1) RETURNING id`, slug).Scan(&cat); err != nil {
		ts.t.Fatal(err)
	}
	if err := storetest.Pool(ts.db).QueryRow(ctx, `INSERT INTO services (category_id, slug, name) VALUES ($1, $2, $2) RETURNING id`, cat, slug).Scan(&svc); err != nil {
		ts.t.Fatal(err)
	}
	if err := storetest.Pool(ts.db).QueryRow(ctx, `INSERT INTO instructor_services (instructor_id, service_id, hourly_rate_cents, durations)
		VALUES ($1, $2, 6000, '{30,60}') RETURNING id`, u.ID, svc).Scan(&offer); err != nil {
		ts.t.Fatal(err)
	}
	return tok, u, offer
}

// schedWeek is a Monday at least a week ahead of today in New York, so HTTP
// tests (which run on the real clock) always write future dates.
func schedWeek() time.Time {
	ny, _ := time.LoadLocation(market.DefaultTimezone)
	y, m, d := time.Now().In(ny).Date()
	today := time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	return today.AddDate(0, 0, 7+(8-int(today.Weekday()))%7)
}

func schedDate(t time.Time) string { return t.Format(time.DateOnly) }

type schedAvailability struct {
	InstructorID string `json:"instructor_id"`
	Timezone     string `json:"timezone"`
	Seq          int64  `json:"seq"`
	Days         []struct {
		Date    string `json:"date"`
		Windows []struct {
			ID    string `json:"id"`
			Start string `json:"start"`
			End   string `json:"end"`
		} `json:"windows"`
		Open []market.Interval `json:"open"`
	} `json:"days"`
}

func schedSpans(pairs ...string) []market.Interval {
	out := []market.Interval{}
	for i := 0; i < len(pairs); i += 2 {
		out = append(out, market.Interval{Start: pairs[i], End: pairs[i+1]})
	}
	return out
}

func fetchAvailability(ts *testServer, instructor string, from, to time.Time) schedAvailability {
	ts.t.Helper()
	var a schedAvailability
	ts.doJSON("GET", fmt.Sprintf("/api/v1/instructors/%s/availability?from=%s&to=%s", instructor, schedDate(from), schedDate(to)), "", nil, 200, &a)
	return a
}

// expectError checks status and code of an error response.
func expectAPIError(ts *testServer, method, path, token string, body any, status int, code string) apiError {
	ts.t.Helper()
	resp, data := ts.do(method, path, token, body)
	if resp.StatusCode != status {
		ts.t.Fatalf("%s %s: status %d, want %d: %s", method, path, resp.StatusCode, status, data)
	}
	e := decodeAPIError(ts.t, data)
	if e.Error.Code != code {
		ts.t.Fatalf("%s %s: code %q, want %q: %s", method, path, e.Error.Code, code, data)
	}
	return e
}

func TestAvailabilityWritesAndPublicReadOverHTTP(t *testing.T) {
	t.Parallel()
	pub := &schedPublisher{}
	ts := newTestServer(t, withSchedPublisher(pub))
	tok, in, _ := newSchedInstructor(ts)
	mon := schedWeek()
	tue, wed := mon.AddDate(0, 0, 1), mon.AddDate(0, 0, 2)

	var week schedAvailability
	ts.doJSON("PUT", "/api/v1/instructors/me/availability/week", tok, map[string]any{
		"week_start": schedDate(mon),
		"days": []map[string]any{
			{"date": schedDate(mon), "windows": []map[string]string{{"start": "09:00", "end": "12:00"}}},
			{"date": schedDate(wed), "windows": []map[string]string{{"start": "13:00", "end": "14:00"}, {"start": "15:00", "end": "17:00"}}},
		},
	}, 200, &week)
	if week.InstructorID != in.ID || week.Timezone != market.DefaultTimezone || week.Seq != 1 || len(week.Days) != 7 {
		t.Fatalf("week = %+v", week)
	}
	if !reflect.DeepEqual(week.Days[2].Open, schedSpans("13:00", "14:00", "15:00", "17:00")) {
		t.Fatalf("wednesday open %v", week.Days[2].Open)
	}

	var w market.Window
	ts.doJSON("POST", "/api/v1/instructors/me/availability", tok,
		map[string]string{"date": schedDate(tue), "start": "10:00", "end": "11:30"}, 201, &w)
	if w.ID == "" || w.Date != schedDate(tue) || w.Start != "10:00" || w.End != "11:30" {
		t.Fatalf("window %+v", w)
	}

	a := fetchAvailability(ts, in.ID, mon, wed)
	if a.Seq != 2 || len(a.Days) != 3 || !reflect.DeepEqual(a.Days[1].Open, schedSpans("10:00", "11:30")) {
		t.Fatalf("availability %+v", a)
	}

	resp, body := ts.do("DELETE", "/api/v1/instructors/me/availability/"+w.ID, tok, nil)
	if resp.StatusCode != 204 || len(body) != 0 {
		t.Fatalf("delete: %d %s", resp.StatusCode, body)
	}
	expectAPIError(ts, "DELETE", "/api/v1/instructors/me/availability/"+w.ID, tok, nil, 404, market.ENOTFOUND)

	var copied schedAvailability
	ts.doJSON("POST", "/api/v1/instructors/me/availability/copy-week", tok,
		map[string]string{"from_week_start": schedDate(mon), "to_week_start": schedDate(mon.AddDate(0, 0, 7))}, 200, &copied)
	if copied.Days[0].Date != schedDate(mon.AddDate(0, 0, 7)) || len(copied.Days[0].Windows) != 1 || len(copied.Days[2].Windows) != 2 {
		t.Fatalf("copied week %+v", copied)
	}
	var applied schedAvailability
	ts.doJSON("POST", "/api/v1/instructors/me/availability/apply-pattern", tok, map[string]string{
		"week_start": schedDate(mon), "from": schedDate(mon.AddDate(0, 0, 14)), "to": schedDate(mon.AddDate(0, 0, 27))}, 200, &applied)
	if len(applied.Days) != 14 || len(applied.Days[7].Windows) != 1 || len(applied.Days[9].Windows) != 2 || applied.Seq != 5 {
		t.Fatalf("pattern %+v", applied)
	}

	// Every committed change went to the publisher, one availability.changed each.
	evs := pub.events()
	if len(evs) != 5 {
		t.Fatalf("%d events published, want 5", len(evs))
	}
	for i, e := range evs {
		if e.Type != market.EventAvailabilityChanged || e.Seq != int64(i+1) || e.Topic != market.AvailabilityTopic(in.ID) {
			t.Fatalf("event %d = %+v", i, e)
		}
	}
}

func TestAvailabilityRejectsInvalidWritesOverHTTP(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	tok, in, _ := newSchedInstructor(ts)
	mon := schedWeek()
	ts.doJSON("POST", "/api/v1/instructors/me/availability", tok,
		map[string]string{"date": schedDate(mon), "start": "09:00", "end": "12:00"}, 201, nil)
	past := mon.AddDate(0, 0, -30)
	far := mon.AddDate(0, 0, 100)
	tests := []struct {
		name   string
		method string
		path   string
		body   any
		status int
		code   string
		field  string
	}{
		{"overlap", "POST", "/api/v1/instructors/me/availability", map[string]string{"date": schedDate(mon), "start": "11:00", "end": "13:00"}, 422, market.EVALIDATION, "start"},
		{"end before start", "POST", "/api/v1/instructors/me/availability", map[string]string{"date": schedDate(mon), "start": "14:00", "end": "13:00"}, 422, market.EVALIDATION, "end"},
		{"end equals start", "POST", "/api/v1/instructors/me/availability", map[string]string{"date": schedDate(mon), "start": "14:00", "end": "14:00"}, 422, market.EVALIDATION, "end"},
		{"misaligned", "POST", "/api/v1/instructors/me/availability", map[string]string{"date": schedDate(mon), "start": "14:07", "end": "15:00"}, 422, market.EVALIDATION, "start"},
		{"past date", "POST", "/api/v1/instructors/me/availability", map[string]string{"date": schedDate(past), "start": "09:00", "end": "10:00"}, 422, market.EVALIDATION, "date"},
		{"missing field", "POST", "/api/v1/instructors/me/availability", map[string]string{"date": schedDate(mon), "start": "09:00"}, 422, market.EVALIDATION, "end"},
		{"malformed JSON", "POST", "/api/v1/instructors/me/availability", `{"date":`, 400, market.EMALFORMED, ""},
		{"unknown field", "POST", "/api/v1/instructors/me/availability", `{"date":"2030-01-01","start":"09:00","end":"10:00","x":1}`, 400, market.EMALFORMED, "x"},
		{"week with one bad window", "PUT", "/api/v1/instructors/me/availability/week", map[string]any{"week_start": schedDate(mon), "days": []map[string]any{
			{"date": schedDate(mon), "windows": []map[string]string{{"start": "08:00", "end": "09:00"}}},
			{"date": schedDate(mon.AddDate(0, 0, 1)), "windows": []map[string]string{{"start": "10:00", "end": "10:10"}}},
		}}, 422, market.EVALIDATION, "days[1].windows[0].end"},
		{"week without days", "PUT", "/api/v1/instructors/me/availability/week", map[string]any{"week_start": schedDate(mon)}, 422, market.EVALIDATION, "days"},
		{"week not starting Monday", "PUT", "/api/v1/instructors/me/availability/week", map[string]any{"week_start": schedDate(mon.AddDate(0, 0, 1)), "days": []any{}}, 422, market.EVALIDATION, "week_start"},
		{"pattern over 90 days", "POST", "/api/v1/instructors/me/availability/apply-pattern", map[string]string{"week_start": schedDate(mon), "from": schedDate(mon), "to": schedDate(far)}, 422, market.EVALIDATION, "to"},
		{"pattern from the past", "POST", "/api/v1/instructors/me/availability/apply-pattern", map[string]string{"week_start": schedDate(mon), "from": schedDate(past), "to": schedDate(mon)}, 422, market.EVALIDATION, "from"},
		{"availability read over 90 days", "GET", fmt.Sprintf("/api/v1/instructors/%s/availability?from=%s&to=%s", in.ID, schedDate(mon), schedDate(far)), nil, 422, market.EVALIDATION, "to"},
		{"availability read without range", "GET", fmt.Sprintf("/api/v1/instructors/%s/availability", in.ID), nil, 422, market.EVALIDATION, "from"},
		{"availability of nobody", "GET", fmt.Sprintf("/api/v1/instructors/%s/availability?from=%s&to=%s", "00000000-0000-0000-0000-000000000001", schedDate(mon), schedDate(mon)), nil, 404, market.ENOTFOUND, ""},
		{"availability of a non-UUID", "GET", fmt.Sprintf("/api/v1/instructors/me/availability?from=%s&to=%s", schedDate(mon), schedDate(mon)), nil, 404, market.ENOTFOUND, ""},
		{"delete a non-UUID window", "DELETE", "/api/v1/instructors/me/availability/abc", nil, 404, market.ENOTFOUND, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := expectAPIError(ts, tc.method, tc.path, tok, tc.body, tc.status, tc.code)
			if tc.field != "" && e.Error.Details[tc.field] == nil {
				t.Fatalf("details %v do not name %q", e.Error.Details, tc.field)
			}
			a := fetchAvailability(ts, in.ID, mon, mon.AddDate(0, 0, 6))
			if a.Seq != 1 || len(a.Days[0].Windows) != 1 || len(a.Days[1].Windows) != 0 {
				t.Fatalf("a failed write changed availability: %+v", a)
			}
		})
	}
}

// schedProtectedRoutes are every route of this area that needs a token, with
// the roles that lack their permission.
func schedProtectedRoutes(mon time.Time) []struct {
	method, path string
	body         any
	wrongRole    string
} {
	id := "00000000-0000-0000-0000-000000000001"
	return []struct {
		method, path string
		body         any
		wrongRole    string
	}{
		{"POST", "/api/v1/instructors/me/availability", map[string]string{"date": schedDate(mon), "start": "09:00", "end": "10:00"}, market.RoleStudent},
		{"PUT", "/api/v1/instructors/me/availability/week", map[string]any{"week_start": schedDate(mon), "days": []any{}}, market.RoleStudent},
		{"POST", "/api/v1/instructors/me/availability/copy-week", map[string]string{"from_week_start": schedDate(mon), "to_week_start": schedDate(mon)}, market.RoleAdmin},
		{"POST", "/api/v1/instructors/me/availability/apply-pattern", map[string]string{"week_start": schedDate(mon), "from": schedDate(mon), "to": schedDate(mon)}, market.RoleStudent},
		{"DELETE", "/api/v1/instructors/me/availability/" + id, nil, market.RoleAdmin},
		{"POST", "/api/v1/bookings", map[string]any{}, market.RoleInstructor},
		{"POST", "/api/v1/bookings", map[string]any{}, market.RoleAdmin},
		{"GET", "/api/v1/bookings?scope=upcoming", nil, ""},
		{"GET", "/api/v1/bookings/" + id, nil, ""},
		{"POST", "/api/v1/bookings/" + id + "/cancel", nil, ""},
		{"POST", "/api/v1/bookings/" + id + "/reschedule", map[string]string{"date": schedDate(mon), "start_time": "09:00"}, ""},
	}
}

func TestProtectedRoutesNeedATokenAndThePermission(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	tokens := map[string]string{}
	for _, role := range []string{market.RoleStudent, market.RoleInstructor, market.RoleAdmin} {
		tokens[role], _ = ts.signUp(role)
	}
	// A user whose roles were all revoked holds no permission at all: it is
	// the wrong role for routes every role may use.
	var roleless market.User
	tokens[""], roleless = ts.signUp(market.RoleStudent)
	if _, err := storetest.Pool(ts.db).Exec(context.Background(), `DELETE FROM user_roles WHERE user_id=$1`, roleless.ID); err != nil {
		t.Fatal(err)
	}
	for _, r := range schedProtectedRoutes(schedWeek()) {
		t.Run(r.method+" "+r.path+" as "+r.wrongRole, func(t *testing.T) {
			expectAPIError(ts, r.method, r.path, "", r.body, 401, market.EUNAUTHORIZED)
			expectAPIError(ts, r.method, r.path, "not-a-jwt", r.body, 401, market.EUNAUTHORIZED)
			expectAPIError(ts, r.method, r.path, tokens[r.wrongRole], r.body, 403, market.EFORBIDDEN)
		})
	}
	// Nothing was written by refused requests.
	var n int
	if err := storetest.Pool(ts.db).QueryRow(context.Background(), `SELECT (SELECT count(*) FROM availability_windows) + (SELECT count(*) FROM bookings) + (SELECT count(*) FROM events)`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("%d rows written by refused requests (%v)", n, err)
	}
}

func TestAvailabilityResponseShapeIsTheSpecs(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	tok, in, _ := newSchedInstructor(ts)
	mon := schedWeek()
	ts.doJSON("POST", "/api/v1/instructors/me/availability", tok,
		map[string]string{"date": schedDate(mon), "start": "09:00", "end": "12:00"}, 201, nil)
	_, body := ts.do("GET", fmt.Sprintf("/api/v1/instructors/%s/availability?from=%s&to=%s", in.ID, schedDate(mon), schedDate(mon)), "", nil)
	var raw map[string]json.RawMessage
	mustJSON(t, body, &raw)
	keys := func(m map[string]json.RawMessage) []string {
		var out []string
		for k := range m {
			out = append(out, k)
		}
		slices.Sort(out)
		return out
	}
	if got := keys(raw); !reflect.DeepEqual(got, []string{"days", "instructor_id", "seq", "timezone"}) {
		t.Fatalf("top-level keys %v", got)
	}
	var days []map[string]json.RawMessage
	mustJSON(t, raw["days"], &days)
	if got := keys(days[0]); !reflect.DeepEqual(got, []string{"date", "open", "windows"}) {
		t.Fatalf("day keys %v", got)
	}
	var windows []map[string]json.RawMessage
	mustJSON(t, days[0]["windows"], &windows)
	if got := keys(windows[0]); !reflect.DeepEqual(got, []string{"end", "id", "start"}) {
		t.Fatalf("window keys %v", got)
	}
}
