// Package redis holds everything the hub keeps in Redis: the multi-node
// broker (pub/sub, sharded on a cluster), the single-use WebSocket tickets,
// the rate limiters' storage, the readiness ping and the pool collector.
// Every call on a request path is bounded (bounds.go). The http package sees
// none of this: it takes small interfaces that cmd/hubd wires to these
// implementations.
package redis

import (
	"context"
	"fmt"
	"hash/fnv"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"instainstru/market"
	"instainstru/realtime"
)

// Broker is the multi-node broker over Redis pub/sub, on one Redis
// (NewBroker: PUBLISH/SUBSCRIBE) or on a Redis Cluster
// (NewClusterBroker: sharded SPUBLISH/SSUBSCRIBE). Each topic is one
// channel. The node subscribes only to the topics its clients watch; go-redis
// re-subscribes after a reconnect, and every (re)subscription confirmation
// is passed to Handler.Subscribed so the hub can resync what it may have
// missed.
//
// On a cluster a sharded channel lives on the master that owns its slot, and
// a subscribing connection can only hold channels of that master. Topics are
// therefore spread over a fixed number of hash-tag shards
// ("prefix{7}availability:…"): every channel of a shard has the same slot,
// so one connection per shard holds them and go-redis routes it (and its
// reconnects) to the slot's current master.
type Broker struct {
	rdb     goredis.UniversalClient
	prefix  string
	log     *slog.Logger
	metrics *realtime.Metrics
	sharded bool // cluster: SPUBLISH/SSUBSCRIBE over len(subs) hash-tag shards

	mu      sync.Mutex
	subs    []*redisSub      // one per shard; single Redis has one
	h       realtime.Handler // set by Run; readers start once it is
	readers sync.WaitGroup
	stopped bool
}

// Broker is a realtime.Broker.
var _ realtime.Broker = (*Broker)(nil)

// redisSub is one subscribing connection and the topics it holds.
type redisSub struct {
	ps     *goredis.PubSub // nil while the shard holds no topic (cluster)
	topics map[string]bool
}

// clusterShards is how many hash-tag shards (and so at most how many
// subscribing connections per node) a cluster broker uses. Sixteen slots
// spread over the masters of a small cluster; more shards spread the load
// more evenly at the cost of connections.
const clusterShards = 16

// NewBroker returns a broker on one Redis; prefix namespaces the
// channels (tests and several deployments can share one Redis).
func NewBroker(rdb goredis.UniversalClient, prefix string, m *realtime.Metrics, log *slog.Logger) *Broker {
	b := &Broker{rdb: rdb, prefix: prefix, log: log, metrics: m}
	b.subs = []*redisSub{{ps: rdb.Subscribe(context.Background()), topics: map[string]bool{}}}
	return b
}

// NewClusterBroker returns a broker on a Redis Cluster using sharded
// pub/sub, so each publish goes to one master instead of being broadcast
// over the whole cluster bus.
func NewClusterBroker(rdb *goredis.ClusterClient, prefix string, m *realtime.Metrics, log *slog.Logger) *Broker {
	b := &Broker{rdb: rdb, prefix: prefix, log: log, metrics: m, sharded: true}
	for range clusterShards {
		b.subs = append(b.subs, &redisSub{topics: map[string]bool{}})
	}
	return b
}

// shardOf is the shard index of topic.
func (b *Broker) shardOf(topic string) int {
	if !b.sharded {
		return 0
	}
	h := fnv.New32a()
	h.Write([]byte(topic)) //nolint:errcheck // never fails
	return int(h.Sum32() % uint32(len(b.subs)))
}

// Channel is the Redis channel that carries topic.
func (b *Broker) Channel(topic string) string {
	if !b.sharded {
		return b.prefix + topic
	}
	return b.prefix + "{" + strconv.Itoa(b.shardOf(topic)) + "}" + topic
}

// topicOf inverts Channel.
func (b *Broker) topicOf(channel string) string {
	t := strings.TrimPrefix(channel, b.prefix)
	if b.sharded && strings.HasPrefix(t, "{") {
		if i := strings.IndexByte(t, '}'); i > 0 {
			t = t[i+1:]
		}
	}
	return t
}

func (b *Broker) publishCmd(ctx context.Context, c goredis.Cmdable, channel string, payload []byte) *goredis.IntCmd {
	if b.sharded {
		return c.SPublish(ctx, channel, payload)
	}
	return c.Publish(ctx, channel, payload)
}

// Publish sends ev on its topic's channel.
func (b *Broker) Publish(ctx context.Context, ev market.Event) error {
	payload, err := realtime.EncodeWire(ev)
	if err != nil {
		return fmt.Errorf("encode event: %w", err)
	}
	start := time.Now()
	err = b.publishCmd(ctx, b.rdb, b.Channel(ev.Topic), payload).Err()
	b.metrics.ObservePublish(time.Since(start))
	if err != nil {
		return fmt.Errorf("redis publish %s#%d: %w", ev.Topic, ev.Seq, err)
	}
	return nil
}

