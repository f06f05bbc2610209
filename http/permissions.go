package http

import (
	"strings"

	"github.com/gofiber/fiber/v2"

	"instainstru/market"
)

// handle registers a route that needs perm: s.requires(perm) runs before
// handlers, and the permission is recorded in s.routePerms, which the
// OpenAPI document ("x-permission") and the RBAC test read. Registering
// every non-public route through here keeps the three from drifting.
func (s *Server) handle(r fiber.Router, method, path, perm string, handlers ...fiber.Handler) {
	if perm == "" {
		panic("http: route " + method + " " + path + " registered through handle without a permission")
	}
	full := path
	if g, ok := r.(*fiber.Group); ok {
		full = strings.TrimRight(g.Prefix, "/") + path
	}
	key := method + " " + full
	if _, dup := s.routePerms[key]; dup {
		panic("http: route " + key + " registered twice")
	}
	s.routePerms[key] = perm
	hs := append([]fiber.Handler{s.requires(perm)}, handlers...)
	if method == fiber.MethodGet {
		r.Get(path, hs...) // Get also answers HEAD
		return
	}
	r.Add(method, path, hs...)
}

// RoutePermission returns the permission a route (method and Fiber path
// template, e.g. "GET", "/api/v1/bookings/:id") requires, and false for
// public routes.
func (s *Server) RoutePermission(method, path string) (string, bool) {
	p, ok := s.routePerms[method+" "+path]
	return p, ok
}

// adminAccessRoutes: the access model (grants). The audit trail is in privacy.go.
func (s *Server) adminAccessRoutes(r fiber.Router) {
	s.handle(r, "GET", "/admin/permissions", market.PermRolesRead, s.getPermissions)
	s.handle(r, "PUT", "/admin/roles/:role/permissions", market.PermRolesManage, s.putRolePermissions)
}

type permissionsResponse struct {
	Roles        map[string][]string `json:"roles"`
	Permissions  []string            `json:"permissions"`
	Descriptions map[string]string   `json:"descriptions"`
}

// getPermissions is GET /admin/permissions: every role's grants and every
// permission (SPEC §4.2).
func (s *Server) getPermissions(c *fiber.Ctx) error {
	g, err := s.deps.DB.Grants(c.UserContext())
	if err != nil {
		return err
	}
	resp := permissionsResponse{Roles: g.Roles, Permissions: make([]string, 0, len(g.Permissions)),
		Descriptions: make(map[string]string, len(g.Permissions))}
	for _, p := range g.Permissions {
		resp.Permissions = append(resp.Permissions, p.Name)
		resp.Descriptions[p.Name] = p.Description
	}
	return c.JSON(resp)
}

type rolePermissionsRequest struct {
	Permissions []string `json:"permissions" validate:"required,max=200,dive,min=1,max=64"`
}

type rolePermissionsResponse struct {
	Role        string   `json:"role"`
	Permissions []string `json:"permissions"`
}

// putRolePermissions is PUT /admin/roles/{role}/permissions
// {"permissions":[…]}: replaces the role's grants. Unknown names, and a
// change that leaves no live user able to manage users or grants, are 422
// with nothing written.
func (s *Server) putRolePermissions(c *fiber.Ctx) error {
	role := c.Params("role")
	if len(role) == 0 || len(role) > 32 || !validText(role) {
		return market.Errorf(market.ENOTFOUND, "role not found")
	}
	var req rolePermissionsRequest
	if err := s.bind(c, &req); err != nil {
		return err
	}
	perms, err := s.deps.DB.SetRolePermissions(c.UserContext(), currentUser(c).ID, role, req.Permissions)
	if err != nil {
		return err
	}
	return c.JSON(rolePermissionsResponse{Role: role, Permissions: perms})
}
