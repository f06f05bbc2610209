package http

import (
	"encoding/base64"
	"slices"

	"github.com/gofiber/fiber/v2"

	"instainstru/market"
)

// userRoutes is the admin's user management: reading needs users:read,
// role changes users:manage, deactivation users:deactivate.
func (s *Server) userRoutes(r fiber.Router) {
	s.handle(r, "GET", "/admin/users", market.PermUsersRead, s.listUsers)
	s.handle(r, "PATCH", "/admin/users/:id", market.PermUsersManage, s.setUserRoles)
	s.handle(r, "DELETE", "/admin/users/:id", market.PermUsersDeactivate, s.deleteUser)
}

// adminUserView is a user as the admin sees it.
type adminUserView struct {
	userView
	Permissions []string `json:"permissions"`
	CreatedAt   string   `json:"created_at"`
}

func newAdminUserView(u *market.User) adminUserView {
	perms := u.Permissions
	if perms == nil {
		perms = []string{}
	}
	return adminUserView{userView: newUserView(u), Permissions: perms, CreatedAt: u.CreatedAt.UTC().Format("2006-01-02T15:04:05.000000Z07:00")}
}

type userListResponse struct {
	Items      []adminUserView `json:"items"`
	NextCursor *string         `json:"next_cursor"`
}

func (s *Server) listUsers(c *fiber.Ctx) error {
	limit, err := queryLimit(c)
	if err != nil {
		return err
	}
	q, err := queryText(c, "q", 200)
	if err != nil {
		return err
	}
	after := ""
	if cur := c.Query("cursor"); cur != "" {
		b, err := base64.RawURLEncoding.DecodeString(cur)
		if err != nil || !validText(string(b)) {
			return market.ValidationError(map[string]string{"cursor": "is not a cursor this server issued"})
		}
		after = string(b)
	}
	users, more, err := s.deps.DB.ListUsers(c.UserContext(), market.UserPage{Query: q, AfterEmail: after, Limit: limit})
	if err != nil {
		return err
	}
	resp := userListResponse{Items: make([]adminUserView, 0, len(users))}
	for i := range users {
		resp.Items = append(resp.Items, newAdminUserView(&users[i]))
	}
	if more && len(users) > 0 {
		next := base64.RawURLEncoding.EncodeToString([]byte(users[len(users)-1].Email))
		resp.NextCursor = &next
	}
	return c.JSON(resp)
}

type setRolesRequest struct {
	Roles []string `json:"roles" validate:"required,min=1,max=4,unique,dive,oneof=student instructor admin support"`
}

func (s *Server) setUserRoles(c *fiber.Ctx) error {
	id, err := parseUUIDParam(c, "id")
	if err != nil {
		return err
	}
	var req setRolesRequest
	if err := s.bind(c, &req); err != nil {
		return err
	}
	if id == currentUser(c).ID && !slices.Contains(req.Roles, market.RoleAdmin) {
		return market.ValidationError(map[string]string{"roles": "you cannot remove your own admin role"})
	}
	u, err := s.deps.DB.SetUserRoles(s.requestMeta(c), id, req.Roles) // audited in its transaction
	if err != nil {
		return err
	}
	return c.JSON(newAdminUserView(u))
}

func (s *Server) deleteUser(c *fiber.Ctx) error {
	id, err := parseUUIDParam(c, "id")
	if err != nil {
		return err
	}
	if id == currentUser(c).ID {
		return market.ValidationError(map[string]string{"id": "you cannot delete your own account here"})
	}
	return s.deleteAccount(c, id) // the same path as DELETE /me (http/privacy.go)
}
