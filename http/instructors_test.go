package http

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"instainstru/market"
	"instainstru/store/storetest"
)

func TestCatalogListsCategoriesAndFiltersServices(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	var empty map[string]any
	ts.doJSON("GET", "/api/v1/categories", "", nil, 200, &empty)
	if items, ok := empty["items"].([]any); !ok || len(items) != 0 {
		t.Fatalf("empty catalog: %v", empty)
	}
	piano := ts.newCatalogService("Piano 100% fun_")
	ts.newCatalogService("Spanish")
	var cats categoryList
	ts.doJSON("GET", "/api/v1/categories", "", nil, 200, &cats)
	if len(cats.Items) != 2 {
		t.Fatalf("categories: %+v", cats)
	}
	var all, byQ, byCat, literal serviceList
	ts.doJSON("GET", "/api/v1/services", "", nil, 200, &all)
	ts.doJSON("GET", "/api/v1/services?q=PIANO", "", nil, 200, &byQ)
	var pianoCat string
	for _, s := range all.Items {
		if s.ID == piano {
			pianoCat = s.CategoryID
		}
	}
	ts.doJSON("GET", "/api/v1/services?category="+pianoCat, "", nil, 200, &byCat)
	ts.doJSON("GET", "/api/v1/services?q="+url.QueryEscape("100%"), "", nil, 200, &literal)
	if len(all.Items) != 2 || len(byQ.Items) != 1 || byQ.Items[0].ID != piano || len(byCat.Items) != 1 || len(literal.Items) != 1 {
		t.Fatalf("all %d, q %v, category %v, literal %v", len(all.Items), byQ, byCat, literal)
	}
	var none serviceList
	ts.doJSON("GET", "/api/v1/services?q="+url.QueryEscape("%"), "", nil, 200, &none)
	if len(none.Items) != 1 { // only the name that contains a literal %
		t.Fatalf("%% is a wildcard: %v", none)
	}
}

