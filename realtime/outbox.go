package realtime

import (
	"context"
	"log/slog"
	"time"

	"instainstru/market"
)

// OutboxStore is what the publisher and relay need from the events table.
type OutboxStore interface {
	MarkPublished(ctx context.Context, ids []int64) error
	Unpublished(ctx context.Context, minAge time.Duration, limit int) ([]market.Event, error)
	OutboxLag(ctx context.Context) (time.Duration, error)
	// TakeLease takes or renews a cluster-wide lease for holder until ttl
	// from now and reports whether holder holds it; ReleaseLease gives it up.
	TakeLease(ctx context.Context, name, holder string, ttl time.Duration) (bool, error)
	ReleaseLease(ctx context.Context, name, holder string) error
}

// relayLease is the name of the outbox relay's lease.
const relayLease = "outbox_relay"

// Publisher is the outbox fast path: right after commit the events are
// queued, and one goroutine publishes whatever is queued in one round trip
// and queues their ids to be marked published in batches (marking is off
// the request path; if it is late the relay may publish again, which the
// hub deduplicates by seq). The request never waits on the broker: a
// stalled Redis fills the bounded queue, and what does not fit is left to
// the relay.
type Publisher struct {
	broker  Broker
	store   OutboxStore
	metrics *Metrics
	log     *slog.Logger
	marks   chan int64
	pending chan []market.Event
	timeout time.Duration
}

// NewPublisher returns a publisher; call Run to publish and mark events.
// m may be nil.
func NewPublisher(b Broker, s OutboxStore, m *Metrics, log *slog.Logger) *Publisher {
	return &Publisher{broker: b, store: s, metrics: m, log: log, marks: make(chan int64, 65536),
		pending: make(chan []market.Event, 4096), timeout: 500 * time.Millisecond}
}

// PublishCommitted hands events that were just committed to the publishing
// goroutine and returns at once. It never fails the caller: whatever does
// not reach the broker (queue full, broker down) stays unpublished in the
// outbox and the relay sends it.
func (p *Publisher) PublishCommitted(_ context.Context, evs []market.Event) {
	if len(evs) == 0 {
		return
	}
	p.metrics.countCommitted(evs)
	select {
	case p.pending <- evs:
	default:
		p.log.Warn("publish queue full; relay will send", "events", len(evs))
	}
}

// publishLoop publishes queued events until ctx ends, all that is queued
// at a time in one round trip.
func (p *Publisher) publishLoop(ctx context.Context) {
	for {
		var batch []market.Event
		select {
		case <-ctx.Done():
			return
		case evs := <-p.pending:
			batch = append(batch, evs...) // a copy: the caller keeps its slice
		}
	more:
		for len(batch) < 1024 {
			select {
			case evs := <-p.pending:
				batch = append(batch, evs...)
			default:
				break more
			}
		}
		p.publish(batch)
	}
}

// publish sends evs with a deadline and queues the sent ones for marking.
func (p *Publisher) publish(evs []market.Event) {
	ctx, cancel := context.WithTimeout(context.Background(), p.timeout)
	defer cancel()
	errs := publishAll(ctx, p.broker, evs)
	for i, ev := range evs {
		if errs[i] != nil {
			p.log.Warn("publish failed; relay will retry", "topic", ev.Topic, "seq", ev.Seq, "err", errs[i])
			continue
		}
		select {
		case p.marks <- ev.ID:
		default: // mark queue full: the relay will republish; harmless duplicate
		}
	}
}

// batchPublisher is a broker that can send several events in one round trip.
type batchPublisher interface {
	PublishBatch(ctx context.Context, evs []market.Event) []error
}

// publishAll publishes evs in order, in one round trip when the broker can;
// errs[i] is the outcome of evs[i].
func publishAll(ctx context.Context, b Broker, evs []market.Event) []error {
	if bp, ok := b.(batchPublisher); ok && len(evs) > 1 {
		return bp.PublishBatch(ctx, evs)
	}
	errs := make([]error, len(evs))
	for i, ev := range evs {
		errs[i] = b.Publish(ctx, ev)
	}
	return errs
}

