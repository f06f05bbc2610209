package http

import (
	"context"
)

// Presence says which users have a live WebSocket connection on any node
// (realtime.Presence, wired by cmd/hubd/node as Deps.Presence). Viewer
// counts never pass through http: the hub pushes them (docs/features/presence.md).
type Presence interface {
	Online(ctx context.Context, userIDs []string) (map[string]bool, error)
}

// online is Presence.Online as a best effort: "online" is a hint on a
// profile, so without presence, or while its store is unreachable (a
// bounded call), everyone reads as offline rather than the request failing.
func (s *Server) online(ctx context.Context, userIDs ...string) map[string]bool {
	if s.deps.Presence == nil || len(userIDs) == 0 {
		return map[string]bool{}
	}
	on, err := s.deps.Presence.Online(ctx, userIDs)
	if err != nil {
		s.log.Debug("presence unavailable; online reads false", "err", err)
		return map[string]bool{}
	}
	return on
}
