package http

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	nethttp "net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"instainstru/market"
	"instainstru/store/storetest"
)

// hostileStrings are stored verbatim or refused with 422 — never a 500.
var hostileStrings = []string{
	"'; DROP TABLE users; --",
	`Robert"); DELETE FROM instructor_profiles WHERE ("1"="1`,
	"1 OR 1=1",
	`\'%_\\`,
	"😀 Zoë Ørsted 日本語 العربية",
	"\u202eRTL override",
	"<script>alert(1)</script>",
	"${jndi:ldap://x}",
	"e\u0301\u0301\u0301 combining",
}

func TestBodiesThatAreNotValidJSONOrHaveWrongTypesAre400(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	instructor, _ := ts.signUp(market.RoleInstructor)
	admin, _ := ts.signUp(market.RoleAdmin)
	svc := ts.newCatalogService("Piano")
	offered := ts.offerService(instructor, svc, 5000)
	_, victim := ts.signUp(market.RoleStudent)

	routes := []struct {
		method, path, token string
		wrongType           string // a body with a field of the wrong type
		wrongField          string
	}{
		{"POST", "/api/v1/auth/register", "", `{"email":"a@b.co","password":12345678,"full_name":"A","role":"student"}`, "password"},
		{"POST", "/api/v1/auth/login", "", `{"email":["a@b.co"],"password":"x"}`, "email"},
		{"POST", "/api/v1/auth/refresh", "", `{"refresh_token":true}`, "refresh_token"},
		{"POST", "/api/v1/auth/logout", "", `{"refresh_token":{}}`, "refresh_token"},
		{"PUT", "/api/v1/instructors/me", instructor, `{"years_experience":"ten"}`, "years_experience"},
		{"POST", "/api/v1/instructors/me/services", instructor, `{"service_id":"` + svc + `","hourly_rate_cents":50.5,"durations":[60]}`, "hourly_rate_cents"},
		{"PATCH", "/api/v1/instructors/me/services/" + offered, instructor, `{"durations":"60"}`, "durations"},
		{"PATCH", "/api/v1/admin/users/" + victim.ID, admin, `{"roles":"admin"}`, "roles"},
	}
	bad := []struct {
		name, body, contentType string
		status                  int
		code                    string
	}{
		{"truncated JSON", `{"a":`, "application/json", 400, market.EMALFORMED},
		{"syntax error", `{"a" 1}`, "application/json", 400, market.EMALFORMED},
		{"trailing garbage", `{} {}`, "application/json", 400, market.EMALFORMED},
		{"trailing text", `{}x`, "application/json", 400, market.EMALFORMED},
		{"array instead of object", `[]`, "application/json", 400, market.EMALFORMED},
		{"string instead of object", `"x"`, "application/json", 400, market.EMALFORMED},
		{"unknown field", `{"is_admin":true}`, "application/json", 400, market.EMALFORMED},
		{"empty body", ``, "application/json", 400, market.EMALFORMED},
		{"raw control character", "{\"a\":\"\x01\"}", "application/json", 400, market.EMALFORMED},
		{"form content type", `a=b`, "application/x-www-form-urlencoded", 415, codeUnsupportedMedia},
		{"no content type", `{}`, "", 415, codeUnsupportedMedia},
	}
	for _, r := range routes {
		for _, b := range bad {
			t.Run(r.method+" "+r.path+"/"+b.name, func(t *testing.T) {
				req := newReq(t, r.method, r.path, []byte(b.body))
				if b.contentType != "" {
					req.Header.Set("Content-Type", b.contentType)
				}
				if r.token != "" {
					req.Header.Set("Authorization", "Bearer "+r.token)
				}
				resp, body := ts.sub(t).send(req)
				if resp.StatusCode != b.status || decodeAPIError(t, body).Error.Code != b.code {
					t.Fatalf("status %d, want %d %s: %s", resp.StatusCode, b.status, b.code, body)
				}
			})
		}
		t.Run(r.method+" "+r.path+"/wrong type", func(t *testing.T) {
			resp, body := ts.sub(t).do(r.method, r.path, r.token, r.wrongType)
			e := decodeAPIError(t, body)
			if resp.StatusCode != 400 || e.Error.Code != market.EMALFORMED || e.Error.Details[r.wrongField] == nil {
				t.Fatalf("want 400 naming %s: %d %s", r.wrongField, resp.StatusCode, body)
			}
		})
		for _, chunked := range []bool{false, true} {
			t.Run(r.method+" "+r.path+"/10 MB body chunked="+strconv.FormatBool(chunked), func(t *testing.T) {
				status, body := sendHuge(t, ts.listen(), r.method, r.path, r.token, 10<<20, chunked)
				if status != 413 || decodeAPIError(t, body).Error.Code != market.ETOOLARGE {
					t.Fatalf("status %d: %.200s", status, body)
				}
			})
		}
	}
	// None of it changed anything: the victim keeps the student role, the
	// offer is unchanged, no extra user exists.
	u, err := ts.db.UserByID(context.Background(), victim.ID)
	if err != nil || strings.Join(u.Roles, ",") != "student" {
		t.Fatalf("victim roles changed: %v %v", u, err)
	}
	var rate, users int
	if err := storetest.Pool(ts.db).QueryRow(context.Background(), `SELECT hourly_rate_cents, (SELECT count(*) FROM users)
		FROM instructor_services WHERE id = $1`, offered).Scan(&rate, &users); err != nil || rate != 5000 || users != 3 {
		t.Fatalf("state changed: rate %d users %d (%v)", rate, users, err)
	}
}

