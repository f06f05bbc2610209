package http

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	nethttp "net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
	"golang.org/x/crypto/bcrypt"

	"instainstru/market"
	hubredis "instainstru/redis"
	"instainstru/store"
	"instainstru/store/storetest"
)

// testJWTSecret signs every token of test servers.
var testJWTSecret = []byte("test-secret-0123456789abcdef0123456789")

// testServer is a Server over a fresh, migrated Postgres database, driven
// through real HTTP requests (app.Test). Reusable by every http test.
type testServer struct {
	t   testing.TB
	srv *Server
	db  *store.DB
	cfg Config
	log *syncBuffer // everything the server logged (JSON lines)

	seq  *atomic.Int64 // shared by sub() copies: unique emails
	base string        // http://127.0.0.1:port once listen() ran
}

// sub returns ts bound to t (a subtest), so helper failures stop the right
// test. It shares the server and database.
func (ts *testServer) sub(t testing.TB) *testServer {
	c := *ts
	c.t = t
	return &c
}

// listen serves the app on a real 127.0.0.1 listener (for what app.Test
// cannot show, such as fasthttp's body limit) and returns its base URL.
func (ts *testServer) listen() string {
	ts.t.Helper()
	if ts.base != "" {
		return ts.base
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		ts.t.Fatal(err)
	}
	go ts.srv.Serve(ln) //nolint:errcheck // ends at Shutdown in cleanup
	ts.base = "http://" + ln.Addr().String()
	return ts.base
}

// testOption adjusts the config or dependencies before the server is built.
type testOption func(*Config, *Deps)

// newTestServer builds a server with test defaults: bcrypt.MinCost, a fixed
// JWT secret, generous rate limits (tests of the limits pass their own), a
// private Prometheus registry and logs captured in ts.log.
func newTestServer(t testing.TB, opts ...testOption) *testServer {
	t.Helper()
	db := storetest.NewDB(t)
	// Race tests (200 bookings of one slot) run under -race on a loaded
	// machine: a generous write budget keeps them about correctness. The
	// shedding tests set their own.
	db.SetAdmission(store.AdmissionConfig{MaxWait: 10 * time.Second})
	logs := &syncBuffer{}
	cfg := Config{
		Env:                              "test",
		NodeID:                           "test-node",
		JWTSecret:                        testJWTSecret,
		BcryptCost:                       bcrypt.MinCost,
		RegisterPerIPPerMinute:           100000,
		LoginPerIPPerMinute:              100000,
		LoginFailuresPerAccountPerMinute: 100000,
	}
	deps := Deps{
		DB:       db,
		Search:   store.NewSearcher(db),
		Registry: prometheus.NewRegistry(),
		Logger:   slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	for _, o := range opts {
		o(&cfg, &deps)
	}
	srv := New(cfg, deps)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5e9)
		defer cancel()
		_ = srv.Shutdown(ctx) //nolint:errcheck // test teardown
	})
	return &testServer{t: t, srv: srv, db: db, cfg: srv.cfg, log: logs, seq: new(atomic.Int64)}
}

// do sends one request through the real Fiber stack. body may be nil (no
// body), a string or []byte (sent verbatim as JSON), or any value (encoded
// as JSON). token, when non-empty, is sent as a Bearer token. It returns the
// response (body already read) and its body.
func (ts *testServer) do(method, path, token string, body any) (*nethttp.Response, []byte) {
	ts.t.Helper()
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		r = strings.NewReader(b)
	case []byte:
		r = bytes.NewReader(b)
	default:
		enc, err := json.Marshal(b)
		if err != nil {
			ts.t.Fatalf("encode body: %v", err)
		}
		r = bytes.NewReader(enc)
	}
	req, err := nethttp.NewRequest(method, path, r)
	if err != nil {
		ts.t.Fatalf("new request: %v", err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return ts.send(req)
}

// send runs a prepared request (custom headers) through the app.
func (ts *testServer) send(req *nethttp.Request) (*nethttp.Response, []byte) {
	ts.t.Helper()
	resp, err := ts.srv.App().Test(req, -1)
	if err != nil {
		ts.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		ts.t.Fatalf("read body: %v", err)
	}
	return resp, data
}

// doJSON is do that also checks the status and decodes the body into out
// (when out is not nil).
func (ts *testServer) doJSON(method, path, token string, body any, wantStatus int, out any) []byte {
	ts.t.Helper()
	resp, data := ts.do(method, path, token, body)
	if resp.StatusCode != wantStatus {
		ts.t.Fatalf("%s %s: status %d, want %d; body %s", method, path, resp.StatusCode, wantStatus, data)
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			ts.t.Fatalf("%s %s: decode %s: %v", method, path, data, err)
		}
	}
	return data
}

