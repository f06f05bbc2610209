package realtime

import (
	"context"
	"maps"
	"slices"
)

// Sync writes this node's part to the store and pushes the counts that
// changed (Run calls it every Interval; tests may call it directly).
func (p *Presence) Sync(ctx context.Context, local LocalDeliverer) {
	req := p.snapshot()
	res, err := p.store.Sync(ctx, req, p.opts.TTL)
	pushes := p.settle(req, res, err)
	for _, ps := range pushes {
		local.DeliverLocal(ps.topic, presenceFrame(ps.topic, ps.n), ps.conns...)
	}
}

// snapshot is this node's part as of now; what it hands over counts as
// synced until settle learns otherwise.
func (p *Presence) snapshot() PresenceSync {
	p.mu.Lock()
	defer p.mu.Unlock()
	req := PresenceSync{Topics: make(map[string]PresenceTopic, len(p.topics)), UsersAll: p.usersAll, Users: len(p.users)}
	for name, t := range p.topics {
		pt := PresenceTopic{Local: len(t.viewers), Changed: t.changed, Count: t.subs > 0}
		if t.changed {
			pt.Viewers = slices.Collect(maps.Keys(t.viewers))
			t.changed = false
		}
		req.Topics[name] = pt
	}
	if p.usersAll {
		req.UsersAdd = slices.Collect(maps.Keys(p.users))
	} else {
		for u, on := range p.userDiff {
			if on {
				req.UsersAdd = append(req.UsersAdd, u)
			} else {
				req.UsersRemove = append(req.UsersRemove, u)
			}
		}
	}
	clear(p.userDiff)
	p.usersAll = false
	return req
}

type presencePush struct {
	topic string
	n     int
	conns []string // nil: every subscriber
}

// settle takes the store's answer: what it did not take is written again
// next time, and the counts that changed (or that new subscribers have
// not had yet) become pushes.
func (p *Presence) settle(req PresenceSync, res PresenceCounts, err error) []presencePush {
	p.mu.Lock()
	defer p.mu.Unlock()
	if err != nil {
		p.redo(req)
		if !p.failing {
			p.log.Warn("presence: sync failed; counts wait for the store", "err", err)
		}
		p.failing = true
		return nil
	}
	if p.failing {
		p.log.Info("presence: sync works again")
		p.failing = false
	}
	for _, name := range res.Lost {
		if t := p.topics[name]; t != nil {
			t.changed = true
		}
	}
	p.usersAll = p.usersAll || res.UsersLost
	var pushes []presencePush
	for name, t := range p.topics {
		n, ok := res.Watching[name]
		switch {
		case t.subs <= 0 && !t.changed:
			delete(p.topics, name)
		case !ok || !req.Topics[name].Count:
		case n != t.last:
			t.last, t.greet = n, nil
			pushes = append(pushes, presencePush{topic: name, n: n})
		case len(t.greet) > 0:
			pushes = append(pushes, presencePush{topic: name, n: n, conns: t.greet})
			t.greet = nil
		}
	}
	return pushes
}

// redo marks what a failed sync carried as not synced.
func (p *Presence) redo(req PresenceSync) {
	for name, pt := range req.Topics {
		if t := p.topics[name]; t != nil && pt.Changed {
			t.changed = true
		}
	}
	// The user diff is gone from p; the whole set is cheaper to resend
	// than to merge back.
	p.usersAll = true
	clear(p.userDiff)
}
