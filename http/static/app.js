// InstaInstru live page: plain JS, no build step. It uses only the public
// REST API (/api/v1) and the WebSocket protocol (/ws, ticket auth, resume by
// seq). Views are chosen by the URL hash so the server needs no fallback route.
'use strict';

// ---------- small DOM and format helpers ----------
const $ = (sel, root = document) => root.querySelector(sel);

// h builds an element; strings become text nodes, so nothing is parsed as HTML.
function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === false || v == null) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else el.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat()) if (c != null && c !== false) el.append(c);
  return el;
}

const fmtMoney = (cents) => (cents / 100).toLocaleString('en-US', { style: 'currency', currency: 'USD' });
const fmtDay = (iso, opts = { weekday: 'short', month: 'short', day: 'numeric' }) =>
  new Date(iso + 'T12:00:00Z').toLocaleDateString('en-US', { ...opts, timeZone: 'UTC' });
const toMin = (hhmm) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));
const toHHMM = (m) => String(Math.floor(m / 60)).padStart(2, '0') + ':' + String(m % 60).padStart(2, '0');
const addDays = (iso, n) => new Date(Date.parse(iso + 'T00:00:00Z') + n * 864e5).toISOString().slice(0, 10);
const mondayOf = (iso) => addDays(iso, -((new Date(iso + 'T00:00:00Z').getUTCDay() + 6) % 7));

// wallClock returns the date and HH:MM of an instant in a timezone.
function wallClock(instant, tz) {
  const p = Object.fromEntries(new Intl.DateTimeFormat('en-CA', {
    timeZone: tz, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23',
  }).formatToParts(instant).map((x) => [x.type, x.value]));
  return { date: `${p.year}-${p.month}-${p.day}`, time: `${p.hour}:${p.minute}` };
}

function uuid() {
  if (crypto.randomUUID) return crypto.randomUUID();
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, '0')).join('');
}

// ---------- toasts and notifications (no sound) ----------
let unread = 0;
function toast(text, kind = 'info') {
  const t = h('div', { class: 'toast', dataset: { kind } }, h('span', {}, text),
    h('button', { class: 'link', 'aria-label': 'Dismiss notification', onclick: () => t.remove() }, '×'));
  $('#toasts').append(t);
  setTimeout(() => t.remove(), 8000);
}
function notify(text) {
  toast(text, 'booking');
  if (document.hidden || location.hash !== '#/teach') { unread++; updateTitle(); }
}
function updateTitle() { document.title = (unread ? `(${unread}) ` : '') + 'InstaInstru'; }
document.addEventListener('visibilitychange', () => { if (!document.hidden && location.hash === '#/teach') { unread = 0; updateTitle(); } });

// ---------- auth and REST ----------
const auth = JSON.parse(sessionStorage.getItem('auth') || 'null') || {};
const isInstructor = () => (auth.user?.roles || []).includes('instructor');

class ApiError extends Error {
  constructor(status, body) {
    super(body?.message || `Request failed (${status})`);
    this.status = status; this.code = body?.code; this.details = body?.details;
  }
}

async function api(method, path, body, headers = {}, retried = false) {
  const hdrs = { Accept: 'application/json', ...headers };
  if (body !== undefined) hdrs['Content-Type'] = 'application/json';
  if (auth.access) hdrs.Authorization = 'Bearer ' + auth.access;
  const res = await fetch('/api/v1' + path, { method, headers: hdrs, body: body === undefined ? undefined : JSON.stringify(body) });
  if (res.status === 401 && auth.refresh && !retried && await refreshTokens()) return api(method, path, body, headers, true);
  const text = await res.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { /* not JSON: keep null */ }
  if (!res.ok) throw new ApiError(res.status, data?.error);
  return data;
}
const items = (x) => (Array.isArray(x) ? x : x?.items || []);

function setSession(r) {
  auth.access = r.access_token; auth.refresh = r.refresh_token; auth.user = r.user;
  auth.expiresAt = Date.now() + (r.expires_in || 900) * 1000;
  sessionStorage.setItem('auth', JSON.stringify(auth));
  scheduleRefresh();
}
function clearSession() {
  for (const k of Object.keys(auth)) delete auth[k];
  sessionStorage.removeItem('auth');
}

let refreshing = null, refreshTimer = 0;
// refreshTokens rotates the refresh token once, however many callers ask, and
// hands the new access token to the open socket so it is not closed with 4001.
function refreshTokens() {
  if (!refreshing) {
    refreshing = fetch('/api/v1/auth/refresh', {
      method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ refresh_token: auth.refresh }),
    }).then(async (res) => {
      if (!res.ok) { clearSession(); live.restart(); route(); return false; }
      setSession(await res.json());
      live.send({ type: 'auth', token: auth.access });
      return true;
    }).catch(() => false).finally(() => { refreshing = null; });
  }
  return refreshing;
}
function scheduleRefresh() {
  clearTimeout(refreshTimer);
  if (auth.refresh) refreshTimer = setTimeout(refreshTokens, Math.max(5000, auth.expiresAt - Date.now() - 60000));
}