// testPassword is the password of every account signUp creates.
const testPassword = "TestPassword123!"

// signUp creates a fresh account of role (student, instructor or admin) and
// returns its access token and user (roles and permissions filled). Students
// and instructors go through POST /auth/register; admins cannot
// self-register, so they are created in the database and then log in.
func (ts *testServer) signUp(role string) (string, market.User) {
	ts.t.Helper()
	tok, _, u := ts.signUpFull(role)
	return tok, u
}

// signUpFull is signUp that also returns the refresh token.
func (ts *testServer) signUpFull(role string) (access, refresh string, user market.User) {
	ts.t.Helper()
	n := ts.seq.Add(1)
	email := fmt.Sprintf("%s%d-%s@example.com", role, n, storetest.RandomSuffix())
	name := fmt.Sprintf("Tess %s %d", role, n) // not in testPassword: a password may not contain the name
	var tr tokenResponse
	if role == market.RoleAdmin || role == market.RoleSupport {
		hash, err := bcrypt.GenerateFromPassword([]byte(testPassword), bcrypt.MinCost)
		if err != nil {
			ts.t.Fatal(err)
		}
		if _, err := ts.db.CreateUser(context.Background(), market.NewUser{
			Email: email, PasswordHash: string(hash), FullName: name, Role: role,
		}); err != nil {
			ts.t.Fatalf("create admin: %v", err)
		}
		ts.doJSON("POST", "/api/v1/auth/login", "", map[string]string{"email": email, "password": testPassword}, 200, &tr)
	} else {
		ts.doJSON("POST", "/api/v1/auth/register", "", map[string]string{
			"email": email, "password": testPassword, "full_name": name, "role": role,
		}, 201, &tr)
	}
	// Most tests book: their accounts have opened the verification link
	// (signUpUnverified makes one that has not).
	ts.setVerified(tr.User.ID, true)
	u, err := ts.db.UserByID(context.Background(), tr.User.ID)
	if err != nil {
		ts.t.Fatalf("load signed-up user: %v", err)
	}
	return tr.AccessToken, tr.RefreshToken, *u
}

// setVerified marks the account's email address verified, as opening the
// verification link does (unverified instructors are neither listed nor
// bookable), or, with false, not verified.
func (ts *testServer) setVerified(userID string, verified bool) {
	ts.t.Helper()
	if _, err := storetest.Pool(ts.db).Exec(context.Background(),
		`UPDATE users SET email_verified_at = CASE WHEN $2 THEN now() END WHERE id = $1`, userID, verified); err != nil {
		ts.t.Fatalf("set email verified of %s: %v", userID, err)
	}
}

// apiError is the SPEC's error body, decoded.
type apiError struct {
	Error struct {
		Code      string         `json:"code"`
		Message   string         `json:"message"`
		Details   map[string]any `json:"details"`
		RequestID string         `json:"request_id"`
	} `json:"error"`
}

// decodeError decodes an error body and fails if it lacks code or request id.
func decodeAPIError(t testing.TB, body []byte) apiError {
	t.Helper()
	var e apiError
	if err := json.Unmarshal(body, &e); err != nil {
		t.Fatalf("error body is not JSON: %s", body)
	}
	if e.Error.Code == "" || e.Error.RequestID == "" || e.Error.Details == nil {
		t.Fatalf("error body lacks code, details or request_id: %s", body)
	}
	return e
}

// syncBuffer is a goroutine-safe log sink.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// newTestRedis connects a go-redis client to url, closed in cleanup.
func newTestRedis(t testing.TB, url string) redis.UniversalClient {
	t.Helper()
	opt, err := redis.ParseURL(url)
	if err != nil {
		t.Fatalf("redis url: %v", err)
	}
	c := redis.NewClient(opt)
	t.Cleanup(func() { _ = c.Close() }) //nolint:errcheck // test teardown
	return c
}

