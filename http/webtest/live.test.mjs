// Unit tests of the page's socket client (http/static/live.js) in Node,
// against a fake WebSocket and fake timers: ticket auth, resume by seq,
// no duplicate on replay, reconnect with backoff, reset → refetch, heartbeat.
// Run: node --test http/webtest/ (run.sh does, before the browser test).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createLive } from '../static/live.js';

// FakeSocket records what the client sends; the test plays the hub.
class FakeSocket {
  static all = [];
  constructor(url) { this.url = url; this.sent = []; this.readyState = 0; this.closedWith = null; FakeSocket.all.push(this); }
  send(s) { this.sent.push(JSON.parse(s)); }
  close(code) { this.readyState = 3; this.closedWith = code; }
  // hub side
  open(topics = []) { this.readyState = 1; this.push({ type: 'welcome', topics }); }
  push(frame) { this.onmessage?.({ data: JSON.stringify(frame) }); }
  drop(code = 1006) { this.readyState = 3; this.onclose?.({ code }); }
  frames(type) { return this.sent.filter((f) => f.type === type); }
}

// fakeTimers runs timers only when the test says so.
function fakeTimers() {
  let next = 1;
  const pending = new Map();
  return {
    pending,
    setTimeout(fn, ms) { pending.set(next, { fn, ms }); return next++; },
    clearTimeout(id) { pending.delete(id); },
    setInterval(fn, ms) { pending.set(next, { fn, ms, every: true }); return next++; },
    clearInterval(id) { pending.delete(id); },
    // fire runs the pending one-shot timers (e.g. the reconnect) and returns their delays.
    fire() {
      const due = [...pending].filter(([, t]) => !t.every);
      for (const [id] of due) pending.delete(id);
      for (const [, t] of due) t.fn();
      return due.map(([, t]) => t.ms);
    },
    intervals() { return [...pending.values()].filter((t) => t.every); },
  };
}

const tick = () => new Promise((r) => setImmediate(r));

// setup builds a client on fakes; opts override (ticket, onUnauthorized…).
async function setup(opts = {}) {
  FakeSocket.all = [];
  const timers = fakeTimers(), states = [];
  const live = createLive({
    url: () => 'ws://hub.test/ws', ticket: async () => 'tkt/1', WebSocket: FakeSocket, timers,
    random: () => 1, now: () => opts.clock?.() ?? 0, onState: (s, text) => states.push([s, text]), ...opts,
  });
  await live.connect();
  return { live, timers, states, ws: () => FakeSocket.all.at(-1) };
}

const ev = (topic, seq, data = {}) => ({ type: 'event', topic, seq, event: 'availability.changed', data });

test('connects with a one-use ticket and shows live after the welcome', async () => {
  const { ws, states } = await setup();
  assert.equal(ws().url, 'ws://hub.test/ws?ticket=tkt%2F1');
  assert.deepEqual(states.at(-1), ['connecting', 'Connecting…']);
  ws().open();
  assert.deepEqual(states.at(-1), ['live', 'Live']);
});

test('without a ticket (signed out) it connects anonymously', async () => {
  const { ws } = await setup({ ticket: async () => null });
  assert.equal(ws().url, 'ws://hub.test/ws');
});

test('a snapshot subscribes from its seq and applies only newer events that arrived meanwhile', async () => {
  const { live, ws } = await setup();
  ws().open();
  const got = [];
  live.watch('availability:a', (f) => got.push(f.seq), () => {});
  let release;
  const loaded = live.snapshot('availability:a', () => new Promise((r) => { release = r; }));
  ws().push(ev('availability:a', 4)); // older than the snapshot: already in it
  ws().push(ev('availability:a', 6)); // newer: applied after it
  assert.deepEqual(got, [], 'events wait while the snapshot loads');
  release(5);
  await loaded;
  assert.deepEqual(got, [6]);
  assert.deepEqual(ws().frames('subscribe').at(-1), { id: ws().frames('subscribe').at(-1).id, type: 'subscribe', topic: 'availability:a', since: 6 });
});

test('after a lost connection it reconnects and resumes each topic from its last seq, without duplicates', async () => {
  const { live, ws, timers, states } = await setup();
  ws().open();
  const got = [];
  live.watch('availability:a', (f) => got.push(f.seq), () => {});
  await live.snapshot('availability:a', async () => 10);
  ws().push(ev('availability:a', 11));
  ws().push(ev('availability:a', 12));
  const first = ws();
  first.drop(1006);
  assert.deepEqual(states.at(-1), ['offline', 'Reconnecting…']);
  first.push(ev('availability:a', 13)); // a frame from the dead socket is ignored
  assert.equal(timers.fire().length, 1, 'one reconnect is scheduled');
  await tick();
  assert.notEqual(ws(), first, 'a new socket');
  ws().open();
  const sub = ws().frames('subscribe');
  assert.equal(sub.length, 1);
  assert.equal(sub[0].since, 12, 'resubscribes with since = last applied seq');
  // The hub replays from since+1; a replayed frame seen before is dropped.
  for (const seq of [12, 13, 14, 13]) ws().push(ev('availability:a', seq));
  assert.deepEqual(got, [11, 12, 13, 14]);
});

