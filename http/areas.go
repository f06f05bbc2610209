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

// listAreas is GET /areas → 200 {"items":[{"name","borough"}]}: the
// neighbourhoods a profile may name (search_areas), grouped by borough.
func (s *Server) listAreas(c *fiber.Ctx) error {
	areas, err := s.deps.DB.Areas(c.UserContext())
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "public, max-age=3600")
	return c.JSON(areaList{Items: areas})
}
