package http

import (
	"context"
	"io"
	nethttp "net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/crypto/bcrypt"

	"instainstru/internal/eventually"
	"instainstru/market"
	"instainstru/seed"
	"instainstru/store/storetest"
)

// seeded fills ts's database with the demo data.
func (ts *testServer) seeded() {
	ts.t.Helper()
	h, err := bcrypt.GenerateFromPassword([]byte(seed.Password), bcrypt.MinCost)
	if err != nil {
		ts.t.Fatal(err)
	}
	if _, err := seed.Run(context.Background(), ts.db, seed.Options{PasswordHash: string(h)}); err != nil {
		ts.t.Fatalf("seed: %v", err)
	}
}

func searchPath(q string, extra ...string) string {
	return "/api/v1/search?q=" + url.QueryEscape(q) + strings.Join(extra, "")
}

type searchResponse struct {
	Query  string `json:"query"`
	Parsed struct {
		Services []struct {
			ID, Slug, Name string
		} `json:"services"`
		Areas         []string      `json:"areas"`
		Boroughs      []string      `json:"boroughs"`
		MaxPriceCents *int          `json:"max_price_cents"`
		Days          []string      `json:"days"`
		TimeOfDay     *string       `json:"time_of_day"`
		Unmatched     []string      `json:"unmatched"`
		Chips         []market.Chip `json:"chips"`
	} `json:"parsed"`
	Items []struct {
		InstructorID string   `json:"instructor_id"`
		FullName     string   `json:"full_name"`
		Areas        []string `json:"areas"`
		Services     []struct {
			ID              string `json:"id"`
			ServiceID       string `json:"service_id"`
			Name            string `json:"name"`
			HourlyRateCents int    `json:"hourly_rate_cents"`
		} `json:"services"`
		NextOpen *struct{ Date, Start string } `json:"next_open"`
		Score    float64                       `json:"score"`
	} `json:"items"`
}

func TestSearchAPIAnswersInTheSpecShape(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	ts.seeded()
	var r searchResponse
	ts.doJSON("GET", searchPath("guitar lessons in brooklyn under $80 saturday morning"), "", nil, 200, &r)
	if r.Query != "guitar lessons in brooklyn under $80 saturday morning" {
		t.Fatalf("query = %q", r.Query)
	}
	p := r.Parsed
	if len(p.Services) == 0 || p.Services[0].Slug == "" || p.MaxPriceCents == nil || *p.MaxPriceCents != 8000 ||
		len(p.Areas) == 0 || len(p.Boroughs) != 1 || p.Boroughs[0] != "Brooklyn" ||
		len(p.Days) != 1 || p.Days[0] != "saturday" || p.TimeOfDay == nil || *p.TimeOfDay != "morning" || p.Unmatched == nil {
		t.Fatalf("parsed = %+v", p)
	}
	if len(r.Items) == 0 || r.Items[0].FullName != "Michael Rodriguez" {
		t.Fatalf("items = %+v", r.Items)
	}
	it := r.Items[0]
	if it.Score <= 0 || it.Score > 1 || len(it.Areas) == 0 || len(it.Services) == 0 || it.Services[0].ServiceID == "" {
		t.Fatalf("item = %+v", it)
	}
	for _, o := range it.Services {
		if o.HourlyRateCents > 8000 {
			t.Fatalf("offer over the cap shown: %+v", o)
		}
	}
	if it.NextOpen != nil {
		d, err := market.ParseDate(it.NextOpen.Date)
		if err != nil || d.Weekday() != time.Saturday {
			t.Fatalf("next_open %+v is not a Saturday", it.NextOpen)
		}
	}
	// The offers to show are the ones that matched; nonsense finds nothing.
	ts.doJSON("GET", searchPath("asdfgh qwerty"), "", nil, 200, &r)
	if len(r.Items) != 0 || len(r.Parsed.Unmatched) != 2 {
		t.Fatalf("nonsense: %+v", r)
	}
}

