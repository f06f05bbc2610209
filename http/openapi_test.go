package http

import (
	"encoding/json"
	"path"
	"sort"
	"strings"
	"testing"
)

// isStaticAssetRoute reports the web UI's routes ("/", "/app.js"…), which
// are files, not API operations.
func isStaticAssetRoute(p string) bool {
	if p == "/" {
		return true
	}
	ext := path.Ext(p)
	return ext != "" && ext != ".json"
}

// openAPIDoc fetches /openapi.json through the app.
func openAPIDoc(t *testing.T, ts *testServer) map[string]any {
	t.Helper()
	var doc map[string]any
	ts.doJSON("GET", "/openapi.json", "", nil, 200, &doc)
	return doc
}

func TestOpenAPIDocumentsEveryRegisteredRoute(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	doc := openAPIDoc(t, ts)
	if doc["openapi"] != "3.0.3" {
		t.Fatalf("openapi version %v", doc["openapi"])
	}
	paths := doc["paths"].(map[string]any)
	checked := 0
	for _, r := range ts.srv.App().GetRoutes(true) {
		if r.Method == "HEAD" || r.Method == "USE" || isStaticAssetRoute(r.Path) {
			continue
		}
		checked++
		p := openAPIPath(r.Path)
		item, ok := paths[p].(map[string]any)
		if !ok {
			t.Errorf("route %s %s: path %s missing from /openapi.json", r.Method, r.Path, p)
			continue
		}
		if _, ok := item[strings.ToLower(r.Method)]; !ok {
			t.Errorf("route %s %s: method missing from /openapi.json", r.Method, r.Path)
		}
	}
	if checked < 20 {
		t.Fatalf("only %d routes checked; route listing is broken", checked)
	}
}

func TestOpenAPIDocumentsOnlyRegisteredRoutes(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	registered := map[string]bool{}
	for _, r := range ts.srv.App().GetRoutes(true) {
		registered[r.Method+" "+openAPIPath(r.Path)] = true
	}
	var missing []string
	for _, op := range apiOps() {
		if k := op.Method + " " + openAPIPath(op.Path); !registered[k] {
			missing = append(missing, k)
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Fatalf("documented but not registered: %v", missing)
	}
}

func TestOpenAPIReferencesResolveAndCoreShapesMatchTheSpec(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	doc := openAPIDoc(t, ts)
	schemas := doc["components"].(map[string]any)["schemas"].(map[string]any)
	raw, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	// Every $ref names a defined schema.
	for _, part := range strings.Split(string(raw), `"$ref":"#/components/schemas/`)[1:] {
		name := part[:strings.IndexByte(part, '"')]
		if _, ok := schemas[name]; !ok {
			t.Errorf("dangling $ref %s", name)
		}
	}
	props := func(name string) []string {
		s, ok := schemas[name].(map[string]any)
		if !ok {
			t.Fatalf("schema %s missing", name)
		}
		var keys []string
		for k := range s["properties"].(map[string]any) {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		return keys
	}
	want := map[string]string{
		"TokenResponse":      "access_token expires_in refresh_token token_type user",
		"UserView":           "email email_verified full_name id roles",
		"InstructorDetail":   "areas bio cancellation_notice_hours full_name id online photo_url services timezone",
		"InstructorSummary":  "areas bio full_name id online photo_url services",
		"InstructorList":     "items next_cursor",
		"OfferedServiceView": "durations hourly_rate_cents id main name service_id",
		"RegisterRequest":    "email full_name password role",
	}
	for name, keys := range want {
		if got := strings.Join(props(name), " "); got != keys {
			t.Errorf("%s properties = %q, want %q", name, got, keys)
		}
	}
	reg := schemas["RegisterRequest"].(map[string]any)["properties"].(map[string]any)["role"].(map[string]any)
	if enum, _ := reg["enum"].([]any); len(enum) != 2 {
		t.Errorf("register role enum = %v, want student|instructor", reg["enum"])
	}
	me := doc["paths"].(map[string]any)["/api/v1/auth/me"].(map[string]any)["get"].(map[string]any)
	if me["security"] == nil || me["responses"].(map[string]any)["401"] == nil {
		t.Errorf("/auth/me is not documented as authenticated: %v", me)
	}
}

func TestOpenAPIPathConvertsFiberParams(t *testing.T) {
	t.Parallel()
	tests := map[string]string{
		"/api/v1/instructors/:id":              "/api/v1/instructors/{id}",
		"/api/v1/instructors/:id/availability": "/api/v1/instructors/{id}/availability",
		"/api/v1/bookings":                     "/api/v1/bookings",
		"/a/:x/b/:y_z":                         "/a/{x}/b/{y_z}",
	}
	for in, want := range tests {
		if got := openAPIPath(in); got != want {
			t.Errorf("openAPIPath(%q) = %q, want %q", in, got, want)
		}
	}
}