func TestHostileTextIsStoredVerbatimOrRefusedNever500(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	instructor, me := ts.signUp(market.RoleInstructor)
	admin, _ := ts.signUp(market.RoleAdmin)
	for i, s := range hostileStrings {
		// Registration: the name is stored verbatim, or refused with 422
		// when it holds bidi overrides or control characters (names.go);
		// the same text as an email is refused.
		regBody := map[string]string{
			"email": "hostile" + string(rune('a'+i)) + "@example.com", "password": s + "pass1234", "full_name": s, "role": "student",
		}
		if nameProblem(strings.TrimSpace(s)) != "" {
			ts.doJSON("POST", "/api/v1/auth/register", "", regBody, 422, nil)
		} else {
			var reg tokenResponse
			ts.doJSON("POST", "/api/v1/auth/register", "", regBody, 201, &reg)
			if reg.User.FullName != strings.TrimSpace(s) {
				t.Errorf("full_name %q stored as %q", s, reg.User.FullName)
			}
		}
		if resp, body := ts.do("POST", "/api/v1/auth/register", "", map[string]string{
			"email": s, "password": "password1", "full_name": "x", "role": "student",
		}); resp.StatusCode != 422 {
			t.Errorf("email %q: %d %s", s, resp.StatusCode, body)
		}
		// Login with hostile email/password: 401, never 500.
		if resp, body := ts.do("POST", "/api/v1/auth/login", "", map[string]string{"email": s, "password": s}); resp.StatusCode != 401 {
			t.Errorf("login %q: %d %s", s, resp.StatusCode, body)
		}
		// Profile text fields are stored verbatim; as an area the text is
		// refused (areas come from the neighbourhood list), not a 500.
		var prof ownProfile
		ts.doJSON("PUT", "/api/v1/instructors/me", instructor, map[string]any{
			"bio": s, "areas": []string{"Williamsburg"}, "years_experience": 3,
		}, 200, &prof)
		if prof.Bio != strings.TrimSpace(s) || len(prof.Areas) != 1 || prof.Areas[0] != "Williamsburg" {
			t.Errorf("profile stored %q %q for %q", prof.Bio, prof.Areas, s)
		}
		if resp, body := ts.do("PUT", "/api/v1/instructors/me", instructor, map[string]any{
			"bio": s, "areas": []string{s, "Williamsburg"}, "years_experience": 3,
		}); resp.StatusCode != 422 {
			t.Errorf("area %q: %d %s", s, resp.StatusCode, body)
		}
		// As a timezone it is refused, and the profile is unchanged.
		if resp, body := ts.do("PUT", "/api/v1/instructors/me", instructor, map[string]any{"bio": "changed", "timezone": s}); resp.StatusCode != 422 {
			t.Errorf("timezone %q: %d %s", s, resp.StatusCode, body)
		}
		// Query parameters and path ids.
		for _, p := range []string{
			"/api/v1/services?q=", "/api/v1/services?category=", "/api/v1/instructors?q=",
			"/api/v1/instructors?cursor=", "/api/v1/instructors?service_id=", "/api/v1/instructors?limit=",
		} {
			resp, body := ts.do("GET", p+url.QueryEscape(s), "", nil)
			if resp.StatusCode != 200 && resp.StatusCode != 422 {
				t.Errorf("GET %s%q: %d %s", p, s, resp.StatusCode, body)
			}
		}
		resp, body := ts.do("GET", "/api/v1/admin/users?q="+url.QueryEscape(s), admin, nil)
		if resp.StatusCode != 200 {
			t.Errorf("admin q %q: %d %s", s, resp.StatusCode, body)
		}
		resp, _ = ts.do("GET", "/api/v1/instructors/"+url.PathEscape(s), "", nil)
		if resp.StatusCode != 404 {
			t.Errorf("instructor id %q: %d", s, resp.StatusCode)
		}
	}
	var got ownProfile
	ts.doJSON("GET", "/api/v1/instructors/me", instructor, nil, 200, &got)
	if got.Bio != strings.TrimSpace(hostileStrings[len(hostileStrings)-1]) || got.ID != me.ID {
		t.Fatalf("failed writes changed the profile: %+v", got)
	}
	// NUL and invalid UTF-8 cannot be stored in Postgres text: 422, not 500.
	for _, q := range []string{"%00", "a%00b", "%ff%fe"} {
		for _, p := range []string{"/api/v1/services?q=", "/api/v1/instructors?q=", "/api/v1/services?category="} {
			if resp, body := ts.do("GET", p+q, "", nil); resp.StatusCode != 422 {
				t.Errorf("GET %s%s: %d %s", p, q, resp.StatusCode, body)
			}
		}
	}
	if resp, body := ts.do("PUT", "/api/v1/instructors/me", instructor, `{"bio":"a\u0000b"}`); resp.StatusCode != 422 {
		t.Errorf("NUL in bio: %d %s", resp.StatusCode, body)
	}
}

