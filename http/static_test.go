package http

import (
	nethttp "net/http"
	"path"
	"regexp"
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
		{"/", "text/html", `<script type="module" src="/main.js"></script>`},
		{"/index.html", "text/html", `id="toasts"`},
		{"/main.js", "text/javascript", "live.connect()"},
		{"/live.js", "text/javascript", "export class Live"},
		{"/views/admin.js", "text/javascript", "export async function viewAdmin"},
		{"/vendor/uplot/uPlot.iife.min.js", "text/javascript", "uPlot"},
		{"/admin.css", "text/css", ".admin-table"},
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
	first, _ := ts.do("GET", "/main.js", "", nil)
	req, err := nethttp.NewRequest("GET", "/main.js", nil)
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
		{"the embed folder is not browsable", "/static/main.js", 404, market.ENOTFOUND},
		{"vendored files not embedded are not served", "/vendor/uplot/LICENSE", 404, market.ENOTFOUND},
		{"a views folder is not browsable", "/views/", 404, market.ENOTFOUND},
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

// moduleImport matches the specifier of a static import/export … from '…'
// or a dynamic import('…') in the page's modules.
var moduleImport = regexp.MustCompile(`(?:\}\s*from\s*|\bimport\s*\(\s*)'([./][^']*)'`)

// Every import in every served module names a module the server serves as
// JavaScript: a browser refuses a module with another type, and a missing
// one breaks the whole page.
func TestStaticUIModuleImportsResolve(t *testing.T) {
	ts := newTestServer(t)
	files, err := staticFileNames()
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, f := range files {
		if path.Ext(f) != ".js" || strings.HasPrefix(f, "static/vendor/") {
			continue
		}
		body, err := staticFiles.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		from := strings.TrimPrefix(f, "static")
		for _, m := range moduleImport.FindAllStringSubmatch(string(body), -1) {
			target := path.Join(path.Dir(from), m[1])
			resp, _ := ts.do("GET", target, "", nil)
			if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/javascript") {
				t.Errorf("%s imports %q: GET %s is %d %q", from, m[1], target, resp.StatusCode, resp.Header.Get("Content-Type"))
			}
			checked++
		}
	}
	if checked < 20 {
		t.Fatalf("only %d imports checked; the pattern no longer matches the modules", checked)
	}
}

// The page loads one entry module; the admin console and uPlot are not part
// of it: main.js reaches the console only through import(), and uPlot only
// through the console.
func TestStaticUILoadsAdminAndChartsOnDemand(t *testing.T) {
	ts := newTestServer(t)
	_, index := ts.do("GET", "/", "", nil)
	for _, lazy := range []string{"admin", "uPlot"} {
		if strings.Contains(string(index), lazy) {
			t.Errorf("index.html mentions %q: it must load on demand", lazy)
		}
	}
	if n := strings.Count(string(index), "<script"); n != 1 || !strings.Contains(string(index), `type="module"`) {
		t.Errorf("index.html has %d scripts, want the one entry module", n)
	}
	files, err := staticFileNames()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if path.Ext(f) != ".js" || f == "static/views/admin.js" || strings.HasPrefix(f, "static/vendor/") {
			continue
		}
		body, _ := staticFiles.ReadFile(f)
		for _, m := range moduleImport.FindAllStringSubmatch(string(body), -1) {
			static := !strings.Contains(m[0], "(")
			if static && strings.Contains(m[1], "admin") {
				t.Errorf("%s imports %s statically; the console must come through import()", f, m[1])
			}
		}
		if strings.Contains(string(body), "uPlot.iife") {
			t.Errorf("%s loads uPlot; only views/admin.js may", f)
		}
	}
	_, admin := ts.do("GET", "/views/admin.js", "", nil)
	if !strings.Contains(string(admin), "/vendor/uplot/uPlot.iife.min.js") {
		t.Error("views/admin.js does not load uPlot")
	}
}
