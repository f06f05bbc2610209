package http

import (
	"context"
	"encoding/json"
	"sync"
	"time"
)

// ticketTTL is how long a browser has to use a ticket.
const ticketTTL = 30 * time.Second

// wsTicket is what a ticket stands for: a user and when their token expires.
type wsTicket struct {
	UserID  string    `json:"user_id"`
	Expires time.Time `json:"expires"`
}

// TicketStore keeps single-use tickets where every node can redeem them
// (redis.Tickets); without one (Deps.Tickets nil) they live in process
// memory, which is enough for a single node.
type TicketStore interface {
	// Put stores val under id for ttl.
	Put(ctx context.Context, id string, val []byte, ttl time.Duration) error
	// Take returns id's value and deletes it atomically, so a ticket is
	// redeemed once; ok is false when there is none (unknown, used or
	// expired). An error means the store could not answer.
	Take(ctx context.Context, id string) (val []byte, ok bool, err error)
}

// putTicket stores t under id for ticketTTL.
func (s *Server) putTicket(ctx context.Context, id string, t wsTicket) error {
	b, _ := json.Marshal(t)
	return s.tickets.Put(ctx, id, b, ticketTTL)
}

// takeTicket redeems id.
func (s *Server) takeTicket(ctx context.Context, id string) (wsTicket, bool, error) {
	b, ok, err := s.tickets.Take(ctx, id)
	if err != nil || !ok {
		return wsTicket{}, false, err
	}
	var t wsTicket
	if err := json.Unmarshal(b, &t); err != nil {
		return wsTicket{}, false, err
	}
	return t, true, nil
}

// memoryTickets is the TicketStore of a single node.
type memoryTickets struct {
	mu sync.Mutex
	m  map[string]memTicket
}

type memTicket struct {
	val   []byte
	until time.Time
}

func newMemoryTickets() *memoryTickets { return &memoryTickets{m: map[string]memTicket{}} }

func (m *memoryTickets) Put(_ context.Context, id string, val []byte, ttl time.Duration) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := time.Now()
	for k, v := range m.m { // tickets are few and short-lived; sweep on write
		if now.After(v.until) {
			delete(m.m, k)
		}
	}
	m.m[id] = memTicket{val: val, until: now.Add(ttl)}
	return nil
}

func (m *memoryTickets) Take(_ context.Context, id string) ([]byte, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	v, ok := m.m[id]
	delete(m.m, id)
	if !ok || time.Now().After(v.until) {
		return nil, false, nil
	}
	return v.val, true, nil
}