// sendHuge writes a request with a body of size bytes over a raw TCP
// connection, writing the body concurrently (the server may answer 413 and
// close before reading it all; net/http's client would then report only
// the reset), and returns the response's status and body.
func sendHuge(t *testing.T, base, method, path, token string, size int, chunked bool) (int, []byte) {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := conn.SetDeadline(time.Now().Add(30 * time.Second)); err != nil {
		t.Fatal(err)
	}
	head := fmt.Sprintf("%s %s HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n", method, path)
	if token != "" {
		head += "Authorization: Bearer " + token + "\r\n"
	}
	if chunked {
		head += "Transfer-Encoding: chunked\r\n\r\n"
	} else {
		head += fmt.Sprintf("Content-Length: %d\r\n\r\n", size)
	}
	go func() {
		w := bufio.NewWriter(conn)
		w.WriteString(head) //nolint:errcheck // the server may hang up early
		chunk := bytes.Repeat([]byte("a"), 64<<10)
		for sent := 0; sent < size; sent += len(chunk) {
			var err error
			if chunked {
				_, err = fmt.Fprintf(w, "%x\r\n%s\r\n", len(chunk), chunk)
			} else {
				_, err = w.Write(chunk)
			}
			if err != nil {
				return
			}
		}
		if chunked {
			w.WriteString("0\r\n\r\n") //nolint:errcheck
		}
		w.Flush() //nolint:errcheck
	}()
	resp, err := nethttp.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("read response: %v", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body) //nolint:errcheck // a reset after the body is fine
	return resp.StatusCode, body
}