func TestInstructorSelfServiceAndPublicProfile(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	tok, me := ts.signUp(market.RoleInstructor)
	piano := ts.newCatalogService("Piano")
	guitar := ts.newCatalogService("Guitar")

	var prof ownProfile
	ts.doJSON("PUT", "/api/v1/instructors/me", tok, map[string]any{
		"bio": "  Juilliard grad  ", "years_experience": 12, "areas": []string{"Upper West Side", " uws ", "williamsburg", "Upper West Side"},
		"timezone": "America/Chicago",
	}, 200, &prof)
	// Areas are stored as the neighbourhood list spells them: an alias or
	// another case names the same area once.
	if prof.Bio != "Juilliard grad" || prof.YearsExperience != 12 || !slices.Equal(prof.Areas, []string{"Upper West Side", "Williamsburg"}) ||
		prof.Timezone != "America/Chicago" {
		t.Fatalf("profile %+v", prof)
	}
	// A place that is not on the list is refused, naming it; nothing changes.
	resp, body := ts.do("PUT", "/api/v1/instructors/me", tok, map[string]any{
		"bio": "changed", "areas": []string{"Astoria", "Atlantis"}, "timezone": "America/Chicago"})
	var refused struct {
		Error struct {
			Code    string            `json:"code"`
			Details map[string]string `json:"details"`
		} `json:"error"`
	}
	mustJSON(t, body, &refused)
	if resp.StatusCode != 422 || refused.Error.Code != market.EVALIDATION || len(refused.Error.Details) != 1 || refused.Error.Details["areas[1]"] == "" {
		t.Fatalf("unknown area: %d %s", resp.StatusCode, body)
	}
	ts.doJSON("GET", "/api/v1/instructors/me", tok, nil, 200, &prof)
	if prof.Bio != "Juilliard grad" || !slices.Equal(prof.Areas, []string{"Upper West Side", "Williamsburg"}) {
		t.Fatalf("refused update changed the profile: %+v", prof)
	}

	pianoOffer := ts.offerService(tok, piano, 8000, 90, 30, 60)
	guitarOffer := ts.offerService(tok, guitar, 6000, 45)
	// One active offer per service.
	resp, body = ts.do("POST", "/api/v1/instructors/me/services", tok, map[string]any{
		"service_id": piano, "hourly_rate_cents": 100, "durations": []int{60}})
	if resp.StatusCode != 409 {
		t.Fatalf("duplicate offer: %d %s", resp.StatusCode, body)
	}
	var patched market.InstructorService
	ts.doJSON("PATCH", "/api/v1/instructors/me/services/"+pianoOffer, tok, map[string]any{"hourly_rate_cents": 9000}, 200, &patched)
	if patched.HourlyRateCents != 9000 || !slices.Equal(patched.Durations, []int{30, 60, 90}) || !patched.Active || patched.Name != "Piano" {
		t.Fatalf("patched %+v", patched)
	}
	ts.doJSON("DELETE", "/api/v1/instructors/me/services/"+guitarOffer, tok, nil, 204, nil)
	ts.doJSON("DELETE", "/api/v1/instructors/me/services/"+guitarOffer, tok, nil, 404, nil)
	ts.doJSON("PATCH", "/api/v1/instructors/me/services/"+guitarOffer, tok, map[string]any{"hourly_rate_cents": 100}, 404, nil)

	// Public detail: exactly the SPEC's keys (plus the cancellation notice students see before booking; photo_url
	// and online, §4.3); only active services.
	_, data := ts.do("GET", "/api/v1/instructors/"+me.ID, "", nil)
	var detail map[string]any
	mustJSON(t, data, &detail)
	if keys := sortedKeys(detail); keys != "areas bio cancellation_notice_hours full_name id online photo_url services timezone" {
		t.Fatalf("detail keys %q: %s", keys, data)
	}
	svcs := detail["services"].([]any)
	if len(svcs) != 1 {
		t.Fatalf("services %v", svcs)
	}
	s0 := svcs[0].(map[string]any)
	if sortedKeys(s0) != "durations hourly_rate_cents id main name service_id" || s0["id"] != pianoOffer || s0["service_id"] != piano || s0["main"] != true {
		t.Fatalf("service %v", s0)
	}
	// The own view keeps removed offers, marked inactive.
	var own ownProfile
	ts.doJSON("GET", "/api/v1/instructors/me", tok, nil, 200, &own)
	if len(own.Services) != 2 || !own.Services[0].Active || own.Services[1].Active {
		t.Fatalf("own services %+v", own.Services)
	}
	// Re-offering a removed service creates a new active offer.
	again := ts.offerService(tok, guitar, 7000, 60)
	if again == guitarOffer {
		t.Fatalf("re-offer reused the removed row")
	}
	// Another instructor cannot touch these offers.
	other, _ := ts.signUp(market.RoleInstructor)
	ts.doJSON("PATCH", "/api/v1/instructors/me/services/"+pianoOffer, other, map[string]any{"hourly_rate_cents": 100}, 404, nil)
	ts.doJSON("DELETE", "/api/v1/instructors/me/services/"+pianoOffer, other, nil, 404, nil)
	// A student's id is not an instructor.
	_, student := ts.signUp(market.RoleStudent)
	ts.doJSON("GET", "/api/v1/instructors/"+student.ID, "", nil, 404, nil)
}

