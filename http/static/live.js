// The hub's WebSocket client (/ws): ticket auth, reconnect with backoff,
// resume by seq per topic, reset → refetch, heartbeat. It knows nothing of
// the DOM or of REST: the page hands it a ticket source and a state sink, so
// Node tests can drive it against a fake socket (http/webtest/live.test.mjs).
//
// Each watched topic keeps the last seq it applied. Events at or below it
// are duplicates and dropped; events that arrive while a REST snapshot is
// loading wait and are applied after it if they are newer than the
// snapshot's seq. On reconnect a topic subscribes again with since = that
// seq, so the hub replays what was missed; a 'reset' (history gone) calls
// the topic's onReset(seq), which must reload the REST state (snapshot()).

const OPEN = 1; // WebSocket.OPEN
const PING_EVERY_MS = 20000, PONG_WITHIN_MS = 10000, MAX_BACKOFF_MS = 10000;

// Live is the client. Options:
//   url()            the ws:// or wss:// address of /ws
//   ticket()         async: a one-use ticket, or null to connect anonymously;
//                    a throw counts as a failed attempt (retried with backoff)
//   onState(s, text) connection state: 'connecting' | 'live' | 'offline'
//   onUnauthorized() the access token was refused (close 4001 or an
//                    'unauthorized' error frame): refresh it
//   WebSocket, timers ({setTimeout, clearTimeout, setInterval, clearInterval}),
//   random, now       injectable for tests; default to the globals
// beforeConnect() may be assigned later; it runs before each connect (the
// page registers the private user topic there).
export class Live {
  constructor(opts) {
    this.o = {
      WebSocket: globalThis.WebSocket, timers: globalThis, random: Math.random, now: Date.now,
      ticket: async () => null, onState: () => {}, onUnauthorized: () => {}, ...opts,
    };
    this.ws = null; this.attempt = 0; this.nextId = 1; this.timer = 0; this.pingTimer = 0; this.pongDue = 0;
    this.topics = new Map();
    this.listeners = new Map(); // frame type → handlers (on)
    this.beforeConnect = () => {};
  }

  setState(state, text) { this.o.onState(state, text); }

  async connect() {
    this.o.timers.clearTimeout(this.timer);
    this.beforeConnect();
    this.setState('connecting', this.attempt ? 'Reconnecting…' : 'Connecting…');
    let url = this.o.url();
    try {
      const ticket = await this.o.ticket();
      if (ticket) url += '?ticket=' + encodeURIComponent(ticket);
    } catch { return this.retry(); }
    const ws = new this.o.WebSocket(url);
    this.ws = ws;
    // A frame that does not parse, or whose handler throws, is logged and
    // skipped: the socket stays up.
    ws.onmessage = (e) => { try { this.onFrame(JSON.parse(e.data)); } catch (err) { console.error('bad frame', err); } };
    ws.onclose = (e) => this.dropped(ws, e.code);
  }

  // dropped forgets a socket that closed (or stopped answering) and retries.
  dropped(ws, code) {
    if (this.ws !== ws) return;
    this.ws = null;
    // Frames still buffered on a link given up for dead must not be applied
    // out of band: the resumed subscription replays them in order.
    ws.onmessage = ws.onclose = null;
    this.o.timers.clearInterval(this.pingTimer);
    for (const t of this.topics.values()) t.subscribed = false;
    if (code === 4001) this.o.onUnauthorized();
    if (code === 1012) this.attempt = 0; // server restart: come back at once, elsewhere
    this.retry();
  }

  // retry waits 250 ms · 2^attempt (at most 10 s), with jitter, and connects.
  retry() {
    this.setState('offline', 'Reconnecting…');
    const delay = Math.min(MAX_BACKOFF_MS, 250 * 2 ** this.attempt++) * (0.5 + this.o.random() / 2);
    this.timer = this.o.timers.setTimeout(() => this.connect(), delay);
  }

  // restart drops the socket and opens a new one, e.g. after signing in or
  // out; the private user: topics of the old session are forgotten.
  restart() {
    const ws = this.ws;
    this.ws = null; this.attempt = 0;
    if (ws) { ws.onmessage = ws.onclose = null; ws.close(1000); }
    this.o.timers.clearInterval(this.pingTimer);
    for (const [topic, t] of this.topics) { t.subscribed = false; if (topic.startsWith('user:')) this.topics.delete(topic); }
    return this.connect();
  }

