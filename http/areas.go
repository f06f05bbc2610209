package http

import (
	"github.com/gofiber/fiber/v2"

	"instainstru/market"
)

// areaRoutes: the neighbourhood list the page offers (public).
func (s *Server) areaRoutes(r fiber.Router) {
	r.Get("/areas", s.listAreas)
}

type areaList struct {
	Items []market.Area `json:"items"`
}

// listAreas is GET /areas → 200 {"items":[{"name","borough"}]}.
func (s *Server) listAreas(c *fiber.Ctx) error {
	c.Set(fiber.HeaderCacheControl, "public, max-age=3600")
	return c.JSON(areaList{Items: market.Areas()})
}