// ---------- live connection: ticket auth, resume by seq, visible state ----------
// Each watched topic keeps the last seq it applied. Events at or below it are
// duplicates and dropped; events that arrive while a REST snapshot is loading
// wait and are applied after it if they are newer than the snapshot's seq.
const live = {
  ws: null, attempt: 0, nextId: 1, timer: 0, pingTimer: 0, pongDue: 0, topics: new Map(),

  setState(state, text) {
    $('#conn').dataset.state = state;
    $('#conn-text').textContent = text;
  },

  async connect() {
    clearTimeout(this.timer);
    watchUser();
    this.setState('connecting', this.attempt ? 'Reconnecting…' : 'Connecting…');
    let url = (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/ws';
    if (auth.access) {
      try {
        url += '?ticket=' + encodeURIComponent((await api('POST', '/ws/ticket')).ticket);
      } catch { return this.retry(); }
    }
    const ws = new WebSocket(url);
    this.ws = ws;
    ws.onmessage = (e) => { try { this.onFrame(JSON.parse(e.data)); } catch (err) { console.error('bad frame', err); } };
    ws.onclose = (e) => this.dropped(ws, e.code);
  },

  // dropped forgets a socket that closed (or stopped answering) and retries.
  dropped(ws, code) {
    if (this.ws !== ws) return;
    this.ws = null;
    // Frames still buffered on a link given up for dead must not be applied
    // out of band: the resumed subscription replays them in order.
    ws.onmessage = ws.onclose = null;
    clearInterval(this.pingTimer);
    for (const t of this.topics.values()) t.subscribed = false;
    if (code === 4001 && auth.refresh) refreshTokens();
    if (code === 1012) this.attempt = 0; // server restart: come back at once, elsewhere
    this.retry();
  },

  retry() {
    this.setState('offline', 'Reconnecting…');
    const delay = Math.min(10000, 250 * 2 ** this.attempt++) * (0.5 + Math.random() / 2);
    this.timer = setTimeout(() => this.connect(), delay);
  },

  // restart drops the socket and opens a new one, e.g. after signing in or out.
  restart() {
    const ws = this.ws;
    this.ws = null; this.attempt = 0;
    if (ws) ws.close(1000);
    for (const [topic, t] of this.topics) { t.subscribed = false; if (topic.startsWith('user:')) this.topics.delete(topic); }
    this.connect();
  },

  send(frame) {
    if (this.ws?.readyState !== WebSocket.OPEN) return false;
    this.ws.send(JSON.stringify({ id: this.nextId++, ...frame }));
    return true;
  },

  subscribe(topic) {
    const t = this.topics.get(topic);
    const frame = { type: 'subscribe', topic };
    if (t.seq != null) frame.since = t.seq;
    t.subscribed = this.send(frame);
  },

  onFrame(f) {
    const t = f.topic ? this.topics.get(f.topic) : null;
    switch (f.type) {
      case 'welcome':
        this.attempt = 0;
        this.setState('live', 'Live');
        for (const topic of f.topics || []) {
          const own = this.topics.get(topic);
          if (own) { if (own.seq != null) this.subscribe(topic); else own.subscribed = true; }
        }
        for (const [topic, w] of this.topics) if (!w.subscribed && !w.loading) this.subscribe(topic);
        clearInterval(this.pingTimer);
        this.pongDue = 0;
        this.pingTimer = setInterval(() => this.heartbeat(), 20000);
        break;
      case 'event':
        if (!t || (t.seq != null && f.seq <= t.seq)) return;
        if (t.loading) { t.pending.push(f); return; }
        t.seq = f.seq;
        t.handler(f);
        break;
      case 'ack':
        if (t && t.seq == null && f.seq != null) t.seq = f.seq;
        break;
      case 'reset':
        if (t) { t.subscribed = false; t.onReset(f.seq); }
        break;
      case 'pong':
        this.pongDue = 0;
        break;
      case 'error':
        console.warn('hub error', f.code, f.message);
        if (f.code === 'unauthorized' && auth.refresh) refreshTokens();
        break;
    }
  },

  // heartbeat notices a dead connection (no pong in time) and reconnects.
  heartbeat() {
    if (!this.ws) return;
    if (this.pongDue && Date.now() > this.pongDue) {
      // A dead link may never finish a close handshake: drop it now.
      const ws = this.ws;
      this.dropped(ws, 4000);
      ws.close(4000, 'no pong');
      return;
    }
    if (this.send({ type: 'ping' })) this.pongDue = Date.now() + 10000;
  },

  // watch registers a topic. onReset(seq) must reload the REST snapshot (with snapshot()).
  watch(topic, handler, onReset) {
    this.topics.set(topic, { seq: null, handler, onReset, loading: false, pending: [], subscribed: false });
  },

  unwatch(topic) {
    const t = this.topics.get(topic);
    this.topics.delete(topic);
    if (t?.subscribed) this.send({ type: 'unsubscribe', topic });
  },

  // snapshot loads REST state, records its seq and subscribes from exactly there.
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
  },
};

