package http

import (
	"testing"

	"github.com/google/uuid"

	"instainstru/market"
)

// TestProtectedRoutesRefuseAnonymousAndWrongRoles covers the routes of
// auth, instructor self-service and admin; other areas add their own
// tables through assertProtected.
func TestProtectedRoutesRefuseAnonymousAndWrongRoles(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	id := uuid.NewString()
	notInstructor := []string{market.RoleStudent, market.RoleAdmin}
	notAdmin := []string{market.RoleStudent, market.RoleInstructor}
	assertProtected(t, ts, []protectedRoute{
		{method: "GET", path: "/api/v1/auth/me"},
		{method: "GET", path: "/api/v1/instructors/me", forbidden: notInstructor},
		{method: "PUT", path: "/api/v1/instructors/me", body: map[string]any{"bio": "x"}, forbidden: notInstructor},
		{method: "POST", path: "/api/v1/instructors/me/services",
			body: map[string]any{"service_id": id, "hourly_rate_cents": 5000, "durations": []int{60}}, forbidden: notInstructor},
		{method: "PATCH", path: "/api/v1/instructors/me/services/" + id, body: map[string]any{"hourly_rate_cents": 5000}, forbidden: notInstructor},
		{method: "DELETE", path: "/api/v1/instructors/me/services/" + id, forbidden: notInstructor},
		{method: "GET", path: "/api/v1/admin/users", forbidden: notAdmin},
		{method: "PATCH", path: "/api/v1/admin/users/" + id, body: map[string]any{"roles": []string{"student"}}, forbidden: notAdmin},
		{method: "DELETE", path: "/api/v1/admin/users/" + id, forbidden: notAdmin},
		{method: "GET", path: "/api/v1/me/export"},
		{method: "DELETE", path: "/api/v1/me", body: map[string]any{"password": "x"}},
		{method: "GET", path: "/api/v1/admin/audit", forbidden: notAdmin},
	})
}

func TestRequiresReadsPermissionsFromTheDatabaseOnEveryRequest(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
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
