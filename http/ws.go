package http

import "github.com/gofiber/fiber/v2"

func (s *Server) realtimeRoutes(r fiber.Router) {}
