package redis

import (
	"context"
	"os"
	"testing"

	goredis "github.com/redis/go-redis/v9"
)

// quietRedis drops go-redis's own reconnect chatter (tests kill Redis on
// purpose); assertions, not logs, decide what passed.
type quietRedis struct{}

func (quietRedis) Printf(context.Context, string, ...any) {}

func TestMain(m *testing.M) {
	goredis.SetLogger(quietRedis{})
	os.Exit(m.Run())
}
