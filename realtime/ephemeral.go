package realtime

import (
	"context"
	"encoding/json"
	"fmt"

	"instainstru/market"
)

// Ephemeral frames are the second kind of traffic a Broker carries, beside
// events: typing signals, presence counts — anything that is only worth
// having while it is fresh.
//
// The contract, for every broker:
//   - An ephemeral frame is a complete JSON object that connections receive
//     as it is. It is never stored, has no seq, and is never replayed: a
//     connection that is not live-subscribed to the topic on some node at
//     the moment the frame reaches that node never sees it (no resume, no
//     relay retry, no history).
//   - It travels on its topic's channel, so it reaches exactly the nodes
//     subscribed to the topic (every node with a live subscriber of
//     availability:<id>; every node where user <id> has a connection for
//     user:<id>, which each of that user's connections joins).
//   - At most once, best effort: a broker outage, a slow subscription or a
//     full inbox may drop it; nothing retries it.
//   - It is not part of the seq'd event stream: the broker hands it to
//     Handler.Ephemeral, never to Handler.Event, so a seq'd client sees no
//     gap or duplicate because of it. A node that does not know ephemeral
//     frames decodes one as an event of seq 0, which its hub drops as a
//     duplicate.
//   - Nodes do not echo: the frame reaches the publishing node's own
//     subscribers through the broker like everyone else's (no local
//     short-cut), so every connection gets it once.
type EphemeralPublisher interface {
	// PublishEphemeral sends frame to the connections subscribed to topic
	// on every node. An error means it may not have left this node; the
	// caller decides whether it is worth sending again (usually not).
	PublishEphemeral(ctx context.Context, topic string, frame []byte) error
}

// EphemeralHandler receives the ephemeral frames a broker delivers; it
// must not block (the broker's reader calls it).
type EphemeralHandler interface {
	Ephemeral(topic string, frame []byte)
}

// EncodeEphemeral is the broker envelope of an ephemeral frame: the event
// envelope's shape with no seq and the frame in "frame".
func EncodeEphemeral(topic string, frame []byte) ([]byte, error) {
	if !json.Valid(frame) {
		return nil, fmt.Errorf("ephemeral frame for %s is not JSON", topic)
	}
	return json.Marshal(struct {
		Topic string          `json:"topic"`
		Frame json.RawMessage `json:"frame"`
	}{topic, frame})
}

// DecodeMessage decodes what EncodeWire or EncodeEphemeral wrote: an event,
// or (frame != nil) an ephemeral frame for topic.
func DecodeMessage(b []byte) (ev market.Event, frame []byte, err error) {
	var w wireEvent
	if err := json.Unmarshal(b, &w); err != nil {
		return market.Event{}, nil, err
	}
	if len(w.Frame) > 0 {
		return market.Event{Topic: w.Topic}, w.Frame, nil
	}
	return market.Event{Topic: w.Topic, Seq: w.Seq, Type: w.Type, Data: w.Data, TS: w.TS}, nil, nil
}
