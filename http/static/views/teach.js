// My week (#/teach), the instructor's page: a live feed of incoming bookings
// and an editor for the week's availability windows (saved atomically with
// PUT week).
import { api, auth, errorText, items } from '../api.js';
import { live } from '../conn.js';
import { $, clearUnread, h, toast } from '../dom.js';
import { addDays, fmtDay, fmtMoney, mondayOf, wallClock } from '../format.js';
import { current, onLeave } from '../nav.js';
import { userHooks } from '../usertopic.js';
import { photoField } from './photo.js';
import { instructorOf, lessonLine } from './shared.js';

export async function viewTeach(main) {
  const me = auth.user.id, topic = 'availability:' + me, alive = current();
  const mine = await instructorOf(me);
  const tz = mine?.timezone || 'America/New_York';
  if (!alive()) return;
  const st = { weekStart: mondayOf(wallClock(new Date(), tz).date), windows: new Map(), open: new Map() };
  const feed = h('ol', { id: 'feed', class: 'feed', role: 'log', 'aria-live': 'polite', 'aria-label': 'Incoming bookings' });
  const editor = h('div', { class: 'editor' });
  const title = h('h2', { id: 'wk-h' });
  const status = h('p', { class: 'muted', role: 'status' });
  main.append(
    h('section', { class: 'panel', 'aria-labelledby': 'feed-h' }, h('h1', { id: 'feed-h' }, 'Incoming bookings'), feed),
    h('section', { class: 'panel', 'aria-labelledby': 'wk-h' },
      h('div', { class: 'row between' },
        h('button', { type: 'button', onclick: () => { st.weekStart = addDays(st.weekStart, -7); load(); } }, '← Previous'), title,
        h('button', { type: 'button', onclick: () => { st.weekStart = addDays(st.weekStart, 7); load(); } }, 'Next →')),
      editor,
      h('div', { class: 'row' }, h('button', { type: 'button', class: 'primary', onclick: save }, 'Save week'), status),
      patternRow(st, tz)),
    h('details', { class: 'panel photo-panel' }, h('summary', {}, 'Your photo'),
      photoField(mine?.full_name || auth.user.full_name, mine?.photo_url, undefined, 'teach-photo')));

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
  const addFeed = (b, verb, at) => feed.prepend(feedItem(b, verb, at, me));
  userHooks.feed = (ev) => {
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
  clearUnread();
  onLeave(() => { live.unwatch(topic); userHooks.feed = null; });
  const upcoming = items(await api('GET', '/bookings?scope=upcoming').catch(() => []));
  if (!alive()) return;
  for (const b of upcoming.reverse()) addFeed(b, b.status === 'confirmed' ? 'Booked' : b.status);
  await load();
}

// feedItem is one line of the incoming-bookings feed (data-event is the verb).
function feedItem(b, verb, at, me) {
  return h('li', { dataset: { id: b.id, event: verb } },
    h('strong', {}, verb), ` ${fmtDay(b.date)} ${b.start_time}–${b.end_time} · ${lessonLine(b, me)} · ${fmtMoney(b.price_cents)}`,
    at ? h('time', { class: 'muted', datetime: at }, ' · ' + new Date(at).toLocaleTimeString()) : null);
}

// patternRow copies the shown week to the next one, or repeats it until a
// date. Both reuse copy-week and apply-pattern: the saved week (not unsaved
// edits) is what gets copied.
function patternRow(st, tz) {
  const repeatUntil = h('input', { id: 'repeat-until', type: 'date' });
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
  return h('div', { class: 'row' },
    h('button', { type: 'button', onclick: copyNext }, 'Copy this week to next week'),
    h('label', { for: 'repeat-until' }, 'Repeat this week until'), repeatUntil,
    h('button', { type: 'button', onclick: repeat }, 'Repeat'));
}
