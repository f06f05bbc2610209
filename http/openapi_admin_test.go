package http

import (
	"strings"
	"testing"
)

// TestOpenAPIEveryOperationNamesItsRoutePermission: x-permission is the
// permission the route was registered with, and absent exactly on public
// routes.
func TestOpenAPIEveryOperationNamesItsRoutePermission(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	paths := openAPIDoc(t, ts)["paths"].(map[string]any)
	withPerm := 0
	for _, r := range ts.srv.App().GetRoutes(true) {
		if r.Method == "HEAD" || isStaticAssetRoute(r.Path) {
			continue
		}
		op, ok := paths[openAPIPath(r.Path)].(map[string]any)[strings.ToLower(r.Method)].(map[string]any)
		if !ok {
			t.Errorf("%s %s undocumented", r.Method, r.Path)
			continue
		}
		got, has := op["x-permission"]
		want, protected := ts.srv.RoutePermission(r.Method, r.Path)
		switch {
		case protected && got != want:
			t.Errorf("%s %s: x-permission %v, want %s", r.Method, r.Path, got, want)
		case !protected && has:
			t.Errorf("%s %s is public but documents x-permission %v", r.Method, r.Path, got)
		case protected:
			withPerm++
			if op["responses"].(map[string]any)["403"] == nil {
				t.Errorf("%s %s: no 403 documented", r.Method, r.Path)
			}
		}
	}
	if withPerm < 25 {
		t.Fatalf("only %d operations with a permission", withPerm)
	}
}
