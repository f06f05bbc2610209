package http

import (
	"net/url"
	"slices"
	"testing"

	"instainstru/market"
	"instainstru/store/storetest"
)

func TestAdminListsUsersInPages(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	admin, _ := ts.signUp(market.RoleAdmin)
	for range 6 {
		ts.signUp(market.RoleStudent)
	}
	seen := map[string]bool{}
	cursor := ""
	for pages := 0; pages < 10; pages++ {
		path := "/api/v1/admin/users?limit=3"
		if cursor != "" {
			path += "&cursor=" + url.QueryEscape(cursor)
		}
		var page userListResponse
		ts.doJSON("GET", path, admin, nil, 200, &page)
		for _, u := range page.Items {
			if seen[u.ID] {
				t.Fatalf("user %s listed twice", u.ID)
			}
			seen[u.ID] = true
		}
		if page.NextCursor == nil {
			break
		}
		cursor = *page.NextCursor
	}
	if len(seen) != 7 {
		t.Fatalf("listed %d users, want 7", len(seen))
	}
	var filtered userListResponse
	ts.doJSON("GET", "/api/v1/admin/users?q=ADMIN", admin, nil, 200, &filtered)
	if len(filtered.Items) != 1 || !slices.Contains(filtered.Items[0].Roles, "admin") {
		t.Fatalf("q filter: %+v", filtered)
	}
}

func TestAdminChangesRolesAndSoftDeletesUsers(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	admin, adminUser := ts.signUp(market.RoleAdmin)
	access, refresh, student := ts.signUpFull(market.RoleStudent)

	// Granting instructor creates a public profile.
	var got adminUserView
	ts.doJSON("PATCH", "/api/v1/admin/users/"+student.ID, admin, map[string]any{"roles": []string{"student", "instructor"}}, 200, &got)
	if !slices.Equal(got.Roles, []string{"instructor", "student"}) || !slices.Contains(got.Permissions, market.PermProfileManage) {
		t.Fatalf("roles %+v", got)
	}
	ts.doJSON("GET", "/api/v1/instructors/"+student.ID, "", nil, 200, nil)
	ts.doJSON("GET", "/api/v1/instructors/me", access, nil, 200, nil)

	tests := []struct {
		name   string
		id     string
		body   any
		status int
	}{
		{"unknown role", student.ID, map[string]any{"roles": []string{"root"}}, 422},
		{"no roles", student.ID, map[string]any{"roles": []string{}}, 422},
		{"duplicate roles", student.ID, map[string]any{"roles": []string{"student", "student"}}, 422},
		{"own admin role", adminUser.ID, map[string]any{"roles": []string{"student"}}, 422},
		{"unknown user", "00000000-0000-4000-8000-000000000000", map[string]any{"roles": []string{"student"}}, 404},
		{"not a uuid", "42", map[string]any{"roles": []string{"student"}}, 404},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ts.sub(t).doJSON("PATCH", "/api/v1/admin/users/"+tc.id, admin, tc.body, tc.status, nil)
		})
	}

	// Deleting: the user's access and refresh tokens stop working, and they
	// vanish from listings.
	ts.doJSON("DELETE", "/api/v1/admin/users/"+adminUser.ID, admin, nil, 422, nil)
	ts.doJSON("DELETE", "/api/v1/admin/users/"+student.ID, admin, nil, 204, nil)
	ts.doJSON("DELETE", "/api/v1/admin/users/"+student.ID, admin, nil, 404, nil)
	ts.doJSON("GET", "/api/v1/auth/me", access, nil, 401, nil)
	ts.doJSON("POST", "/api/v1/auth/refresh", "", map[string]string{"refresh_token": refresh}, 401, nil)
	ts.doJSON("POST", "/api/v1/auth/login", "", map[string]string{"email": student.Email, "password": testPassword}, 401, nil)
	ts.doJSON("GET", "/api/v1/instructors/"+student.ID, "", nil, 404, nil)
	var list userListResponse
	ts.doJSON("GET", "/api/v1/admin/users?q="+url.QueryEscape(student.Email), admin, nil, 200, &list)
	if len(list.Items) != 0 {
		t.Fatalf("deleted user listed: %+v", list)
	}
	var revoked int
	if err := storetest.Pool(ts.db).QueryRow(t.Context(), `SELECT count(*) FROM refresh_tokens WHERE user_id = $1 AND revoked_at IS NULL`,
		student.ID).Scan(&revoked); err != nil || revoked != 0 {
		t.Fatalf("live refresh tokens after delete: %d (%v)", revoked, err)
	}
}
