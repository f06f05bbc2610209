// Package realtime moves committed events between nodes: the event envelope,
// the broker interface and its in-process implementation for a single node
// (the Redis broker is package redis), the transactional outbox's fast-path
// publisher and its relay.
//
// Guarantees, end to end: every event is a row written in the same
// transaction as the change (store.AppendEvents), with a per-topic seq that
// increases by one without gaps. Publishing is at-least-once: the committing
// node publishes at once, and the relay republishes anything still unmarked
// after a short delay. Brokers may therefore deliver an event twice, late or
// out of order; the hub restores order and drops duplicates by seq, and
// fills gaps from the events table.
package realtime

import (
	"context"
	"encoding/json"
	"time"

	"instainstru/market"
)

// Broker carries events between nodes. Subscribe/Unsubscribe express this
// node's interest in a topic (the hub reference-counts local subscribers and
// calls them on the first and last one), so a node receives only the topics
// its clients watch.
type Broker interface {
	// Publish sends ev to every node subscribed to ev.Topic. An error means
	// the event may not have left this node; the outbox relay retries it.
	Publish(ctx context.Context, ev market.Event) error
	// Subscribe starts delivering ev.Topic's events to the handler.
	Subscribe(ctx context.Context, topic string) error
	// Unsubscribe stops delivering topic.
	Unsubscribe(ctx context.Context, topic string) error
	// Run delivers received events to h until ctx ends. h.Event may be
	// called with duplicates or out of order. h.Subscribed is called each
	// time the broker's subscription to a topic is (re)established — after a
	// reconnect events may have been missed, and the handler resyncs that
	// topic from history.
	Run(ctx context.Context, h Handler) error
	// PublishEphemeral: see EphemeralPublisher for the contract of frames
	// outside the seq'd stream.
	EphemeralPublisher
}

// Handler receives what a Broker delivers.
type Handler interface {
	Event(ev market.Event)
	Subscribed(topic string)
	EphemeralHandler
}

// wireEvent is the broker payload (the envelope every broker that leaves
// the process carries): the event with its seq and commit time.
type wireEvent struct {
	Topic string          `json:"topic"`
	Seq   int64           `json:"seq"`
	Type  string          `json:"event"`
	Data  json.RawMessage `json:"data"`
	TS    time.Time       `json:"ts"`
	// Frame is set on ephemeral frames only (EncodeEphemeral), which have
	// no seq, type, data or ts.
	Frame json.RawMessage `json:"frame,omitempty"`
}

// EncodeWire is the envelope of ev as a broker sends it between nodes.
func EncodeWire(ev market.Event) ([]byte, error) {
	return json.Marshal(wireEvent{Topic: ev.Topic, Seq: ev.Seq, Type: ev.Type, Data: ev.Data, TS: ev.TS})
}

// DecodeWire is the event EncodeWire wrote into b.
func DecodeWire(b []byte) (market.Event, error) {
	var w wireEvent
	if err := json.Unmarshal(b, &w); err != nil {
		return market.Event{}, err
	}
	return market.Event{Topic: w.Topic, Seq: w.Seq, Type: w.Type, Data: w.Data, TS: w.TS}, nil
}