func TestSearchAPIRefusesEmptyAndOverlongQueries(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	for name, path := range map[string]string{
		"missing":      "/api/v1/search",
		"empty":        searchPath(""),
		"blank":        searchPath("   "),
		"201 chars":    searchPath(strings.Repeat("a", 201)),
		"201 runes":    searchPath(strings.Repeat("é", 201)),
		"bad limit":    searchPath("piano", "&limit=0"),
		"huge limit":   searchPath("piano", "&limit=1000"),
		"invalid utf8": "/api/v1/search?q=%ff%fe",
		"nul":          "/api/v1/search?q=pi%00ano",
	} {
		t.Run(name, func(t *testing.T) {
			resp, body := ts.sub(t).do("GET", path, "", nil)
			if resp.StatusCode != 422 || decodeAPIError(t, body).Error.Code != market.EVALIDATION {
				t.Fatalf("%s: %d %s", path, resp.StatusCode, body)
			}
		})
	}
	// 10 KB of query over a real socket (app.Test has no read buffer to
	// overflow) reaches the handler and gets its 422.
	resp, err := nethttp.Get(ts.listen() + searchPath(strings.Repeat("x", 10<<10)))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 422 || decodeAPIError(t, body).Error.Code != market.EVALIDATION {
		t.Fatalf("10 KB query: %d %s", resp.StatusCode, body)
	}
	ts.doJSON("GET", "/api/v1/search/suggest?q="+url.QueryEscape(strings.Repeat("a", 201)), "", nil, 422, nil)
}

func TestSearchAPIAnswersHostileTextWithACleanResult(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	ts.seeded()
	for _, q := range []string{
		"'; DROP TABLE users; --", `piano" OR 1=1 --`, "%", "_", "100%_off", "🎹🎹🎹", "بيانو في هارلم", "פסנתר",
		`\x00\`, "a & b | !c <-> d:*", "$$", "$1", "ｐｉａｎｏ",
	} {
		var r searchResponse
		ts.doJSON("GET", searchPath(q), "", nil, 200, &r)
		if r.Query != strings.TrimSpace(q) {
			t.Errorf("%q echoed as %q", q, r.Query)
		}
	}
	var r searchResponse
	ts.doJSON("GET", searchPath("piano 🎹 in harlem!!!"), "", nil, 200, &r)
	if len(r.Items) == 0 || r.Items[0].FullName != "Sarah Chen" {
		t.Fatalf("emoji around real words: %+v", r.Items)
	}
}

func TestSearchHistoryIsRecordedCollapsedPrivateAndDeletable(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	ts.seeded()
	john, _ := ts.signUp(market.RoleStudent)
	emma, _ := ts.signUp(market.RoleStudent)
	type hist struct {
		Items []struct {
			ID          string    `json:"id"`
			Query       string    `json:"query"`
			SearchedAt  time.Time `json:"searched_at"`
			ResultCount int       `json:"result_count"`
		} `json:"items"`
	}
	waitHistory := func(tok string, want []string) hist {
		t.Helper()
		var h hist
		var got []string
		if !eventually.Within(5*time.Second, func() bool {
			ts.doJSON("GET", "/api/v1/search/history", tok, nil, 200, &h)
			got = got[:0]
			for _, e := range h.Items {
				got = append(got, e.Query)
			}
			return strings.Join(got, "|") == strings.Join(want, "|")
		}) {
			t.Fatalf("history = %v, want %v", got, want)
		}
		return h
	}
	ts.doJSON("GET", searchPath("piano in harlem"), john, nil, 200, nil)
	waitHistory(john, []string{"piano in harlem"})
	ts.doJSON("GET", searchPath("violin"), john, nil, 200, nil)
	waitHistory(john, []string{"violin", "piano in harlem"})
	ts.doJSON("GET", searchPath("Piano  in Harlem"), john, nil, 200, nil)
	h := waitHistory(john, []string{"Piano  in Harlem", "violin"})
	if h.Items[0].ResultCount == 0 || h.Items[0].SearchedAt.IsZero() {
		t.Fatalf("entry = %+v", h.Items[0])
	}
	ts.doJSON("GET", searchPath("zzzz nonsense"), emma, nil, 200, nil)
	eh := waitHistory(emma, []string{"zzzz nonsense"})
	if eh.Items[0].ResultCount != 0 {
		t.Fatalf("zero-result search recorded with %d", eh.Items[0].ResultCount)
	}
	// Anonymous searches reach only the anonymous log.
	ts.doJSON("GET", searchPath("anonymous drums"), "", nil, 200, nil)
	// Emma's entry is not John's: 404, and it stays.
	ts.doJSON("DELETE", "/api/v1/search/history/"+eh.Items[0].ID, john, nil, 404, nil)
	ts.doJSON("DELETE", "/api/v1/search/history/"+uuid.NewString(), john, nil, 404, nil)
	ts.doJSON("DELETE", "/api/v1/search/history/not-a-uuid", john, nil, 404, nil)
	waitHistory(emma, []string{"zzzz nonsense"})
	ts.doJSON("DELETE", "/api/v1/search/history/"+h.Items[1].ID, john, nil, 204, nil)
	waitHistory(john, []string{"Piano  in Harlem"})
	ts.doJSON("DELETE", "/api/v1/search/history", john, nil, 204, nil)
	waitHistory(john, nil)
	waitHistory(emma, []string{"zzzz nonsense"})

	var users, logged, zero int
	ctx := context.Background()
	eventually.Within(5*time.Second, func() bool {
		if err := storetest.Pool(ts.db).QueryRow(ctx, `SELECT count(DISTINCT user_id) FROM search_history`).Scan(&users); err != nil {
			t.Fatal(err)
		}
		if err := storetest.Pool(ts.db).QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE result_count = 0) FROM search_log`).Scan(&logged, &zero); err != nil {
			t.Fatal(err)
		}
		return logged >= 5
	})
	if users != 1 || logged != 5 || zero != 1 {
		t.Fatalf("history users %d (want only emma), log rows %d (want 5), zero-result %d (want 1)", users, logged, zero)
	}
}

