package http

import (
	"github.com/gofiber/fiber/v2"

	"instainstru/market"
)

// catalogRoutes are public reads of the seeded catalog.
func (s *Server) catalogRoutes(r fiber.Router) {
	r.Get("/categories", s.listCategories)
	r.Get("/services", s.listServices)
}

type categoryList struct {
	Items []market.Category `json:"items"`
}

type serviceList struct {
	Items []market.Service `json:"items"`
}

func (s *Server) listCategories(c *fiber.Ctx) error {
	cats, err := s.deps.DB.Categories(c.UserContext())
	if err != nil {
		return err
	}
	if cats == nil {
		cats = []market.Category{}
	}
	return c.JSON(categoryList{Items: cats})
}

// listServices filters by category (id or slug) and q (substring of name or
// description).
func (s *Server) listServices(c *fiber.Ctx) error {
	cat, err := queryText(c, "category", 120)
	if err != nil {
		return err
	}
	q, err := queryText(c, "q", 100)
	if err != nil {
		return err
	}
	svcs, err := s.deps.DB.Services(c.UserContext(), market.ServiceFilter{Category: cat, Query: q})
	if err != nil {
		return err
	}
	if svcs == nil {
		svcs = []market.Service{}
	}
	return c.JSON(serviceList{Items: svcs})
}