func TestInstructorInputValidation(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	tok, _ := ts.signUp(market.RoleInstructor)
	piano := ts.newCatalogService("Piano")
	offer := ts.offerService(tok, piano, 5000)
	tests := []struct {
		name, method, path string
		body               any
		field              string
	}{
		{"unknown timezone", "PUT", "/api/v1/instructors/me", map[string]any{"timezone": "Mars/Olympus"}, "timezone"},
		{"Local timezone", "PUT", "/api/v1/instructors/me", map[string]any{"timezone": "Local"}, "timezone"},
		{"path-like timezone", "PUT", "/api/v1/instructors/me", map[string]any{"timezone": "../../etc/passwd"}, "timezone"},
		{"negative experience", "PUT", "/api/v1/instructors/me", map[string]any{"years_experience": -1}, "years_experience"},
		{"81 years", "PUT", "/api/v1/instructors/me", map[string]any{"years_experience": 81}, "years_experience"},
		{"long bio", "PUT", "/api/v1/instructors/me", map[string]any{"bio": strings.Repeat("ü", 2001)}, "bio"},
		{"blank area", "PUT", "/api/v1/instructors/me", map[string]any{"areas": []string{"  "}}, "areas[0]"},
		{"duration 20", "POST", "/api/v1/instructors/me/services",
			map[string]any{"service_id": piano, "hourly_rate_cents": 5000, "durations": []int{20}}, "durations[0]"},
		{"duration 0", "POST", "/api/v1/instructors/me/services",
			map[string]any{"service_id": piano, "hourly_rate_cents": 5000, "durations": []int{60, 0}}, "durations[1]"},
		{"duration 495", "POST", "/api/v1/instructors/me/services",
			map[string]any{"service_id": piano, "hourly_rate_cents": 5000, "durations": []int{495}}, "durations[0]"},
		{"no durations", "POST", "/api/v1/instructors/me/services",
			map[string]any{"service_id": piano, "hourly_rate_cents": 5000, "durations": []int{}}, "durations"},
		{"duplicate durations", "POST", "/api/v1/instructors/me/services",
			map[string]any{"service_id": piano, "hourly_rate_cents": 5000, "durations": []int{60, 60}}, "durations"},
		{"rate too low", "POST", "/api/v1/instructors/me/services",
			map[string]any{"service_id": piano, "hourly_rate_cents": 99, "durations": []int{60}}, "hourly_rate_cents"},
		{"service not a uuid", "POST", "/api/v1/instructors/me/services",
			map[string]any{"service_id": "piano", "hourly_rate_cents": 5000, "durations": []int{60}}, "service_id"},
		{"unknown service", "POST", "/api/v1/instructors/me/services",
			map[string]any{"service_id": "00000000-0000-4000-8000-000000000000", "hourly_rate_cents": 5000, "durations": []int{60}}, "service_id"},
		{"patch nothing", "PATCH", "/api/v1/instructors/me/services/" + offer, map[string]any{}, "body"},
		{"patch bad duration", "PATCH", "/api/v1/instructors/me/services/" + offer, map[string]any{"durations": []int{7}}, "durations[0]"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := ts.sub(t).do(tc.method, tc.path, tok, tc.body)
			e := decodeAPIError(t, body)
			if resp.StatusCode != 422 || e.Error.Details[tc.field] == nil {
				t.Fatalf("want 422 on %s: %d %s", tc.field, resp.StatusCode, body)
			}
		})
	}
	var own ownProfile
	ts.doJSON("GET", "/api/v1/instructors/me", tok, nil, 200, &own)
	if len(own.Services) != 1 || own.Timezone != market.DefaultTimezone || own.Services[0].HourlyRateCents != 5000 {
		t.Fatalf("failed requests changed the profile: %+v", own)
	}
}

func TestTimezoneCannotChangeUnderUpcomingBookings(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	tok, inst := ts.signUp(market.RoleInstructor)
	_, student := ts.signUp(market.RoleStudent)
	offer := ts.offerService(tok, ts.newCatalogService("Piano"), 6000, 60)
	start := time.Now().Add(48 * time.Hour).Truncate(time.Hour)
	_, err := storetest.Pool(ts.db).Exec(context.Background(), `INSERT INTO bookings
		(student_id, instructor_id, instructor_service_id, date, start_time, end_time, duration_minutes, price_cents, during)
		VALUES ($1, $2, $3, $4, $5, $6, 60, 6000, tstzrange($7, $8, '[)'))`,
		student.ID, inst.ID, offer, start.Format(time.DateOnly), start.Format("15:04"), start.Add(time.Hour).Format("15:04"),
		start, start.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	resp, body := ts.do("PUT", "/api/v1/instructors/me", tok, map[string]any{"timezone": "Europe/Paris"})
	if resp.StatusCode != 409 {
		t.Fatalf("timezone change with upcoming booking: %d %s", resp.StatusCode, body)
	}
	// The same zone (other fields changing) is fine.
	ts.doJSON("PUT", "/api/v1/instructors/me", tok, map[string]any{"bio": "new", "timezone": market.DefaultTimezone}, 200, nil)
}

func sortedKeys(m map[string]any) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return strings.Join(keys, " ")
}