  // send writes a frame with a fresh id; false when no socket is open.
  send(frame) {
    if (this.ws?.readyState !== OPEN) return false;
    this.ws.send(JSON.stringify({ id: this.nextId++, ...frame }));
    return true;
  }

  subscribe(topic) {
    const t = this.topics.get(topic);
    const frame = { type: 'subscribe', topic };
    if (t.seq != null) frame.since = t.seq;
    t.subscribed = this.send(frame);
  }

  onFrame(f) {
    const t = f.topic ? this.topics.get(f.topic) : null;
    switch (f.type) {
      case 'welcome': return this.welcomed(f);
      case 'event':
        if (!t || (t.seq != null && f.seq <= t.seq)) return;
        if (t.loading) { t.pending.push(f); return; }
        t.seq = f.seq;
        t.handler(f);
        return;
      case 'ack':
        if (t && t.seq == null && f.seq != null) t.seq = f.seq;
        return;
      case 'reset':
        if (t) { t.subscribed = false; t.onReset(f.seq); }
        return;
      case 'pong':
        this.pongDue = 0;
        return;
      case 'error':
        console.warn('hub error', f.code, f.message);
        if (f.code === 'unauthorized') this.o.onUnauthorized();
        return;
      default:
        for (const fn of this.listeners.get(f.type) || []) fn(f);
    }
  }

  // on calls fn with every frame of a type outside the seq'd stream
  // (ephemeral: 'presence', 'typing' — no seq, never replayed, so nothing
  // to resume); it returns the function that stops it.
  on(type, fn) {
    if (!this.listeners.has(type)) this.listeners.set(type, new Set());
    this.listeners.get(type).add(fn);
    return () => this.listeners.get(type)?.delete(fn);
  }

  // welcomed: the socket is live. Topics the hub subscribed on its own
  // (f.topics) are resumed from their seq when one is known; every other
  // watched topic not waiting for its snapshot subscribes now.
  welcomed(f) {
    this.attempt = 0;
    this.setState('live', 'Live');
    for (const topic of f.topics || []) {
      const own = this.topics.get(topic);
      if (own) { if (own.seq != null) this.subscribe(topic); else own.subscribed = true; }
    }
    for (const [topic, w] of this.topics) if (!w.subscribed && !w.loading) this.subscribe(topic);
    this.o.timers.clearInterval(this.pingTimer);
    this.pongDue = 0;
    this.pingTimer = this.o.timers.setInterval(() => this.heartbeat(), PING_EVERY_MS);
  }

  // heartbeat notices a dead connection (no pong in time) and reconnects.
  heartbeat() {
    if (!this.ws) return;
    if (this.pongDue && this.o.now() > this.pongDue) {
      // A dead link may never finish a close handshake: drop it now.
      const ws = this.ws;
      this.dropped(ws, 4000);
      ws.close(4000, 'no pong');
      return;
    }
    if (this.send({ type: 'ping' })) this.pongDue = this.o.now() + PONG_WITHIN_MS;
  }

  // watch registers a topic. onReset(seq) must reload the REST snapshot (with snapshot()).
  watch(topic, handler, onReset) {
    this.topics.set(topic, { seq: null, handler, onReset, loading: false, pending: [], subscribed: false });
  }

  unwatch(topic) {
    const t = this.topics.get(topic);
    this.topics.delete(topic);
    if (t?.subscribed) this.send({ type: 'unsubscribe', topic });
  }

  // snapshot runs load() (REST state; it resolves to that state's seq),
  // applies the events that arrived meanwhile and are newer, and subscribes
  // from exactly there.
  async snapshot(topic, load) {
    const t = this.topics.get(topic);
    if (!t) return;
    t.loading = true; t.pending = [];
    try {
      const seq = await load();
      if (this.topics.get(topic) !== t) return;
      if (t.seq == null || seq > t.seq) t.seq = seq;
      for (const f of t.pending) if (f.seq > t.seq) { t.seq = f.seq; t.handler(f); }
    } finally {
      t.loading = false; t.pending = [];
    }
    if (!t.subscribed) this.subscribe(topic);
  }
}

// createLive returns a new client (see Live for the options).
export const createLive = (opts) => new Live(opts);