// ---------- router ----------
let dispose = () => {}, viewSeq = 0;
// current returns a check that is false once the user has left the view, so
// a view that awaited something does not install handlers for a page gone.
const current = () => { const n = viewSeq; return () => n === viewSeq; };
function route() {
  viewSeq++;
  dispose(); dispose = () => {};
  const [path, query] = location.hash.slice(1).split('?');
  const params = new URLSearchParams(query || '');
  const parts = (path || '/').split('/').filter(Boolean);
  renderNav();
  renderAccountBanner(); // account.js
  const main = $('#main');
  main.replaceChildren();
  if (parts[0] === 'login') return viewLogin(main);
  if (parts[0] === 'signup') return viewSignup(main, params); // account.js
  if (parts[0] === 'verify') return viewVerify(main, params); // account.js
  if (parts[0] === 'forgot') return viewForgot(main); // account.js
  if (parts[0] === 'reset') return viewReset(main, params); // account.js
  if (parts[0] === 'onboarding') return isInstructor() ? viewOnboarding(main, parts[1]) : go('#/login');
  if (parts[0] === 'search') return viewSearch(main, params); // search.js
  if (parts[0] === 'instructors' && parts[1]) return viewInstructor(main, parts[1], params);
  if (parts[0] === 'lessons') return auth.user ? viewLessons(main, params.get('scope') || 'upcoming') : go('#/login');
  if (parts[0] === 'teach') return isInstructor() ? viewTeach(main) : go('#/login');
  if (parts[0] === 'admin') return auth.user ? viewAdmin(main, parts[1], params) : go('#/login'); // admin.js
  if (parts[0] === 'privacy') return auth.user ? viewPrivacy(main) : go('#/login'); // privacy.js
  return viewBrowse(main, params);
}
const go = (hash) => { location.hash = hash; };

function renderNav() {
  const here = location.hash || '#/';
  const link = (href, text) => h('a', { href, 'aria-current': here.startsWith(href) && href !== '#/' || here === href ? 'page' : null }, text);
  const nav = [link('#/', 'Browse')];
  if (isInstructor()) nav.push(link('#/teach', 'My week'), link('#/onboarding', 'Profile & lessons'));
  if (isStaff()) nav.push(link('#/admin', 'Admin')); // admin.js
  if (auth.user) nav.push(link('#/lessons', 'My lessons'),
    h('span', { class: 'who' }, auth.user.full_name), link('#/privacy', 'Privacy'),
    h('button', { class: 'link', onclick: signOut }, 'Sign out'));
  else nav.push(link('#/login', 'Sign in'), link('#/signup', 'Sign up'));
  $('#nav').replaceChildren(...nav);
}

async function signOut() {
  try { await api('POST', '/auth/logout', { refresh_token: auth.refresh }); } catch { /* signing out locally anyway */ }
  clearSession(); live.restart(); go('#/login');
}

