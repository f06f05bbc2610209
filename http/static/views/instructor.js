// One instructor's week (#/instructors/<id>) as bookable start times that
// follow the live availability topic.
import { api, auth, errorText } from '../api.js';
import { live } from '../conn.js';
import { h, toast } from '../dom.js';
import { addDays, fmtDay, fmtMoney, mondayOf, toHHMM, toMin, uuid, wallClock } from '../format.js';
import { current, go, onLeave } from '../nav.js';
import { ownActions } from '../usertopic.js';
import { messageButton } from './messages.js';
import { avatar } from './photo.js';
import { lookingLine, onlineBadge } from './presence.js';

// viewInstructor shows one instructor's week as bookable start times that
// follow the live availability topic. With ?reschedule=<booking id> a click
// moves that lesson instead of booking a new one.
export async function viewInstructor(main, id, params) {
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
  const title = h('h2', { id: 'week-h' });
  const prev = h('button', { type: 'button', onclick: () => { st.weekStart = addDays(st.weekStart, -7); load(); } }, '← Previous week');
  const next = h('button', { type: 'button', onclick: () => { st.weekStart = addDays(st.weekStart, 7); load(); } }, 'Next week →');
  const grid = h('div', { class: 'grid' });
  week.before(instructorPanel(ins, tz, moving, { svcSel, durSel, areaSel, address }));
  const looking = lookingLine(topic, auth.user?.id === id);
  onLeave(looking.stop);
  week.append(h('div', { class: 'row between' }, prev, title, next), looking.el, grid);

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
      const slots = startTimes(date, st.days.get(date) || [], st.duration, minKey);
      cols.push(h('div', { class: 'day', role: 'group', 'aria-labelledby': 'd-' + date, dataset: { date } },
        h('h3', { id: 'd-' + date }, fmtDay(date)),
        slots.length ? slots.map((s) => h('button', {
          type: 'button', class: 'slot', dataset: { date, start: s },
          'aria-label': `${moving ? 'Move lesson to' : 'Book'} ${fmtDay(date, { weekday: 'long', month: 'long', day: 'numeric' })} at ${s}, ${st.duration} minutes`,
          onclick: (e) => book(e.currentTarget, date, s, { id, ins, st, moving, areaSel, address }),
        }, s)) : h('p', { class: 'muted' }, 'No open times')));
    }
    // Keep keyboard focus on the same slot (or its day) across live redraws.
    const f = document.activeElement?.closest?.('.slot');
    grid.replaceChildren(...cols);
    if (f) (grid.querySelector(`.slot[data-date="${f.dataset.date}"][data-start="${f.dataset.start}"]`) || grid.querySelector(`.day[data-date="${f.dataset.date}"] .slot`))?.focus();
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
  onLeave(() => live.unwatch(topic));
  // Refresh the "one hour from now" cut-off as time passes.
  const tick = setInterval(draw, 60000);
  onLeave(() => clearInterval(tick));
  await load();
}

// book books the slot, or moves the lesson being rescheduled onto it.
async function book(btn, date, start, { id, ins, st, moving, areaSel, address }) {
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

// startTimes turns a day's open intervals into start times at 15-minute
// steps that fit the lesson's length and are not before minKey ("date HH:MM").
function startTimes(date, intervals, duration, minKey) {
  const slots = [];
  for (const iv of intervals) {
    const end = toMin(iv.end);
    for (let m = Math.ceil(toMin(iv.start) / 15) * 15; m + duration <= end; m += 15) {
      if (date + ' ' + toHHMM(m) >= minKey) slots.push(toHHMM(m));
    }
  }
  return slots;
}

// instructorPanel is the head of the page: who, where, the lesson and
// length pickers, where to meet and the cancellation terms.
function instructorPanel(ins, tz, moving, { svcSel, durSel, areaSel, address }) {
  const notice = ins.cancellation_notice_hours ?? 24;
  return h('section', { class: 'panel', 'aria-labelledby': 'ins-h' },
    h('div', { class: 'row between' },
      h('div', { class: 'card-head' }, avatar(ins.full_name, ins.photo_url, 'large'),
        h('div', {}, h('h1', { id: 'ins-h' }, ins.full_name, onlineBadge(ins.online)), h('p', { class: 'muted' }, (ins.areas || []).join(' · ') + ` · times in ${tz}`))),
      messageButton(ins.id, 'Message ' + ins.full_name.split(' ')[0])),
    ins.bio ? h('p', {}, ins.bio) : null,
    moving ? h('p', { class: 'banner' }, `Pick a new time for your lesson on ${fmtDay(moving.date)} at ${moving.start_time}.`) : null,
    h('div', { class: 'row' }, h('label', { for: 'svc' }, 'Lesson'), svcSel, h('label', { for: 'dur' }, 'Length'), durSel),
    moving ? null : h('div', { class: 'row' }, (ins.areas || []).length ? [h('label', { for: 'area' }, 'Where'), areaSel] : null,
      h('label', { for: 'address' }, 'Address or meeting note (optional, only you and the instructor see it)'), address),
    h('p', { class: 'muted', id: 'notice' }, notice
      ? `Free cancellation up to ${notice} hours before the lesson; later cancellations are marked late and the lesson can no longer be moved.`
      : 'Free cancellation until the lesson starts.'));
}
