package redis

import (
	"context"
	"errors"
	"sync/atomic"
	"time"

	redisstore "github.com/gofiber/storage/redis/v3"
	goredis "github.com/redis/go-redis/v9"
)

// Every Redis call on a request path has a deadline, so a stalled Redis
// (paused, partitioned) costs a request at most this long. go-redis honours
// it because the node's client has ContextTimeoutEnabled (cmd/hubd/node).
const (
	CallTimeout = 100 * time.Millisecond
	// limiterBreakerOpen is how long the rate limiters skip Redis after a
	// call failed: Fiber's limiter serialises Get and Set under one mutex, so
	// without the breaker every limited request would queue behind the
	// timeouts of the ones before it.
	limiterBreakerOpen = time.Second
)

var errLimiterBreakerOpen = errors.New("redis skipped after a recent failure")

// LimiterStorage is the rate limiters' storage (a fiber.Storage) on the
// node's shared client, with a deadline per call and a breaker. A failing
// Get makes Fiber's limiter count from zero, i.e. the limits fail open while
// Redis is unreachable (README, known limits).
type LimiterStorage struct {
	s         *redisstore.Storage
	openUntil atomic.Int64 // unix nanos; calls before it fail at once
}

// NewLimiterStorage wraps rdb for Fiber's limiter middleware (keys are the
// limiter's own, already prefixed by the caller).
func NewLimiterStorage(rdb goredis.UniversalClient) *LimiterStorage {
	return &LimiterStorage{s: redisstore.NewFromConnection(rdb)}
}

func (b *LimiterStorage) call(fn func(ctx context.Context) error) error {
	if time.Now().UnixNano() < b.openUntil.Load() {
		return errLimiterBreakerOpen
	}
	ctx, cancel := context.WithTimeout(context.Background(), CallTimeout)
	defer cancel()
	err := fn(ctx)
	if err != nil {
		b.openUntil.Store(time.Now().Add(limiterBreakerOpen).UnixNano())
	}
	return err
}

// Get returns key's value; nil, nil when there is none.
func (b *LimiterStorage) Get(key string) ([]byte, error) {
	var v []byte
	err := b.call(func(ctx context.Context) (err error) { v, err = b.s.GetWithContext(ctx, key); return err })
	return v, err
}

// Set stores val under key for exp (0 = no expiry).
func (b *LimiterStorage) Set(key string, val []byte, exp time.Duration) error {
	return b.call(func(ctx context.Context) error { return b.s.SetWithContext(ctx, key, val, exp) })
}

// Delete removes key.
func (b *LimiterStorage) Delete(key string) error {
	return b.call(func(ctx context.Context) error { return b.s.DeleteWithContext(ctx, key) })
}

// Reset is never called by the limiter; it would flush the whole Redis DB.
func (b *LimiterStorage) Reset() error { return errors.New("limiter storage: reset is not supported") }

// Close leaves the node's shared client open (the node closes it).
func (b *LimiterStorage) Close() error { return nil }
