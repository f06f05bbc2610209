package hub

// Presence is told who watches what on this node, so viewers can be counted
// across nodes (realtime.Presence implements it; Options.Presence, nil =
// no presence). Every call must return at once: the hub makes them from
// connection goroutines, with a connection's topic lock held.
type Presence interface {
	// Watch: connection connID of userID ("" anonymous) subscribed to topic.
	Watch(topic, userID, connID string)
	// Unwatch undoes Watch: unsubscribed, refused, or disconnected.
	Unwatch(topic, userID, connID string)
	// Live: connID's subscription to topic is live (acked), so frames for
	// the topic now reach it (called on the topic's shard goroutine).
	Live(topic, connID string)
	// Connected and Disconnected bracket each signed-in connection.
	Connected(userID string)
	Disconnected(userID string)
}

func (c *Client) watched(topic string) {
	if p := c.h.opts.Presence; p != nil {
		p.Watch(topic, c.userID, c.id)
	}
}

func (c *Client) unwatched(topic string) {
	if p := c.h.opts.Presence; p != nil {
		p.Unwatch(topic, c.userID, c.id)
	}
}

func (h *Hub) live(topic string, c *Client) {
	if p := h.opts.Presence; p != nil {
		p.Live(topic, c.id)
	}
}

func (h *Hub) connected(c *Client) {
	if p := h.opts.Presence; p != nil && c.userID != "" {
		p.Connected(c.userID)
	}
}

func (h *Hub) disconnected(c *Client) {
	if p := h.opts.Presence; p != nil && c.userID != "" {
		p.Disconnected(c.userID)
	}
}
