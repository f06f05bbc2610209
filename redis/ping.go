package redis

import (
	"context"

	goredis "github.com/redis/go-redis/v9"
)

// Pinger answers readiness probes (/ready) for the node's Redis.
type Pinger struct{ rdb goredis.UniversalClient }

// NewPinger pings through rdb.
func NewPinger(rdb goredis.UniversalClient) Pinger { return Pinger{rdb: rdb} }

// Ping sends PING; the caller's ctx bounds it (the client honours deadlines:
// ContextTimeoutEnabled, cmd/hubd/node).
func (p Pinger) Ping(ctx context.Context) error { return p.rdb.Ping(ctx).Err() }