test('reconnect delays back off, are capped, reset on welcome, and a restart close (1012) comes back at once', async () => {
  const { ws, timers } = await setup({ random: () => 1 });
  const delays = [];
  for (let i = 0; i < 8; i++) {
    ws().drop(1006);
    delays.push(...timers.fire());
    await tick();
  }
  assert.deepEqual(delays, [250, 500, 1000, 2000, 4000, 8000, 10000, 10000]);
  ws().open();
  ws().drop(1006);
  assert.deepEqual(timers.fire(), [250], 'welcome resets the backoff');
  await tick();
  ws().drop(1006);
  assert.deepEqual(timers.fire(), [500]);
  await tick();
  ws().drop(1012);
  assert.deepEqual(timers.fire(), [250], 'after 1012 the first retry is immediate-ish');
});

test('a failed ticket request is retried with backoff', async () => {
  let calls = 0;
  const { timers } = await setup({ ticket: async () => { calls++; if (calls === 1) throw new Error('503'); return 't'; } });
  assert.equal(FakeSocket.all.length, 0, 'no socket without a ticket');
  assert.deepEqual(timers.fire(), [250]);
  await tick();
  assert.equal(FakeSocket.all.length, 1);
  assert.equal(FakeSocket.all[0].url, 'ws://hub.test/ws?ticket=t');
});

test('reset: the topic refetches through its onReset(seq) and resubscribes from the new snapshot', async () => {
  const { live, ws } = await setup();
  ws().open();
  const got = [], resets = [];
  live.watch('availability:a', (f) => got.push(f.seq), (seq) => {
    resets.push(seq);
    return live.snapshot('availability:a', async () => 50); // the refetch
  });
  await live.snapshot('availability:a', async () => 3);
  ws().push({ type: 'reset', topic: 'availability:a', seq: 50 });
  await tick();
  assert.deepEqual(resets, [50]);
  assert.equal(ws().frames('subscribe').at(-1).since, 50);
  ws().push(ev('availability:a', 49));
  ws().push(ev('availability:a', 51));
  assert.deepEqual(got, [51], 'only events after the refetched snapshot apply');
});

test('topics the hub subscribed on its own resume from their seq; an ack gives a fresh topic its seq', async () => {
  const { live, ws, timers } = await setup();
  live.watch('user:u', () => {}, () => {});
  ws().open(['user:u']);
  assert.equal(ws().frames('subscribe').length, 0, 'no seq yet: the welcome subscription stands');
  ws().push({ type: 'ack', topic: 'user:u', seq: 7 });
  ws().drop(1006); timers.fire(); await tick();
  ws().open(['user:u']);
  assert.equal(ws().frames('subscribe').at(-1).since, 7);
});

test('no pong within the deadline drops the link and reconnects', async () => {
  let now = 0;
  const { live, ws, timers } = await setup({ clock: () => now });
  ws().open();
  assert.equal(timers.intervals().length, 1, 'a heartbeat interval runs while live');
  live.heartbeat();
  assert.equal(ws().frames('ping').length, 1);
  ws().push({ type: 'pong' });
  now = 30000; live.heartbeat();
  assert.equal(ws().frames('ping').length, 2, 'answered: another ping');
  const dead = ws();
  now = 50000; live.heartbeat();
  assert.equal(dead.closedWith, 4000);
  assert.equal(timers.intervals().length, 0, 'the heartbeat stops with the link');
  timers.fire(); await tick();
  assert.notEqual(ws(), dead);
});

test('an unauthorized close (4001) or error frame asks for a token refresh', async () => {
  let refreshes = 0;
  const { ws } = await setup({ onUnauthorized: () => { refreshes++; } });
  ws().open();
  ws().push({ type: 'error', code: 'unauthorized', message: 'expired' });
  ws().drop(4001);
  assert.equal(refreshes, 2);
});

test('restart closes the socket, forgets user topics, keeps others and reconnects', async () => {
  const { live, ws } = await setup();
  ws().open();
  live.watch('user:u', () => {}, () => {});
  live.watch('availability:a', () => {}, () => {});
  const old = ws();
  await live.restart();
  assert.equal(old.closedWith, 1000);
  assert.deepEqual([...live.topics.keys()], ['availability:a']);
  assert.notEqual(ws(), old);
});

test('unwatch unsubscribes a subscribed topic; send is refused while not open', async () => {
  const { live, ws } = await setup();
  assert.equal(live.send({ type: 'ping' }), false);
  ws().open();
  live.watch('availability:a', () => {}, () => {});
  await live.snapshot('availability:a', async () => 1);
  live.unwatch('availability:a');
  assert.deepEqual(ws().frames('unsubscribe').map((f) => f.topic), ['availability:a']);
  ws().push(ev('availability:a', 2)); // no handler left: ignored without error
});

test('ephemeral frames (presence) reach their listeners, outside the seq stream, until stopped', async () => {
  const { live, ws } = await setup();
  ws().open();
  const seen = [], applied = [];
  live.watch('availability:a', (f) => applied.push(f.seq), () => {});
  live.subscribe('availability:a');
  ws().push({ type: 'ack', topic: 'availability:a', seq: 4 });
  const stop = live.on('presence', (f) => seen.push(f.watching));
  ws().push({ type: 'presence', topic: 'availability:a', watching: 2 });
  ws().push(ev('availability:a', 5));
  ws().push({ type: 'presence', topic: 'availability:a', watching: 3 });
  stop();
  ws().push({ type: 'presence', topic: 'availability:a', watching: 4 });
  assert.deepEqual(seen, [2, 3]);
  assert.deepEqual(applied, [5]); // the seq stream went on as if they were not there
});