func TestSearchHistoryRoutesNeedASignedInUser(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	id := uuid.NewString()
	assertProtected(t, ts, []protectedRoute{
		{method: "GET", path: "/api/v1/search/history"},
		{method: "DELETE", path: "/api/v1/search/history"},
		{method: "DELETE", path: "/api/v1/search/history/" + id},
	})
	// A bad token on the public search is 401, so the client refreshes.
	ts.doJSON("GET", searchPath("piano"), "not-a-token", nil, 401, nil)
}

func TestSuggestAPICompletesAndShowsRecentSearches(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	ts.seeded()
	tok, _ := ts.signUp(market.RoleStudent)
	type sug struct {
		Items []struct {
			Kind string  `json:"kind"`
			Text string  `json:"text"`
			ID   *string `json:"id"`
		} `json:"items"`
	}
	var s sug
	ts.doJSON("GET", "/api/v1/search/suggest?q=pia", "", nil, 200, &s)
	if len(s.Items) == 0 || s.Items[0].Kind != "service" || s.Items[0].Text != "Piano" || s.Items[0].ID == nil {
		t.Fatalf("suggest pia = %+v", s)
	}
	ts.doJSON("GET", "/api/v1/search/suggest?q=", "", nil, 200, &s)
	if len(s.Items) != 0 {
		t.Fatalf("empty anonymous suggest = %+v", s)
	}
	ts.doJSON("GET", searchPath("piano in harlem"), tok, nil, 200, nil)
	if !eventually.Within(5*time.Second, func() bool {
		ts.doJSON("GET", "/api/v1/search/suggest?q=pia", tok, nil, 200, &s)
		return len(s.Items) > 0 && s.Items[0].Kind == "recent"
	}) {
		t.Fatalf("recent search never suggested: %+v", s)
	}
	if s.Items[0].Text != "piano in harlem" || s.Items[0].ID != nil {
		t.Fatalf("recent = %+v", s.Items[0])
	}
	ts.doJSON("GET", "/api/v1/search/suggest?q=", tok, nil, 200, &s)
	if len(s.Items) != 1 || s.Items[0].Kind != "recent" {
		t.Fatalf("empty box for a signed-in user = %+v", s)
	}
}

func TestSearchMetricsCountSearchesAndZeroResults(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	ts := newTestServer(t, func(_ *Config, d *Deps) { d.Registry = reg })
	ts.seeded()
	ts.doJSON("GET", searchPath("piano"), "", nil, 200, nil)
	ts.doJSON("GET", searchPath("qqqqq"), "", nil, 200, nil)
	ts.doJSON("GET", "/api/v1/search/suggest?q=vio", "", nil, 200, nil)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			switch {
			case m.GetCounter() != nil:
				got[mf.GetName()] = m.GetCounter().GetValue()
			case m.GetHistogram() != nil:
				got[mf.GetName()+"{"+m.GetLabel()[0].GetValue()+"}"] = float64(m.GetHistogram().GetSampleCount())
			}
		}
	}
	if got["instainstru_search_requests_total"] != 2 || got["instainstru_search_zero_results_total"] != 1 ||
		got["instainstru_search_duration_seconds{search}"] != 2 || got["instainstru_search_duration_seconds{suggest}"] != 1 {
		t.Fatalf("metrics = %v", got)
	}
}
