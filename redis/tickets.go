package redis

import (
	"context"
	"errors"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// Tickets keeps single-use WebSocket tickets in Redis, where every node can
// redeem them. Each call is bounded by CallTimeout.
type Tickets struct {
	rdb    goredis.UniversalClient
	prefix string
}

// NewTickets stores tickets under prefix+"wsticket:" (prefix is
// REDIS_PREFIX).
func NewTickets(rdb goredis.UniversalClient, prefix string) *Tickets {
	return &Tickets{rdb: rdb, prefix: prefix + "wsticket:"}
}

// Put stores val under id for ttl.
func (r *Tickets) Put(ctx context.Context, id string, val []byte, ttl time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, CallTimeout)
	defer cancel()
	return r.rdb.Set(ctx, r.prefix+id, val, ttl).Err()
}

// Take returns id's value and deletes it in one step (GETDEL), so a ticket
// is redeemed once across all nodes; ok is false when there is none
// (unknown, used or expired).
func (r *Tickets) Take(ctx context.Context, id string) (val []byte, ok bool, err error) {
	ctx, cancel := context.WithTimeout(ctx, CallTimeout)
	defer cancel()
	b, err := r.rdb.GetDel(ctx, r.prefix+id).Bytes()
	if errors.Is(err, goredis.Nil) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	return b, true, nil
}
