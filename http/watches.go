package http

import (
	"context"
	"time"

	"github.com/gofiber/fiber/v2"

	"instainstru/market"
)

// watchStore: a user's watches ("tell me when a time opens", SPEC §4.3;
// store/watches.go).
type watchStore interface {
	CreateWatch(ctx context.Context, userID string, in market.WatchInput, now time.Time) (*market.Watch, error)
	Watches(ctx context.Context, userID string) ([]market.Watch, error)
	DeleteWatch(ctx context.Context, userID, id string) error
}

// watchRoutes: create, list and delete the caller's watches.
func (s *Server) watchRoutes(r fiber.Router) {
	s.handle(r, "POST", "/watches", market.PermWatchesManage, s.createWatch)
	s.handle(r, "GET", "/watches", market.PermWatchesManage, s.listWatches)
	s.handle(r, "DELETE", "/watches/:id", market.PermWatchesManage, s.deleteWatch)
}

// watchListView is GET /watches.
type watchListView struct {
	Items []market.Watch `json:"items"`
}

// createWatch is POST /watches: 201 with the watch; 422 for a bad day,
// part of day or range (≤ 60 days, from not in the past, to not before
// from) or an unknown instructor; 409 past the per-user cap.
func (s *Server) createWatch(c *fiber.Ctx) error {
	var in market.WatchInput
	if err := s.bind(c, &in); err != nil {
		return err
	}
	w, err := s.deps.DB.CreateWatch(c.UserContext(), currentUser(c).ID, in, time.Now())
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(w)
}

// listWatches is GET /watches: the caller's watches that have not ended.
func (s *Server) listWatches(c *fiber.Ctx) error {
	list, err := s.deps.DB.Watches(c.UserContext(), currentUser(c).ID)
	if err != nil {
		return err
	}
	return c.JSON(watchListView{Items: list})
}

// deleteWatch is DELETE /watches/{id}: 204, or 404 when not the caller's.
func (s *Server) deleteWatch(c *fiber.Ctx) error {
	id, err := parseUUIDParam(c, "id")
	if err != nil {
		return err
	}
	if err := s.deps.DB.DeleteWatch(c.UserContext(), currentUser(c).ID, id); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}
