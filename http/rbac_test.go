package http

import (
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"

	"instainstru/market"
)

// publicRoutes are the routes registered without a permission. Every other
// route must be registered through handle; a new route that is in neither
// fails TestEveryRouteRequiresItsPermissionForEveryRole.
var publicRoutes = []string{
	"GET /health", "GET /ready", "GET /metrics", "GET /openapi.json", "GET /ws",
	"POST /api/v1/auth/register", "POST /api/v1/auth/login", "POST /api/v1/auth/refresh", "POST /api/v1/auth/logout",
	"POST /api/v1/auth/verify-email", "POST /api/v1/auth/password-reset", "POST /api/v1/auth/password-reset/confirm",
	"GET /api/v1/categories", "GET /api/v1/services",
	"GET /api/v1/instructors", "GET /api/v1/instructors/:id", "GET /api/v1/instructors/:id/availability",
	"GET /api/v1/areas", "GET /api/v1/search", "GET /api/v1/search/suggest",
	"POST /api/v1/auth/password-strength", "GET /api/v1/calendar/:token.ics",
}

// allRoles are the callers the table tries: "" is anonymous.
var allRoles = []string{"", market.RoleStudent, market.RoleInstructor, market.RoleSupport, market.RoleAdmin}

// fillParams puts a value into each path parameter: a role name for :role,
// a random UUID (which names nothing) otherwise.
func fillParams(path string) string {
	parts := strings.Split(path, "/")
	for i, p := range parts {
		switch {
		case p == ":role":
			parts[i] = market.RoleStudent
		case strings.HasPrefix(p, ":"):
			parts[i] = uuid.NewString()
		}
	}
	return strings.Join(parts, "/")
}