// withRedis wires rdb into d as cmd/hubd does (withRedis in
// cmd/hubd/main.go): tickets under prefix, the limiters' storage, the
// /ready ping and the pool collector.
func withRedis(d *Deps, rdb redis.UniversalClient, prefix string) {
	d.Tickets = hubredis.NewTickets(rdb, prefix)
	d.Limits = hubredis.NewLimiterStorage(rdb)
	d.Redis = hubredis.NewPinger(rdb)
	d.Collectors = append(d.Collectors, hubredis.NewPoolCollector(rdb))
}

// newReq builds a request for ts.send; body (if not nil) is sent verbatim.
func newReq(t testing.TB, method, path string, body []byte) *nethttp.Request {
	t.Helper()
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, err := nethttp.NewRequest(method, path, r)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

// mustJSON decodes data into out or fails the test.
func mustJSON(t testing.TB, data []byte, out any) {
	t.Helper()
	if err := json.Unmarshal(data, out); err != nil {
		t.Fatalf("decode %s: %v", data, err)
	}
}

// newCatalogService inserts a category and a service in it (names made
// unique) and returns the service id. The catalog is not migrated data, so
// tests that need one create it.
func (ts *testServer) newCatalogService(name string) string {
	ts.t.Helper()
	suffix := storetest.RandomSuffix()
	var id string
	err := storetest.Pool(ts.db).QueryRow(context.Background(), `
		WITH c AS (INSERT INTO categories (slug, name) VALUES ($1, $2) RETURNING id)
		INSERT INTO services (category_id, slug, name, description)
		SELECT c.id, $3, $4::text, 'lessons of ' || $4::text FROM c RETURNING id`,
		"cat-"+suffix, "Category "+suffix, "svc-"+suffix, name).Scan(&id)
	if err != nil {
		ts.t.Fatalf("insert catalog service: %v", err)
	}
	return id
}

// offerService makes the instructor behind token offer serviceID and
// returns the offered service's id (instructor_service_id).
func (ts *testServer) offerService(token, serviceID string, rateCents int, durations ...int) string {
	ts.t.Helper()
	if len(durations) == 0 {
		durations = []int{30, 60}
	}
	var out market.InstructorService
	ts.doJSON("POST", "/api/v1/instructors/me/services", token, map[string]any{
		"service_id": serviceID, "hourly_rate_cents": rateCents, "durations": durations,
	}, 201, &out)
	return out.ID
}

// protectedRoute is a route that needs a token, and the roles refused
// with 403.
type protectedRoute struct {
	method, path string
	body         any
	forbidden    []string // roles that get 403
}

// assertProtected checks that every route refuses a request without a
// token (401, error JSON) and each forbidden role (403). Reusable for any
// area's routes.
func assertProtected(t *testing.T, ts *testServer, routes []protectedRoute) {
	t.Helper()
	tokens := map[string]string{}
	for _, role := range []string{market.RoleStudent, market.RoleInstructor, market.RoleAdmin} {
		tokens[role], _ = ts.signUp(role)
	}
	for _, r := range routes {
		t.Run(r.method+" "+r.path, func(t *testing.T) {
			ts := ts.sub(t)
			resp, body := ts.do(r.method, r.path, "", r.body)
			if resp.StatusCode != 401 || decodeAPIError(t, body).Error.Code != market.EUNAUTHORIZED {
				t.Errorf("no token: %d %s", resp.StatusCode, body)
			}
			for _, role := range r.forbidden {
				resp, body := ts.do(r.method, r.path, tokens[role], r.body)
				if resp.StatusCode != 403 || decodeAPIError(t, body).Error.Code != market.EFORBIDDEN {
					t.Errorf("%s: %d %s", role, resp.StatusCode, body)
				}
			}
		})
	}
}

// unreachableDB is a store on url, where nothing answers: every query
// fails to connect.
func unreachableDB(t testing.TB, url string) *store.DB {
	t.Helper()
	db, err := store.New(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	return db
}