// ---------- views ----------
function viewLogin(main) {
  const err = h('p', { class: 'error', role: 'alert' });
  const email = h('input', { id: 'email', type: 'email', autocomplete: 'username', required: true });
  const password = h('input', { id: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const demo = (addr) => h('button', { type: 'button', class: 'chip', onclick: () => { email.value = addr; password.value = 'TestPassword123!'; } }, addr);
  main.append(h('form', {
    class: 'panel narrow', 'aria-labelledby': 'login-h',
    onsubmit: async (e) => {
      e.preventDefault(); err.textContent = '';
      try {
        setSession(await api('POST', '/auth/login', { email: email.value.trim(), password: password.value }));
        live.restart();
        go(isInstructor() ? '#/teach' : '#/');
      } catch (ex) { err.textContent = ex.status === 401 ? 'Wrong email or password.' : ex.message; }
    },
  }, h('h1', { id: 'login-h' }, 'Sign in'),
  h('label', { for: 'email' }, 'Email'), email,
  h('label', { for: 'password' }, 'Password'), password, err,
  h('button', { type: 'submit', class: 'primary' }, 'Sign in'),
  h('p', { class: 'muted' }, h('a', { href: '#/forgot' }, 'Forgot password?')),
  h('p', { class: 'muted' }, 'New here? ', h('a', { href: '#/signup' }, 'Create an account')),
  h('p', { class: 'muted' }, 'Demo accounts (password TestPassword123!):'),
  h('div', { class: 'chips' }, ['sarah.chen', 'michael.rodriguez', 'john.smith', 'emma.johnson'].map((n) => demo(n + '@example.com')))));
  email.focus();
}

async function viewBrowse(main, params) {
  const results = h('div', { id: 'results', 'aria-live': 'polite' });
  const q = h('input', { id: 'q', type: 'search', value: params.get('q') || '', placeholder: 'Name, instrument, subject…' });
  main.append(h('section', { class: 'panel', 'aria-labelledby': 'find-h' },
    h('h1', { id: 'find-h' }, 'Find an instructor'),
    searchBox(q.value)), results); // search.js: natural-language search with suggestions
  const load = async () => {
    if (params.get('q') || params.get('service')) {
      const qs = params.get('q') ? 'q=' + encodeURIComponent(params.get('q')) : 'service_id=' + encodeURIComponent(params.get('service'));
      const list = items(await api('GET', '/instructors?limit=50&' + qs));
      results.replaceChildren(h('h2', {}, `${list.length} instructor${list.length === 1 ? '' : 's'}`),
        h('ul', { class: 'cards' }, list.map((i) => h('li', { class: 'card' },
          h('h3', {}, h('a', { href: `#/instructors/${i.id}${params.get('service') ? '?service_id=' + params.get('service') : ''}` }, i.full_name)),
          h('p', { class: 'muted' }, (i.areas || []).join(' · ')), h('p', {}, i.bio || '')))));
      return;
    }
    const cats = items(await api('GET', '/categories'));
    const cat = params.get('category') || cats[0]?.id;
    const services = cat ? items(await api('GET', '/services?category=' + encodeURIComponent(cat))) : [];
    results.replaceChildren(
      h('nav', { 'aria-label': 'Categories', class: 'chips' }, cats.map((c) =>
        h('a', { class: 'chip', href: '#/?category=' + c.id, 'aria-current': c.id === cat ? 'true' : null }, c.name))),
      h('h2', {}, 'Lessons'),
      h('ul', { class: 'chips' }, services.map((s) => h('li', {}, h('a', { class: 'chip', href: '#/?service=' + s.id }, s.name)))));
  };
  load().catch((e) => results.replaceChildren(h('p', { class: 'error', role: 'alert' }, e.message)));
}

// viewInstructor shows one instructor's week as bookable start times that
// follow the live availability topic. With ?reschedule=<booking id> a click
// moves that lesson instead of booking a new one.
async function viewInstructor(main, id, params) {
  const topic = 'availability:' + id, alive = current();
  const week = h('section', { id: 'week', class: 'week', 'aria-labelledby': 'week-h', 'aria-busy': 'true' });
  main.append(week);
  const ins = await api('GET', '/instructors/' + id).catch((e) => { week.replaceChildren(h('p', { class: 'error', role: 'alert' }, e.message)); });
  if (!ins) return;
  const tz = ins.timezone || 'America/New_York';
  const services = (ins.services || []).filter((s) => s.is_active !== false);
  const moving = params.get('reschedule') ? await api('GET', '/bookings/' + params.get('reschedule')).catch(() => null) : null;
  if (!alive()) return;
  const st = {
    // ?date= (a search result's "next open") opens the week of that day.
    weekStart: mondayOf(params.get('date') > wallClock(new Date(), tz).date ? params.get('date') : wallClock(new Date(), tz).date), days: new Map(),
    service: services.find((s) => s.id === (moving?.instructor_service_id || params.get('service_id'))) ||
      services.find((s) => s.service_id === params.get('service_id')) || services[0],
  };
  st.duration = moving ? toMin(moving.end_time) - toMin(moving.start_time) : (st.service?.durations.includes(60) ? 60 : st.service?.durations[0]);

  const svcSel = h('select', { id: 'svc', disabled: !!moving, onchange: () => { st.service = services.find((s) => s.id === svcSel.value); durSel.replaceChildren(...durOptions()); st.duration = Number(durSel.value); draw(); } },
    services.map((s) => h('option', { value: s.id, selected: s === st.service }, `${s.name} — ${fmtMoney(s.hourly_rate_cents)}/h`)));
  const durOptions = () => (st.service?.durations || []).map((d) => h('option', { value: d, selected: d === st.duration }, `${d} min`));
  const durSel = h('select', { id: 'dur', disabled: !!moving, onchange: () => { st.duration = Number(durSel.value); draw(); } }, durOptions());
  const areaSel = h('select', { id: 'area', disabled: !!moving }, (ins.areas || []).map((a) => h('option', { value: a }, a)));
  const address = h('input', { id: 'address', type: 'text', maxlength: 300, autocomplete: 'street-address', disabled: !!moving,
    placeholder: 'e.g. 31-00 47th Ave, apt 4 — buzz twice' });
  const notice = ins.cancellation_notice_hours ?? 24;
  const title = h('h2', { id: 'week-h' });
  const prev = h('button', { type: 'button', onclick: () => { st.weekStart = addDays(st.weekStart, -7); load(); } }, '← Previous week');
  const next = h('button', { type: 'button', onclick: () => { st.weekStart = addDays(st.weekStart, 7); load(); } }, 'Next week →');
  const grid = h('div', { class: 'grid' });
  week.before(h('section', { class: 'panel', 'aria-labelledby': 'ins-h' },
    h('h1', { id: 'ins-h' }, ins.full_name), h('p', { class: 'muted' }, (ins.areas || []).join(' · ') + ` · times in ${tz}`),
    ins.bio ? h('p', {}, ins.bio) : null,
    moving ? h('p', { class: 'banner' }, `Pick a new time for your lesson on ${fmtDay(moving.date)} at ${moving.start_time}.`) : null,
    h('div', { class: 'row' }, h('label', { for: 'svc' }, 'Lesson'), svcSel, h('label', { for: 'dur' }, 'Length'), durSel),
    moving ? null : h('div', { class: 'row' }, (ins.areas || []).length ? [h('label', { for: 'area' }, 'Where'), areaSel] : null,
      h('label', { for: 'address' }, 'Address or meeting note (optional, only you and the instructor see it)'), address),
    h('p', { class: 'muted', id: 'notice' }, notice
      ? `Free cancellation up to ${notice} hours before the lesson; later cancellations are marked late and the lesson can no longer be moved.`
      : 'Free cancellation until the lesson starts.')));
  week.append(h('div', { class: 'row between' }, prev, title, next), grid);

  // draw turns open intervals into start times at 15-minute steps that fit
  // the chosen length and start at least one hour from now.
  function draw() {
    const min = wallClock(new Date(Date.now() + 3600e3), tz);
    const minKey = min.date + ' ' + min.time;
    prev.disabled = st.weekStart <= mondayOf(wallClock(new Date(), tz).date);
    title.textContent = `Week of ${fmtDay(st.weekStart, { month: 'long', day: 'numeric', year: 'numeric' })}`;
    Object.assign(week.dataset, { instructorId: id, serviceId: st.service?.id || '', duration: st.duration || '', weekStart: st.weekStart });
    const cols = [];
    for (let i = 0; i < 7; i++) {
      const date = addDays(st.weekStart, i);
      const slots = [];
      for (const iv of st.days.get(date) || []) {
        const end = toMin(iv.end);
        for (let m = Math.ceil(toMin(iv.start) / 15) * 15; m + st.duration <= end; m += 15) {
          if (date + ' ' + toHHMM(m) >= minKey) slots.push(toHHMM(m));
        }
      }
      cols.push(h('div', { class: 'day', role: 'group', 'aria-labelledby': 'd-' + date, dataset: { date } },
        h('h3', { id: 'd-' + date }, fmtDay(date)),
        slots.length ? slots.map((s) => h('button', {
          type: 'button', class: 'slot', dataset: { date, start: s },
          'aria-label': `${moving ? 'Move lesson to' : 'Book'} ${fmtDay(date, { weekday: 'long', month: 'long', day: 'numeric' })} at ${s}, ${st.duration} minutes`,
          onclick: (e) => book(e.currentTarget, date, s),
        }, s)) : h('p', { class: 'muted' }, 'No open times')));
    }
    // Keep keyboard focus on the same slot (or its day) across live redraws.
    const f = document.activeElement?.closest?.('.slot');
    grid.replaceChildren(...cols);
    if (f) (grid.querySelector(`.slot[data-date="${f.dataset.date}"][data-start="${f.dataset.start}"]`) || grid.querySelector(`.day[data-date="${f.dataset.date}"] .slot`))?.focus();
  }

  async function book(btn, date, start) {
    if (!auth.user) return go('#/login');
    btn.disabled = true;
    try {
      if (moving) {
        ownActions.add(moving.id);
        await api('POST', `/bookings/${moving.id}/reschedule`, { date, start_time: start });
        toast(`Lesson moved to ${fmtDay(date)} at ${start}.`, 'success');
        return go('#/lessons');
      }
      const b = await api('POST', '/bookings', {
        instructor_id: id, instructor_service_id: st.service.id, date, start_time: start, duration_minutes: st.duration,
        ...(areaSel.value ? { area: areaSel.value } : {}), ...(address.value.trim() ? { address: address.value.trim() } : {}),
      }, { 'Idempotency-Key': uuid() });
      toast(`Booked! ${st.service.name} with ${ins.full_name}, ${fmtDay(b.date)} ${b.start_time}–${b.end_time}${b.location?.area ? ' in ' + b.location.area : ''} (${fmtMoney(b.price_cents)}).`, 'success');
    } catch (e) {
      btn.disabled = false;
      toast(e.code === 'slot_unavailable' ? 'Sorry, that time was just taken.' : errorText(e), 'error');
    }
  }

  async function load() {
    week.setAttribute('aria-busy', 'true');
    await live.snapshot(topic, async () => {
      const a = await api('GET', `/instructors/${id}/availability?from=${st.weekStart}&to=${addDays(st.weekStart, 6)}`);
      st.days = new Map(a.days.map((d) => [d.date, d.open]));
      return a.seq;
    }).catch((e) => toast(e.message, 'error'));
    week.setAttribute('aria-busy', 'false');
    draw();
  }

  live.watch(topic, (ev) => {
    if (ev.event !== 'availability.changed') return;
    for (const d of ev.data.days || []) if (st.days.has(d.date) || (d.date >= st.weekStart && d.date <= addDays(st.weekStart, 6))) st.days.set(d.date, d.open);
    draw();
  }, () => load());
  dispose = () => live.unwatch(topic);
  // Refresh the "one hour from now" cut-off as time passes.
  const tick = setInterval(draw, 60000);
  const un = dispose; dispose = () => { un(); clearInterval(tick); };
  await load();
}

const instructorCache = new Map();
const instructorOf = (id) => {
  if (!instructorCache.has(id)) instructorCache.set(id, api('GET', '/instructors/' + id).catch(() => null));
  return instructorCache.get(id);
};

async function viewLessons(main, scope) {
  const list = h('ul', { class: 'lessons', 'aria-live': 'polite' });
  const tab = (s, text) => h('a', { href: '#/lessons?scope=' + s, class: 'chip', 'aria-current': s === scope ? 'page' : null }, text);
  main.append(h('section', { class: 'panel', 'aria-labelledby': 'l-h' }, h('h1', { id: 'l-h' }, 'My lessons'),
    h('nav', { class: 'chips', 'aria-label': 'Lessons' }, tab('upcoming', 'Upcoming'), tab('past', 'Past')), list));
  const load = async () => {
    const rows = items(await api('GET', '/bookings?scope=' + scope));
    if (!rows.length) return list.replaceChildren(h('li', { class: 'muted' }, scope === 'upcoming' ? 'No upcoming lessons.' : 'No past lessons.'));
    list.replaceChildren(...await Promise.all(rows.map(async (b) => {
      const mine = !isInstructor() || b.instructor_id !== auth.user.id;
      const ended = Date.parse(b.ends_at) <= Date.now();
      const canReport = !mine && ended && Date.now() - Date.parse(b.ends_at) <= 48 * 3600e3 && ['confirmed', 'completed'].includes(b.status);
      return h('li', { class: 'lesson', dataset: { id: b.id, status: b.status } },
        h('div', {}, h('strong', {}, `${fmtDay(b.date)} ${b.start_time}–${b.end_time}`),
          h('span', { class: 'who-what' }, ` ${lessonLine(b, auth.user.id) || 'Lesson'} · ${fmtMoney(b.price_cents)}`),
          b.status !== 'confirmed' ? h('span', { class: 'badge', dataset: { status: b.status } }, b.status.replace('_', '-')) : null,
          b.late ? h('span', { class: 'badge' }, 'late') : null,
          b.location?.address ? h('p', { class: 'muted address' }, b.location.address) : null),
        canReport ? h('div', { class: 'row' }, h('button', {
          type: 'button', onclick: async (e) => {
            if (!confirm('Report that the student did not come?')) return;
            e.currentTarget.disabled = true;
            ownActions.add(b.id);
            try { await api('POST', `/bookings/${b.id}/no-show`); toast('Marked as no-show.', 'success'); load(); } catch (ex) { toast(errorText(ex), 'error'); }
          },
        }, 'Report no-show')) : null,
        scope === 'upcoming' && b.status === 'confirmed' ? h('div', { class: 'row' },
          mine ? h('a', { class: 'button', href: `#/instructors/${b.instructor_id}?reschedule=${b.id}` }, 'Reschedule') : null,
          h('button', {
            type: 'button', onclick: async (e) => {
              if (!confirm('Cancel this lesson?')) return;
              e.currentTarget.disabled = true;
              ownActions.add(b.id);
              try { await api('POST', `/bookings/${b.id}/cancel`, {}); toast('Lesson cancelled.', 'success'); load(); } catch (ex) { toast(ex.message, 'error'); }
            },
          }, 'Cancel')) : null);
    })));
  };
  onUserEvent = load;
  dispose = () => { onUserEvent = null; };
  load().catch((e) => list.replaceChildren(h('li', { class: 'error', role: 'alert' }, e.message)));
}

// viewTeach is the instructor's page: a live feed of incoming bookings and an
// editor for the week's availability windows (saved atomically with PUT week).
async function viewTeach(main) {
  const me = auth.user.id, topic = 'availability:' + me, alive = current();
  const tz = (await instructorOf(me))?.timezone || 'America/New_York';
  if (!alive()) return;
  const st = { weekStart: mondayOf(wallClock(new Date(), tz).date), windows: new Map(), open: new Map() };
  const feed = h('ol', { id: 'feed', class: 'feed', role: 'log', 'aria-live': 'polite', 'aria-label': 'Incoming bookings' });
  const editor = h('div', { class: 'editor' });
  const title = h('h2', { id: 'wk-h' });
  const status = h('p', { class: 'muted', role: 'status' });
  const repeatUntil = h('input', { id: 'repeat-until', type: 'date' });
  // copyNext and repeat reuse copy-week and apply-pattern: the saved week
  // (not unsaved edits) is what gets copied.
  async function copyNext() {
    try {
      await api('POST', '/instructors/me/availability/copy-week', { from_week_start: st.weekStart, to_week_start: addDays(st.weekStart, 7) });
      toast('Copied to next week.', 'success');
    } catch (e) { toast(errorText(e), 'error'); }
  }
  async function repeat() {
    const today = wallClock(new Date(), tz).date;
    const from = addDays(st.weekStart, 7) > today ? addDays(st.weekStart, 7) : today;
    if (!repeatUntil.value || repeatUntil.value < from) return toast('Pick a date after this week.', 'error');
    try {
      await api('POST', '/instructors/me/availability/apply-pattern', { week_start: st.weekStart, from, to: repeatUntil.value });
      toast(`Repeated until ${fmtDay(repeatUntil.value)}.`, 'success');
    } catch (e) { toast(errorText(e), 'error'); }
  }
  main.append(
    h('section', { class: 'panel', 'aria-labelledby': 'feed-h' }, h('h1', { id: 'feed-h' }, 'Incoming bookings'), feed),
    h('section', { class: 'panel', 'aria-labelledby': 'wk-h' },
      h('div', { class: 'row between' },
        h('button', { type: 'button', onclick: () => { st.weekStart = addDays(st.weekStart, -7); load(); } }, '← Previous'), title,
        h('button', { type: 'button', onclick: () => { st.weekStart = addDays(st.weekStart, 7); load(); } }, 'Next →')),
      editor,
      h('div', { class: 'row' }, h('button', { type: 'button', class: 'primary', onclick: save }, 'Save week'), status),
      h('div', { class: 'row' },
        h('button', { type: 'button', onclick: copyNext }, 'Copy this week to next week'),
        h('label', { for: 'repeat-until' }, 'Repeat this week until'), repeatUntil,
        h('button', { type: 'button', onclick: repeat }, 'Repeat'))));

  const timeInput = (label, value) => h('input', { type: 'time', step: 900, value, 'aria-label': label, required: true });
  function draw() {
    title.textContent = `My week of ${fmtDay(st.weekStart, { month: 'long', day: 'numeric' })}`;
    editor.replaceChildren(...Array.from({ length: 7 }, (_, i) => {
      const date = addDays(st.weekStart, i), name = fmtDay(date);
      const rows = h('ul', { class: 'windows' }, (st.windows.get(date) || []).map((w) => windowRow(name, w)));
      const open = st.open.get(date) || [];
      return h('fieldset', { class: 'day-edit', dataset: { date } }, h('legend', {}, name), rows,
        h('button', { type: 'button', class: 'link', onclick: () => rows.append(windowRow(name, { start: '09:00', end: '12:00' })) }, '+ Add time'),
        h('p', { class: 'muted open' }, 'Open now: ' + (open.length ? open.map((o) => `${o.start}–${o.end}`).join(', ') : 'none')));
    }));
  }
  function windowRow(day, w) {
    const li = h('li', { class: 'row' }, timeInput(`${day} from`, w.start), '–', timeInput(`${day} until`, w.end),
      h('button', { type: 'button', class: 'link', 'aria-label': `Remove ${day} ${w.start}–${w.end}`, title: 'Remove', onclick: () => li.remove() }, '✕'));
    return li;
  }
  function applyWeek(a) {
    st.windows = new Map(a.days.map((d) => [d.date, d.windows]));
    st.open = new Map(a.days.map((d) => [d.date, d.open]));
    return a.seq;
  }
  async function load() {
    await live.snapshot(topic, async () => applyWeek(await api('GET', `/instructors/${me}/availability?from=${st.weekStart}&to=${addDays(st.weekStart, 6)}`)))
      .catch((e) => toast(e.message, 'error'));
    draw();
  }
  async function save() {
    const days = [...editor.querySelectorAll('.day-edit')].map((fs) => ({
      date: fs.dataset.date,
      windows: [...fs.querySelectorAll('.windows li')].map((li) => { const [s, e] = li.querySelectorAll('input'); return { start: s.value, end: e.value }; }),
    }));
    status.textContent = 'Saving…';
    try {
      applyWeek(await api('PUT', '/instructors/me/availability/week', { week_start: st.weekStart, days }));
      status.textContent = 'Saved.'; draw();
    } catch (e) {
      status.textContent = '';
      toast(e.details ? `${e.message} ${JSON.stringify(e.details)}` : e.message, 'error');
    }
  }
  const addFeed = (b, verb, at) => feed.prepend(h('li', { dataset: { id: b.id, event: verb } },
    h('strong', {}, verb), ` ${fmtDay(b.date)} ${b.start_time}–${b.end_time} · ${lessonLine(b, me)} · ${fmtMoney(b.price_cents)}`,
    at ? h('time', { class: 'muted', datetime: at }, ' · ' + new Date(at).toLocaleTimeString()) : null));
  feedHandler = (ev) => {
    const b = ev.data;
    if (ev.event === 'booking.created') addFeed(b, 'New booking', ev.ts);
    else if (ev.event === 'booking.cancelled') addFeed(b, b.late ? 'Late cancellation' : 'Cancelled', ev.ts);
    else if (ev.event === 'booking.rescheduled') addFeed(b, 'Rescheduled', ev.ts);
  };
  live.watch(topic, (ev) => {
    for (const d of ev.data.days || []) st.open.set(d.date, d.open);
    for (const fs of editor.querySelectorAll('.day-edit')) {
      const open = st.open.get(fs.dataset.date) || [];
      $('.open', fs).textContent = 'Open now: ' + (open.length ? open.map((o) => `${o.start}–${o.end}`).join(', ') : 'none');
    }
  }, () => load());
  unread = 0; updateTitle();
  dispose = () => { live.unwatch(topic); feedHandler = null; };
  const upcoming = items(await api('GET', '/bookings?scope=upcoming').catch(() => []));
  if (!alive()) return;
  for (const b of upcoming.reverse()) addFeed(b, b.status === 'confirmed' ? 'Booked' : b.status);
  await load();
}

// ---------- the private user topic: booking notices for both roles ----------
let onUserEvent = null, feedHandler = null;
const ownActions = new Set(); // bookings this tab just changed: it already said so
function watchUser() {
  if (!auth.user) return;
  const topic = 'user:' + auth.user.id;
  if (live.topics.has(topic)) return;
  live.watch(topic, (ev) => {
    // The inbox's events belong to notifications.js (the bell).
    if (ev.event.startsWith('notification.')) { document.dispatchEvent(new CustomEvent('hub:notification', { detail: ev })); return; }
    // The server closes this socket (4001) right after; the refresh fails and the page signs out.
    if (ev.event === 'session.ended') { toast('Your password was changed: you were signed out everywhere.', 'info'); return; }
    if (ev.event === 'account.deleted') return;
    const b = ev.data || {};
    const line = lessonLine(b, auth.user?.id);
    const when = `${fmtDay(b.date)} ${b.start_time}–${b.end_time}${line ? ' · ' + line : ''}`;
    if (ownActions.delete(b.id)) { feedHandler?.(ev); onUserEvent?.(); return; }
    if (ev.event === 'booking.created') notify(`New booking: ${when} (${fmtMoney(b.price_cents)})`);
    else if (ev.event === 'booking.cancelled') notify(`${b.late ? 'Late cancellation' : 'Lesson cancelled'}: ${when}`);
    else if (ev.event === 'booking.rescheduled') notify(`Lesson moved to ${when}`);
    feedHandler?.(ev);
    onUserEvent?.();
  }, (seq) => {
    // History is gone: the lists come from REST again; live events go on from seq.
    const t = live.topics.get(topic);
    if (t) { t.seq = seq; live.subscribe(topic); }
    document.dispatchEvent(new CustomEvent('hub:notification-reset'));
    onUserEvent?.();
  });
}

window.addEventListener('hashchange', route);
scheduleRefresh();
route();
live.connect();
