package http

import (
	nethttp "net/http"
	"strings"
	"testing"

	"instainstru/market"
)

func TestStaticUIServesEmbeddedFilesWithTypesAndSecurityHeaders(t *testing.T) {
	ts := newTestServer(t)
	tests := []struct {
		path     string
		wantType string
		wantBody string
	}{
		{"/", "text/html", `<script src="/app.js" defer></script>`},
		{"/index.html", "text/html", `id="toasts"`},
		{"/app.js", "text/javascript", "live.connect()"},
		{"/style.css", "text/css", ".slot"},
		{"/favicon.svg", "image/svg+xml", "<svg"},
	}
	for _, tc := range tests {
		t.Run(tc.path, func(t *testing.T) {
			resp, body := ts.do("GET", tc.path, "", nil)
			if resp.StatusCode != 200 {
				t.Fatalf("status %d, want 200", resp.StatusCode)
			}
			if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, tc.wantType) {
				t.Errorf("Content-Type %q, want %s", ct, tc.wantType)
			}
			if !strings.Contains(string(body), tc.wantBody) {
				t.Errorf("body lacks %q", tc.wantBody)
			}
			csp := resp.Header.Get("Content-Security-Policy")
			for _, want := range []string{"default-src 'self'", "connect-src 'self'", "frame-ancestors 'none'"} {
				if !strings.Contains(csp, want) {
					t.Errorf("CSP %q lacks %q", csp, want)
				}
			}
			if cc := resp.Header.Get("Cache-Control"); cc != "no-cache" {
				t.Errorf("Cache-Control %q, want no-cache (unversioned files must revalidate)", cc)
			}
			if resp.Header.Get("ETag") == "" || resp.Header.Get("X-Content-Type-Options") != "nosniff" {
				t.Errorf("missing ETag or nosniff: %v", resp.Header)
			}
		})
	}
}

func TestStaticUIAnswersNotModifiedForCurrentETag(t *testing.T) {
	ts := newTestServer(t)
	first, _ := ts.do("GET", "/app.js", "", nil)
	req, err := nethttp.NewRequest("GET", "/app.js", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("If-None-Match", first.Header.Get("ETag"))
	resp, body := ts.send(req)
	if resp.StatusCode != nethttp.StatusNotModified || len(body) != 0 {
		t.Fatalf("status %d with %d bytes, want 304 and no body", resp.StatusCode, len(body))
	}
}

// The UI registers exact routes only: API, ops and unknown paths keep their
// own JSON answers and never fall through to the HTML page.
func TestStaticUIDoesNotShadowOtherRoutes(t *testing.T) {
	ts := newTestServer(t)
	tests := []struct {
		name       string
		path       string
		wantStatus int
		wantCode   string // error code when the answer is an error
	}{
		{"unknown API path is a JSON 404", "/api/v1/no-such-thing", 404, market.ENOTFOUND},
		{"unknown API path under a real prefix is a JSON 404", "/api/v1/instructors/x/y/z", 404, market.ENOTFOUND},
		{"files not listed are not served", "/webtest/e2e.mjs", 404, market.ENOTFOUND},
		{"the embed folder is not browsable", "/static/app.js", 404, market.ENOTFOUND},
		{"health stays the health check", "/health", 200, ""},
		{"the OpenAPI document stays JSON", "/openapi.json", 200, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := ts.do("GET", tc.path, "", nil)
			if resp.StatusCode != tc.wantStatus {
				t.Fatalf("status %d, want %d; body %.200s", resp.StatusCode, tc.wantStatus, body)
			}
			if ct := resp.Header.Get("Content-Type"); strings.HasPrefix(ct, "text/html") {
				t.Fatalf("Content-Type %q: the UI shadows %s", ct, tc.path)
			}
			if tc.wantCode != "" {
				if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
					t.Errorf("Content-Type %q, want application/json", ct)
				}
				if e := decodeAPIError(t, body); e.Error.Code != tc.wantCode {
					t.Errorf("error code %q, want %q", e.Error.Code, tc.wantCode)
				}
			}
		})
	}
}