// PublishEphemeral sends frame on topic's channel, beside its events but
// not among them (realtime.EphemeralPublisher has the contract): receiving
// nodes hand it to Handler.Ephemeral.
func (b *Broker) PublishEphemeral(ctx context.Context, topic string, frame []byte) error {
	payload, err := realtime.EncodeEphemeral(topic, frame)
	if err != nil {
		return err
	}
	if err := b.publishCmd(ctx, b.rdb, b.Channel(topic), payload).Err(); err != nil {
		return fmt.Errorf("redis publish ephemeral %s: %w", topic, err)
	}
	return nil
}

// PublishBatch sends evs in one round trip (a pipeline; on a cluster, one
// per master), in order per topic; errs[i] is the outcome of evs[i].
func (b *Broker) PublishBatch(ctx context.Context, evs []market.Event) []error {
	errs := make([]error, len(evs))
	start := time.Now()
	cmds, _ := b.rdb.Pipelined(ctx, func(p goredis.Pipeliner) error {
		for i, ev := range evs {
			payload, err := realtime.EncodeWire(ev)
			if err != nil {
				errs[i] = fmt.Errorf("encode event: %w", err)
				continue
			}
			b.publishCmd(ctx, p, b.Channel(ev.Topic), payload)
		}
		return nil
	})
	b.metrics.ObservePublish(time.Since(start))
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
func (b *Broker) Subscribe(ctx context.Context, topic string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := b.subs[b.shardOf(topic)]
	ch := b.Channel(topic)
	s.topics[topic] = true
	if !b.sharded {
		return s.ps.Subscribe(ctx, ch)
	}
	if s.ps == nil {
		// Created with its first channel, so go-redis connects it to that
		// channel's master rather than to a random node.
		s.ps = b.rdb.(*goredis.ClusterClient).SSubscribe(ctx)
		err := s.ps.SSubscribe(ctx, ch)
		b.startReader(s.ps)
		return err
	}
	return s.ps.SSubscribe(ctx, ch)
}

// Unsubscribe removes topic from this node's subscription.
func (b *Broker) Unsubscribe(ctx context.Context, topic string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := b.subs[b.shardOf(topic)]
	delete(s.topics, topic)
	if !b.sharded {
		return s.ps.Unsubscribe(ctx, b.Channel(topic))
	}
	if s.ps == nil {
		return nil
	}
	if len(s.topics) == 0 {
		// An empty sharded PubSub would reconnect to a random node, where
		// the shard's next SSUBSCRIBE is refused (MOVED): drop it instead.
		err := s.ps.Close()
		s.ps = nil
		return err
	}
	return s.ps.SUnsubscribe(ctx, b.Channel(topic))
}

// Run delivers what every subscribing connection receives until ctx ends.
func (b *Broker) Run(ctx context.Context, h realtime.Handler) error {
	b.mu.Lock()
	b.h = h
	for _, s := range b.subs {
		if s.ps != nil {
			b.startReader(s.ps)
		}
	}
	b.mu.Unlock()
	<-ctx.Done()
	b.mu.Lock()
	b.stopped = true
	for _, s := range b.subs {
		if s.ps != nil {
			s.ps.Close() //nolint:errcheck // shutting down
		}
	}
	b.mu.Unlock()
	b.readers.Wait()
	return nil
}

// startReader reads ps into the handler once Run has installed one (Run
// starts the readers of connections made before it). Called with b.mu held.
func (b *Broker) startReader(ps *goredis.PubSub) {
	if b.h == nil || b.stopped {
		return
	}
	h := b.h
	ch := ps.ChannelWithSubscriptions(
		goredis.WithChannelSize(8192),
		goredis.WithChannelHealthCheckInterval(2*time.Second),
	)
	b.readers.Add(1)
	go func() {
		defer b.readers.Done()
		for m := range ch { // closed when ps is closed
			switch m := m.(type) {
			case *goredis.Subscription:
				switch m.Kind {
				case "subscribe", "ssubscribe":
					h.Subscribed(b.topicOf(m.Channel))
				case "sunsubscribe":
					b.resubscribeMoved(b.topicOf(m.Channel))
				}
			case *goredis.Message:
				ev, frame, err := realtime.DecodeMessage([]byte(m.Payload))
				if err != nil {
					b.log.Warn("bad broker payload", "channel", m.Channel, "err", err)
					continue
				}
				if frame != nil {
					h.Ephemeral(ev.Topic, frame)
					continue
				}
				h.Event(ev)
			}
		}
	}()
}

// resubscribeMoved handles a sharded unsubscribe this node did not ask for:
// the cluster drops subscribers of a slot that moved to another master. The
// shard's connection is replaced by one routed to the new owner (whose
// confirmation makes the hub resync). Called from a reader goroutine.
func (b *Broker) resubscribeMoved(topic string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := b.subs[b.shardOf(topic)]
	if !s.topics[topic] || s.ps == nil || b.stopped {
		return // our own Unsubscribe
	}
	b.log.Warn("sharded subscription dropped by the cluster (slot moved); resubscribing", "topic", topic)
	s.ps.Close() //nolint:errcheck // this reader ends when its channel closes
	chans := make([]string, 0, len(s.topics))
	for t := range s.topics {
		chans = append(chans, b.Channel(t))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s.ps = b.rdb.(*goredis.ClusterClient).SSubscribe(ctx)
	if err := s.ps.SSubscribe(ctx, chans...); err != nil {
		b.log.Warn("resubscribe moved shard", "err", err) // go-redis retries on its health check
	}
	b.startReader(s.ps)
}
