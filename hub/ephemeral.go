package hub

import (
	"context"
	"fmt"
	"time"
)

// Ephemeral frames (realtime.EphemeralPublisher states the contract) are
// frames outside the seq'd stream: never stored, no seq, never replayed.
// On this node they go to the topic's live subscribers only — a subscriber
// still joining or replaying does not get them — through the same send
// queues as events, but they never touch a topic's seq, early buffer or
// pending replays, so ordering and dedupe of events are unaffected.

// SendEphemeral publishes frame (a JSON object, delivered as is) to the
// subscribers of topic on every node, this one included, through the broker.
// Use market.UserTopic(id) to reach every connection of a user.
func (h *Hub) SendEphemeral(ctx context.Context, topic string, frame []byte) error {
	if err := h.broker.PublishEphemeral(ctx, topic, frame); err != nil {
		return fmt.Errorf("send ephemeral: %w", err)
	}
	return nil
}

// Ephemeral is the broker's delivery entry point for ephemeral frames
// (realtime.EphemeralHandler): frame goes to topic's live subscribers on
// this node. It never blocks; past the shard inbox's bound it is dropped.
func (h *Hub) Ephemeral(topic string, frame []byte) {
	h.send(command{kind: cmdEphemeral, topic: topic, frame: frame})
}

// DeliverLocal queues frame on topic's live subscribers on this node only
// (not through the broker): for frames each node computes for its own
// connections, like presence counts. With conns set, only the connections
// of those ids (Client ids, as in the welcome) get it.
func (h *Hub) DeliverLocal(topic string, frame []byte, conns ...string) {
	var only map[string]bool
	if len(conns) > 0 {
		only = make(map[string]bool, len(conns))
		for _, id := range conns {
			only[id] = true
		}
	}
	h.send(command{kind: cmdEphemeral, topic: topic, frame: frame, only: only})
}

// ephemeral fans an ephemeral frame out to t's live subscribers (or those
// of them in only), on the shard goroutine.
func (s *shard) ephemeral(t *topic, frame []byte, only map[string]bool) {
	if t.state != topicLive || len(t.subs) == 0 {
		return
	}
	subs := t.subs
	if only != nil {
		subs = nil
		for _, c := range t.subs {
			if only[c.id] {
				subs = append(subs, c)
			}
		}
	}
	s.h.metrics.countN(ephemerals, len(subs))
	s.fanout(subs, textFrame(frame, time.Time{}))
}
