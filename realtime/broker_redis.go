package realtime

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"instainstru/market"
)

// RedisBroker is the multi-node broker over Redis pub/sub. Each topic is one
// channel (prefix + topic). The node holds one PubSub connection subscribed
// only to the topics its clients watch; go-redis re-subscribes after a
// reconnect, and every (re)subscription confirmation is passed to
// Handler.Subscribed so the hub can resync what it may have missed.
type RedisBroker struct {
	rdb     redis.UniversalClient
	prefix  string
	ps      *redis.PubSub
	log     *slog.Logger
	metrics *Metrics
}

// NewRedisBroker returns a broker on rdb; prefix namespaces the channels
// (tests and several deployments can share one Redis).
func NewRedisBroker(rdb redis.UniversalClient, prefix string, m *Metrics, log *slog.Logger) *RedisBroker {
	return &RedisBroker{rdb: rdb, prefix: prefix, ps: rdb.Subscribe(context.Background()), log: log, metrics: m}
}

// Publish sends ev on its topic's channel.
func (b *RedisBroker) Publish(ctx context.Context, ev market.Event) error {
	payload, err := encodeWire(ev)
	if err != nil {
		return fmt.Errorf("encode event: %w", err)
	}
	start := time.Now()
	err = b.rdb.Publish(ctx, b.prefix+ev.Topic, payload).Err()
	b.metrics.observePublish(time.Since(start))
	if err != nil {
		return fmt.Errorf("redis publish %s#%d: %w", ev.Topic, ev.Seq, err)
	}
	return nil
}

// PublishBatch sends evs in one round trip (a pipeline), in order; errs[i]
// is the outcome of evs[i].
func (b *RedisBroker) PublishBatch(ctx context.Context, evs []market.Event) []error {
	errs := make([]error, len(evs))
	start := time.Now()
	cmds, _ := b.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, ev := range evs {
			payload, err := encodeWire(ev)
			if err != nil {
				errs[i] = fmt.Errorf("encode event: %w", err)
				continue
			}
			p.Publish(ctx, b.prefix+ev.Topic, payload)
		}
		return nil
	})
	b.metrics.observePublish(time.Since(start))
	j := 0
	for i := range evs {
		if errs[i] != nil {
			continue
		}
		if j < len(cmds) {
			if err := cmds[j].Err(); err != nil {
				errs[i] = fmt.Errorf("redis publish %s#%d: %w", evs[i].Topic, evs[i].Seq, err)
			}
		} else {
			errs[i] = fmt.Errorf("redis publish %s#%d: no reply", evs[i].Topic, evs[i].Seq)
		}
		j++
	}
	return errs
}

// Subscribe adds topic to this node's subscription.
func (b *RedisBroker) Subscribe(ctx context.Context, topic string) error {
	return b.ps.Subscribe(ctx, b.prefix+topic)
}

// Unsubscribe removes topic from this node's subscription.
func (b *RedisBroker) Unsubscribe(ctx context.Context, topic string) error {
	return b.ps.Unsubscribe(ctx, b.prefix+topic)
}

// Run reads the subscription until ctx ends.
func (b *RedisBroker) Run(ctx context.Context, h Handler) error {
	ch := b.ps.ChannelWithSubscriptions(
		redis.WithChannelSize(8192),
		redis.WithChannelHealthCheckInterval(2*time.Second),
	)
	defer b.ps.Close()
	for {
		select {
		case <-ctx.Done():
			return nil
		case m, ok := <-ch:
			if !ok {
				return nil
			}
			switch m := m.(type) {
			case *redis.Subscription:
				if m.Kind == "subscribe" {
					h.Subscribed(strings.TrimPrefix(m.Channel, b.prefix))
				}
			case *redis.Message:
				ev, err := decodeWire([]byte(m.Payload))
				if err != nil {
					b.log.Warn("bad broker payload", "channel", m.Channel, "err", err)
					continue
				}
				h.Event(ev)
			}
		}
	}
}
