package http

import (
	"github.com/gofiber/fiber/v2"

	"instainstru/market"
)

// notificationRoutes: the inbox and its settings (SPEC §4.2).
func (s *Server) notificationRoutes(r fiber.Router) {
	s.handle(r, "GET", "/notifications", market.PermNotificationsRead, s.listNotifications)
	s.handle(r, "POST", "/notifications/read", market.PermNotificationsManage, s.readNotifications)
	s.handle(r, "GET", "/me/notification-settings", market.PermNotificationsRead, s.getNotificationSettings)
	s.handle(r, "PUT", "/me/notification-settings", market.PermNotificationsManage, s.putNotificationSettings)
}

type notificationList struct {
	Items      []market.Notification `json:"items"`
	Unread     int                   `json:"unread"`
	NextCursor *string               `json:"next_cursor"`
}

// listNotifications is GET /notifications?unread=true&limit=&cursor= →
// the caller's notifications, newest first, and their unread count.
func (s *Server) listNotifications(c *fiber.Ctx) error {
	limit, err := queryLimit(c)
	if err != nil {
		return err
	}
	cursor, err := queryText(c, "cursor", 512)
	if err != nil {
		return err
	}
	unread := false
	switch c.Query("unread") {
	case "", "false":
	case "true":
		unread = true
	default:
		return market.ValidationError(map[string]string{"unread": "must be true or false"})
	}
	p, err := s.deps.DB.Notifications(c.UserContext(), currentUser(c).ID, market.NotificationQuery{
		UnreadOnly: unread, Limit: limit, Cursor: cursor})
	if err != nil {
		return err
	}
	resp := notificationList{Items: p.Items, Unread: p.Unread}
	if p.NextCursor != "" {
		resp.NextCursor = &p.NextCursor
	}
	return c.JSON(resp)
}

type readRequest struct {
	IDs []string `json:"ids" validate:"max=500,dive,uuid"`
	All bool     `json:"all"`
}

// readNotifications is POST /notifications/read {"ids":[…]} | {"all":true}
// → 204. Ids of other users' notifications are ignored. The user's other
// devices get notification.read with the new unread count.
func (s *Server) readNotifications(c *fiber.Ctx) error {
	var req readRequest
	if err := s.bind(c, &req); err != nil {
		return err
	}
	if req.All == (len(req.IDs) > 0) {
		return market.ValidationError(map[string]string{"ids": `send either "ids" (a non-empty list) or "all": true`})
	}
	err := s.deps.DB.MarkNotificationsRead(c.UserContext(), currentUser(c).ID, req.IDs, req.All)
	if err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

// getNotificationSettings is GET /me/notification-settings.
func (s *Server) getNotificationSettings(c *fiber.Ctx) error {
	st, err := s.deps.DB.NotificationSettings(c.UserContext(), currentUser(c).ID)
	if err != nil {
		return err
	}
	return c.JSON(st)
}

type settingsRequest struct {
	Email         *bool `json:"email"`
	Reminders     *bool `json:"reminders"`
	ReminderHours []int `json:"reminder_hours" validate:"omitempty,max=4,dive,min=1,max=168"`
}

// putNotificationSettings is PUT /me/notification-settings {"email",
// "reminders","reminder_hours"} → 200 the settings; omitted fields keep
// their value.
func (s *Server) putNotificationSettings(c *fiber.Ctx) error {
	var req settingsRequest
	if err := s.bind(c, &req); err != nil {
		return err
	}
	user := currentUser(c).ID
	st, err := s.deps.DB.NotificationSettings(c.UserContext(), user)
	if err != nil {
		return err
	}
	if req.Email != nil {
		st.Email = *req.Email
	}
	if req.Reminders != nil {
		st.Reminders = *req.Reminders
	}
	if req.ReminderHours != nil {
		st.ReminderHours = req.ReminderHours
	}
	st, err = s.deps.DB.SaveNotificationSettings(c.UserContext(), user, st)
	if err != nil {
		return err
	}
	return c.JSON(st)
}