func TestInstructorCursorPaginationVisitsEveryInstructorOnce(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	ctx := context.Background()
	hash, err := bcrypt.GenerateFromPassword([]byte(testPassword), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	piano := ts.newCatalogService("Piano")
	// 53 instructors; names repeat so the id tie-break matters.
	names := []string{"Ana Díaz", "Émile Zola", "bob", "Bob", "Zoë", "李 Wei", "O'Brien", "Ana Díaz"}
	want := map[string]bool{}
	pianists := map[string]bool{}
	for i := range 53 {
		u, err := ts.db.CreateUser(ctx, market.NewUser{Email: fmt.Sprintf("i%d@example.com", i),
			PasswordHash: string(hash), FullName: names[i%len(names)], Role: market.RoleInstructor})
		if err != nil {
			t.Fatal(err)
		}
		ts.setVerified(u.ID, true) // only verified instructors are listed
		want[u.ID] = true
		if i%3 == 0 {
			if _, err := ts.db.AddInstructorService(ctx, u.ID, market.NewInstructorService{
				ServiceID: piano, HourlyRateCents: 5000, Durations: []int{60}}); err != nil {
				t.Fatal(err)
			}
			pianists[u.ID] = true
		}
	}
	// Students and deleted instructors are never listed.
	ts.signUp(market.RoleStudent)
	_, gone := ts.signUp(market.RoleInstructor)
	if err := ts.db.DeleteUser(ctx, gone.ID); err != nil {
		t.Fatal(err)
	}

	walk := func(query string, limit int) []string {
		var ids []string
		cursor := ""
		for pages := 0; ; pages++ {
			if pages > 100 {
				t.Fatalf("pagination does not end")
			}
			path := fmt.Sprintf("/api/v1/instructors?limit=%d%s", limit, query)
			if cursor != "" {
				path += "&cursor=" + url.QueryEscape(cursor)
			}
			var page struct {
				Items      []map[string]any `json:"items"`
				NextCursor *string          `json:"next_cursor"`
			}
			data := ts.doJSON("GET", path, "", nil, 200, &page)
			if len(page.Items) > limit {
				t.Fatalf("page of %d > limit %d", len(page.Items), limit)
			}
			for _, it := range page.Items {
				if sortedKeys(it) != "areas bio full_name id online photo_url services" {
					t.Fatalf("item keys: %s", data)
				}
				ids = append(ids, it["id"].(string))
			}
			if page.NextCursor == nil {
				if !strings.Contains(string(data), `"next_cursor":null`) {
					t.Fatalf("last page lacks next_cursor:null: %s", data)
				}
				return ids
			}
			cursor = *page.NextCursor
		}
	}
	check := func(name string, got []string, want map[string]bool) {
		seen := map[string]bool{}
		for _, id := range got {
			if seen[id] {
				t.Fatalf("%s: %s listed twice", name, id)
			}
			if !want[id] {
				t.Fatalf("%s: unexpected %s", name, id)
			}
			seen[id] = true
		}
		if len(seen) != len(want) {
			t.Fatalf("%s: listed %d of %d", name, len(seen), len(want))
		}
	}
	for _, limit := range []int{1, 7, 20, 53, 100} {
		check(fmt.Sprintf("limit %d", limit), walk("", limit), want)
	}
	check("service filter", walk("&service_id="+piano, 4), pianists)
	check("q by service name", walk("&q=pIaNo", 5), pianists)

	var def struct{ Items []any }
	ts.doJSON("GET", "/api/v1/instructors", "", nil, 200, &def)
	if len(def.Items) != 20 {
		t.Fatalf("default page size %d", len(def.Items))
	}
	for _, bad := range []string{"limit=0", "limit=101", "limit=x", "cursor=%%%", "cursor=" + url.QueryEscape("eyJuIjoxfQ"), "service_id=nope"} {
		resp, body := ts.do("GET", "/api/v1/instructors?"+bad, "", nil)
		if resp.StatusCode != 422 {
			t.Errorf("%s: %d %s", bad, resp.StatusCode, body)
		}
	}
	// A cursor is opaque but must not be trusted: a forged one is 422, not 500.
	forged, _ := json.Marshal(instructorCursor{Name: "x", ID: "1; DROP TABLE users"})
	resp, _ := ts.do("GET", "/api/v1/instructors?cursor="+url.QueryEscape(string(forged)), "", nil)
	if resp.StatusCode != 422 {
		t.Errorf("forged cursor: %d", resp.StatusCode)
	}
}