// Run publishes queued events and marks published ones in batches until
// ctx ends, then flushes the marks.
func (p *Publisher) Run(ctx context.Context) {
	published := make(chan struct{})
	go func() { defer close(published); p.publishLoop(ctx) }()
	defer func() { <-published }()
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	batch := make([]int64, 0, 512)
	flush := func() {
		if len(batch) == 0 {
			return
		}
		fctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := p.store.MarkPublished(fctx, batch); err != nil {
			p.log.Warn("mark published", "n", len(batch), "err", err)
		}
		batch = batch[:0]
	}
	for {
		select {
		case id := <-p.marks:
			batch = append(batch, id)
			if len(batch) >= 512 {
				flush()
			}
		case <-t.C:
			flush()
		case <-ctx.Done():
			for {
				select {
				case id := <-p.marks:
					batch = append(batch, id)
				default:
					flush()
					return
				}
			}
		}
	}
}

// Relay republishes events that were committed but not published within
// Delay — a crash or broker outage between commit and publish loses nothing.
// One relay is active across nodes at a time: the holder of a lease row
// (store.TakeLease), renewed every LeaseTTL/3 while it runs and given up on
// shutdown; a standby tries as often and takes over when the lease is free
// or expired (a crashed leader: within LeaseTTL). The lease is an economy,
// not a guard: two relays for a moment only publish some events twice,
// which the hub drops by seq. No session state, so it works through a
// pooler in transaction mode.
type Relay struct {
	Store    OutboxStore
	Broker   Broker
	Log      *slog.Logger
	Metrics  *Metrics
	Holder   string        // this relay's lease holder id, unique per process
	Delay    time.Duration // how long the fast path has before the relay steps in
	Interval time.Duration // poll interval
	LeaseTTL time.Duration // [6s]
}

// Run polls until ctx ends.
func (r *Relay) Run(ctx context.Context) {
	r.defaults()
	var heldUntil, tried time.Time
	defer func() {
		if !heldUntil.IsZero() {
			rctx, cancel := context.WithTimeout(context.Background(), time.Second)
			defer cancel()
			r.Store.ReleaseLease(rctx, relayLease, r.Holder) //nolint:errcheck // it expires anyway
			r.Metrics.setRelayActive(false)
		}
	}()
	t := time.NewTicker(r.Interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if now := time.Now(); now.Sub(tried) >= r.LeaseTTL/3 {
			tried = now
			heldUntil = r.lease(ctx, now, heldUntil)
		}
		active := time.Now().Before(heldUntil)
		r.Metrics.setRelayActive(active)
		if !active {
			continue
		}
		if err := r.Once(ctx); err != nil && ctx.Err() == nil {
			r.Log.Warn("outbox relay", "err", err)
		}
	}
}

func (r *Relay) defaults() {
	if r.Delay == 0 {
		r.Delay = time.Second
	}
	if r.Interval == 0 {
		r.Interval = 250 * time.Millisecond
	}
	if r.LeaseTTL == 0 {
		r.LeaseTTL = 6 * time.Second
	}
}

// lease takes or renews the lease at now and returns until when this relay
// may act (counted from before the request, so never past the row's
// expiry); zero when it does not hold it.
func (r *Relay) lease(ctx context.Context, now, heldUntil time.Time) time.Time {
	ok, err := r.Store.TakeLease(ctx, relayLease, r.Holder, r.LeaseTTL)
	if err != nil {
		if ctx.Err() == nil {
			r.Log.Warn("outbox relay lease", "err", err)
		}
		if now.Before(heldUntil) {
			return heldUntil // still ours until it runs out
		}
		return time.Time{}
	}
	if !ok {
		if !heldUntil.IsZero() {
			r.Log.Info("outbox relay standing by: another node holds the lease")
		}
		return time.Time{}
	}
	if heldUntil.IsZero() {
		r.Log.Info("outbox relay active", "holder", r.Holder)
	}
	return now.Add(r.LeaseTTL)
}

// Once publishes one batch of overdue events and updates the lag gauge.
func (r *Relay) Once(ctx context.Context) error {
	lag, err := r.Store.OutboxLag(ctx)
	if err != nil {
		return err
	}
	r.Metrics.setLag(lag)
	evs, err := r.Store.Unpublished(ctx, r.Delay, 1000)
	if err != nil || len(evs) == 0 {
		return err
	}
	pctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	errs := publishAll(pctx, r.Broker, evs)
	cancel()
	ids := make([]int64, 0, len(evs))
	for i, ev := range evs {
		if errs[i] != nil {
			break // broker down: what follows is retried next tick, in order
		}
		ids = append(ids, ev.ID)
	}
	r.Metrics.addRepublished(len(ids))
	return r.Store.MarkPublished(ctx, ids)
}
