package realtime

import (
	"context"
	"sync"
	"time"
)

// MemoryPresence is the PresenceStore of a single node (no Redis): the
// node's own part is the whole picture, and a node that dies takes it
// along, so nothing expires.
type MemoryPresence struct {
	mu      sync.Mutex
	viewers map[string]map[string]struct{}
	users   map[string]struct{}
}

// NewMemoryPresence returns an empty in-process store.
func NewMemoryPresence() *MemoryPresence {
	return &MemoryPresence{viewers: map[string]map[string]struct{}{}, users: map[string]struct{}{}}
}

// Sync takes the node's part and counts each topic's viewers.
func (m *MemoryPresence) Sync(_ context.Context, req PresenceSync, _ time.Duration) (PresenceCounts, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	res := PresenceCounts{Watching: map[string]int{}}
	for name, t := range req.Topics {
		if t.Changed {
			set := make(map[string]struct{}, len(t.Viewers))
			for _, v := range t.Viewers {
				set[v] = struct{}{}
			}
			m.viewers[name] = set
			if len(set) == 0 {
				delete(m.viewers, name)
			}
		}
		if t.Count {
			res.Watching[name] = len(m.viewers[name])
		}
	}
	if req.UsersAll {
		clear(m.users)
	}
	for _, u := range req.UsersAdd {
		m.users[u] = struct{}{}
	}
	for _, u := range req.UsersRemove {
		delete(m.users, u)
	}
	return res, nil
}

// Online reports which of userIDs are connected.
func (m *MemoryPresence) Online(_ context.Context, userIDs []string) (map[string]bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make(map[string]bool, len(userIDs))
	for _, u := range userIDs {
		_, out[u] = m.users[u]
	}
	return out, nil
}

// Leave forgets everything (one node: its part is all there is).
func (m *MemoryPresence) Leave(context.Context, []string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	clear(m.viewers)
	clear(m.users)
	return nil
}