// TestEveryRouteRequiresItsPermissionForEveryRole is generated from the
// app's route table and the grants in the database: for every registered
// route and every role, anonymous → 401, a role without the route's
// permission → 403 naming it, a role with it → past the check (no 401/403,
// no 5xx). Requests carry no body and random ids, so allowed calls change
// nothing.
func TestEveryRouteRequiresItsPermissionForEveryRole(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	grants, err := ts.db.Grants(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	tokens := map[string]string{}
	for _, role := range allRoles[1:] {
		tokens[role], _ = ts.signUp(role)
	}
	checked := 0
	for _, r := range ts.srv.App().GetRoutes(true) {
		if r.Method == "HEAD" || isStaticAssetRoute(r.Path) {
			continue
		}
		key := r.Method + " " + r.Path
		perm, ok := ts.srv.RoutePermission(r.Method, r.Path)
		if !ok {
			if !slices.Contains(publicRoutes, key) {
				t.Errorf("%s has no permission and is not listed as public: register it with s.handle", key)
			}
			continue
		}
		checked++
		path := fillParams(r.Path)
		for _, role := range allRoles {
			resp, body := ts.do(r.Method, path, tokens[role], nil)
			code := ""
			if resp.StatusCode >= 400 {
				code = decodeAPIError(t, body).Error.Code
			}
			switch {
			case role == "":
				if resp.StatusCode != 401 || code != market.EUNAUTHORIZED {
					t.Errorf("%s anonymous: %d %s, want 401", key, resp.StatusCode, body)
				}
			case !slices.Contains(grants.Roles[role], perm):
				if resp.StatusCode != 403 || code != market.EFORBIDDEN || !strings.Contains(string(body), perm) {
					t.Errorf("%s as %s (lacks %s): %d %s, want 403", key, role, perm, resp.StatusCode, body)
				}
			default:
				if resp.StatusCode == 401 || resp.StatusCode == 403 || resp.StatusCode >= 500 {
					t.Errorf("%s as %s (holds %s): %d %s", key, role, perm, resp.StatusCode, body)
				}
			}
		}
	}
	if checked < 25 {
		t.Fatalf("only %d protected routes checked; the route listing is broken", checked)
	}
}

func TestSupportHoldsNoWritePermission(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	grants, err := ts.db.Grants(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	support := grants.Roles[market.RoleSupport]
	for _, want := range []string{market.PermUsersRead, market.PermBookingsReadAny, market.PermAuditRead, market.PermAnalyticsRead} {
		if !slices.Contains(support, want) {
			t.Errorf("support lacks %s", want)
		}
	}
	// Every route support may call is a read.
	for _, r := range ts.srv.App().GetRoutes(true) {
		perm, ok := ts.srv.RoutePermission(r.Method, r.Path)
		if ok && slices.Contains(support, perm) && r.Method != "GET" && r.Method != "HEAD" &&
			perm != market.PermRealtimeSubscribe {
			t.Errorf("support may %s %s (%s)", r.Method, r.Path, perm)
		}
	}
}

func TestRequiresReadsPermissionsFromTheDatabaseOnEveryRequest(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	ts.signUp(market.RoleAdmin) // someone keeps users:manage when u loses it
	tok, u := ts.signUp(market.RoleStudent)
	ts.doJSON("GET", "/api/v1/admin/users", tok, nil, 403, nil)
	// Granting the role in the database takes effect with the same token.
	if _, err := ts.db.SetUserRoles(t.Context(), u.ID, []string{market.RoleStudent, market.RoleAdmin}); err != nil {
		t.Fatal(err)
	}
	ts.doJSON("GET", "/api/v1/admin/users", tok, nil, 200, nil)
	if _, err := ts.db.SetUserRoles(t.Context(), u.ID, []string{market.RoleStudent}); err != nil {
		t.Fatal(err)
	}
	ts.doJSON("GET", "/api/v1/admin/users", tok, nil, 403, nil)
}

func TestAdminChangesGrantsAndTheyApplyOnTheNextRequest(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	admin, _ := ts.signUp(market.RoleAdmin)
	support, _ := ts.signUp(market.RoleSupport)

	var all permissionsResponse
	ts.doJSON("GET", "/api/v1/admin/permissions", support, nil, 200, &all)
	if len(all.Permissions) < 25 || len(all.Roles) != 4 || !slices.Contains(all.Roles[market.RoleSupport], market.PermUsersRead) {
		t.Fatalf("permissions: %+v", all)
	}
	ts.doJSON("GET", "/api/v1/admin/analytics/bookings", support, nil, 200, nil)

	// Taking analytics:read from support: the same token is refused next request.
	without := slices.DeleteFunc(slices.Clone(all.Roles[market.RoleSupport]), func(p string) bool { return p == market.PermAnalyticsRead })
	var got rolePermissionsResponse
	ts.doJSON("PUT", "/api/v1/admin/roles/support/permissions", admin, map[string]any{"permissions": without}, 200, &got)
	if got.Role != market.RoleSupport || slices.Contains(got.Permissions, market.PermAnalyticsRead) || len(got.Permissions) != len(without) {
		t.Fatalf("put: %+v", got)
	}
	ts.doJSON("GET", "/api/v1/admin/analytics/bookings", support, nil, 403, nil)
	// Support cannot change grants itself.
	ts.doJSON("PUT", "/api/v1/admin/roles/support/permissions", support, map[string]any{"permissions": all.Roles[market.RoleSupport]}, 403, nil)

	// The change is audited with its actor.
	var log auditResponse
	ts.doJSON("GET", "/api/v1/admin/audit?limit=5", support, nil, 200, &log)
	if len(log.Items) == 0 || log.Items[0].Action != "role.permissions.set" || log.Items[0].Details["target"] != "support" || log.Items[0].ActorID == nil {
		t.Fatalf("audit: %+v", log.Items)
	}
}

func TestGrantChangesThatWouldBreakAccessAreRefusedAndWriteNothing(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	admin, adminUser := ts.signUp(market.RoleAdmin)
	before, err := ts.db.Grants(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	adminPerms := before.Roles[market.RoleAdmin]
	drop := func(p string) []string {
		return slices.DeleteFunc(slices.Clone(adminPerms), func(x string) bool { return x == p })
	}
	tests := []struct {
		name, method, path string
		body               any
		status             int
		field              string
	}{
		{"unknown permission", "PUT", "/api/v1/admin/roles/admin/permissions",
			map[string]any{"permissions": append(slices.Clone(adminPerms), "bookings:teleport")}, 422, "permissions"},
		{"nobody left to manage users", "PUT", "/api/v1/admin/roles/admin/permissions",
			map[string]any{"permissions": drop(market.PermUsersManage)}, 422, "permissions"},
		{"nobody left to manage grants", "PUT", "/api/v1/admin/roles/admin/permissions",
			map[string]any{"permissions": drop(market.PermRolesManage)}, 422, "permissions"},
		{"unknown role", "PUT", "/api/v1/admin/roles/wizard/permissions",
			map[string]any{"permissions": []string{}}, 404, ""},
		{"last admin demotes self", "PATCH", "/api/v1/admin/users/" + adminUser.ID,
			map[string]any{"roles": []string{market.RoleStudent}}, 422, "roles"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := ts.sub(t).doJSON(tt.method, tt.path, admin, tt.body, tt.status, nil)
			if tt.field != "" {
				if e := decodeAPIError(t, body); e.Error.Details[tt.field] == nil {
					t.Errorf("details %v lack %s", e.Error.Details, tt.field)
				}
			}
		})
	}
	after, err := ts.db.Grants(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for role, perms := range before.Roles {
		if !slices.Equal(after.Roles[role], perms) {
			t.Errorf("%s grants changed: %v → %v", role, perms, after.Roles[role])
		}
	}
	ts.doJSON("GET", "/api/v1/admin/users", admin, nil, 200, nil)
}

func TestLastAdminCannotBeDemotedOrDeactivatedByAnother(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	_, first := ts.signUp(market.RoleAdmin)
	second, secondUser := ts.signUp(market.RoleAdmin)
	// Two admins: the second may demote the first.
	ts.doJSON("PATCH", "/api/v1/admin/users/"+first.ID, second, map[string]any{"roles": []string{market.RoleStudent}}, 200, nil)
	// Now the second is the last; the store refuses to remove them even
	// when the request does not come from themselves.
	if _, err := ts.db.SetUserRoles(t.Context(), secondUser.ID, []string{market.RoleSupport}); market.ErrorCode(err) != market.EVALIDATION {
		t.Fatalf("demote last admin: %v", err)
	}
	if err := ts.db.DeleteUser(t.Context(), secondUser.ID); market.ErrorCode(err) != market.EVALIDATION {
		t.Fatalf("deactivate last admin: %v", err)
	}
	ts.doJSON("GET", "/api/v1/admin/users", second, nil, 200, nil)
}
