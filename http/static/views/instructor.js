// One instructor's page (#/instructors/<id>): the lesson, length and place
// pickers, the week as bookable start times that follow the live
// availability topic, then the review-and-confirm step (booking-review.js),
// and the instructor's bio and terms below the times.
//
// The URL keeps the choice: ?service_id= (the offer or the searched catalog
// service), &dur=, &area=, &date=&start= (the picked time), so signing in
// to continue, or reloading, comes back to the same picked time.
import { api, auth } from '../api.js';
import { live } from '../conn.js';
import { h, toast } from '../dom.js';
import { addDays, fmtDay, fmtMoney, mondayOf, toHHMM, toMin, wallClock } from '../format.js';
import { current, onLeave, signInFirst } from '../nav.js';
import { policyText, priceOf, reviewPanel, zonedInstant } from './booking-review.js';
import { watchPanel } from './watches.js';
import { messageButton } from './messages.js';
import { avatar } from './photo.js';
import { lookingLine, onlineBadge } from './presence.js';

// defaultService is the lesson preselected: the one being moved, else the
// service the student searched for (offer id or catalog service id), else
// the instructor's main service (their first offer, see docs), else the first.
export function defaultService(services, params, moving) {
  const want = moving?.instructor_service_id || params.get('service_id');
  return services.find((s) => s.id === want) || services.find((s) => s.service_id === want) ||
    services.find((s) => s.main) || services[0];
}

// viewInstructor draws the page. With ?reschedule=<booking id> a picked
// time moves that lesson instead of booking a new one.
export async function viewInstructor(main, id, params) {
  const topic = 'availability:' + id, alive = current();
  const week = h('section', { id: 'week', class: 'week', 'aria-labelledby': 'week-h', 'aria-busy': 'true' });
  main.append(week);
  const ins = await api('GET', '/instructors/' + id).catch((e) => { week.replaceChildren(h('p', { class: 'error', role: 'alert' }, e.message)); });
  if (!ins) return;
  const tz = ins.timezone || 'America/New_York';
  const services = (ins.services || []).filter((s) => s.is_active !== false);
  const moving = params.get('reschedule') && auth.user ? await api('GET', '/bookings/' + params.get('reschedule')).catch(() => null) : null;
  if (!alive()) return;
  const today = wallClock(new Date(), tz).date;
  const service = defaultService(services, params, moving);
  const dur = Number(params.get('dur'));
  const st = {
    // ?date= (a search's "next open", or a picked time) opens that week.
    weekStart: mondayOf(params.get('date') > today ? params.get('date') : today), days: new Map(), service,
    duration: moving ? toMin(moving.end_time) - toMin(moving.start_time)
      : service?.durations.includes(dur) ? dur : (service?.durations.includes(60) ? 60 : service?.durations[0]),
    picked: params.get('date') && /^\d\d:\d\d$/.test(params.get('start') || '') ? { date: params.get('date'), start: params.get('start') } : null,
    review: null,
  };
  const ctl = pickers(ins, services, st, moving, params, () => { closeReview(); remember(); draw(); });
  const title = h('h2', { id: 'week-h' });
  const prev = h('button', { type: 'button', onclick: () => { st.weekStart = addDays(st.weekStart, -7); load(); } }, '← Previous week');
  const next = h('button', { type: 'button', onclick: () => { st.weekStart = addDays(st.weekStart, 7); load(); } }, 'Next week →');
  const grid = h('div', { class: 'grid' });
  const refused = moving && moving.can_reschedule === false;
  week.before(headPanel(ins, tz, moving, ctl, refused));
  week.after(aboutPanel(ins, tz));
  if (refused) { week.remove(); return; }
  const looking = lookingLine(topic, auth.user?.id === id);
  onLeave(looking.stop);
  week.append(h('div', { class: 'row between' }, prev, title, next), looking.el, grid);
  const updWhere = () => {
    const dd = document.getElementById('review-where');
    if (dd) dd.textContent = [ctl.area.value, ctl.address.value.trim()].filter(Boolean).join(' · ') || 'To be agreed with the instructor';
    remember();
  };
  ctl.area.addEventListener('change', updWhere);
  ctl.address.addEventListener('input', updWhere);
  const watch = moving || auth.user?.id === id ? null : watchPanel(id, ins, tz);
  if (watch) week.after(watch.el);

  const remember = () => rememberChoice(id, st, moving, ctl);
  function closeReview() {
    st.review?.section.remove(); st.review = null; st.picked = null;
    remember(); draw();
  }
  function openReview(pick) {
    st.review?.section.remove();
    st.picked = pick; remember();
    st.review = reviewPanel(pick, { ins, tz, service: st.service, duration: st.duration, moving,
      // Read when confirming: the place may still be changed during the review.
      get area() { return ctl.area.value; }, get address() { return ctl.address.value.trim(); },
      onClose: () => { closeReview(); grid.querySelector('.slot')?.focus(); },
      // Booked: a reload shows the week, not a review of a taken time.
      onBooked: () => { st.picked = null; remember(); draw(); } });
    week.before(st.review.section);
    st.review.section.scrollIntoView({ block: 'start' });
    st.review.section.querySelector('h2').focus({ preventScroll: true });
    draw();
  }
  function pick(date, start) {
    // Signing in to continue comes back to this page with this time picked.
    if (!auth.user) { st.picked = { date, start }; remember(); return signInFirst(location.hash); }
    openReview({ date, start });
  }

  // draw redraws the week (after a load, a live change or a new choice).
  function draw() {
    prev.disabled = st.weekStart <= mondayOf(today);
    title.textContent = `Week of ${fmtDay(st.weekStart, { month: 'long', day: 'numeric', year: 'numeric' })}`;
    Object.assign(week.dataset, { instructorId: id, serviceId: st.service?.id || '', duration: st.duration || '', weekStart: st.weekStart });
    const { cols, pickedOpen } = weekColumns(st, tz, moving, pick);
    // Keep keyboard focus on the same slot (or its day) across live redraws.
    const f = document.activeElement?.closest?.('.slot');
    grid.replaceChildren(...cols);
    watch?.update(st);
    if (f && grid.isConnected) (grid.querySelector(`.slot[data-date="${f.dataset.date}"][data-start="${f.dataset.start}"]`) || grid.querySelector(`.day[data-date="${f.dataset.date}"] .slot`))?.focus();
    // The picked time is in another week while browsing: only a loaded week says it is gone.
    const inWeek = st.picked && st.picked.date >= st.weekStart && st.picked.date <= addDays(st.weekStart, 6);
    if (inWeek && week.getAttribute('aria-busy') === 'false') st.review?.update(pickedOpen);
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
  // Back from signing in (or a reload) with a picked time: review it.
  if (st.picked && auth.user && alive()) openReview(st.picked);
}

// rememberChoice keeps the choice in the URL without a new history entry,
// so a reload or a sign-in comes back to it.
function rememberChoice(id, st, moving, ctl) {
  const q = new URLSearchParams();
  if (moving) q.set('reschedule', moving.id);
  if (st.service) q.set('service_id', st.service.id);
  if (st.duration) q.set('dur', st.duration);
  if (ctl.area.value) q.set('area', ctl.area.value);
  if (st.picked) { q.set('date', st.picked.date); q.set('start', st.picked.start); }
  history.replaceState(null, '', `#/instructors/${id}?${q}`);
}

// weekColumns turns the week's open intervals into days of start-time
// buttons (15-minute steps that fit the length, at least an hour from now);
// pickedOpen says whether the picked time is still among them.
function weekColumns(st, tz, moving, pick) {
  const min = wallClock(new Date(Date.now() + 3600e3), tz);
  const minKey = min.date + ' ' + min.time;
  const cols = [];
  let pickedOpen = false;
  for (let i = 0; i < 7; i++) {
    const date = addDays(st.weekStart, i);
    const slots = startTimes(date, st.days.get(date) || [], st.duration, minKey);
    if (st.picked?.date === date && slots.includes(st.picked.start)) pickedOpen = true;
    cols.push(h('div', { class: 'day' + (slots.length ? '' : ' empty'), role: 'group', 'aria-labelledby': 'd-' + date, dataset: { date } },
      h('h3', { id: 'd-' + date }, fmtDay(date)),
      slots.length ? slots.map((s) => h('button', {
        type: 'button', class: 'slot', dataset: { date, start: s },
        'aria-pressed': String(st.picked?.date === date && st.picked?.start === s),
        'aria-label': `${moving ? 'Move lesson to' : 'Book'} ${fmtDay(date, { weekday: 'long', month: 'long', day: 'numeric' })} at ${s}, ${st.duration} minutes`,
        onclick: () => pick(date, s),
      }, s)) : h('p', { class: 'muted' }, 'No open times')));
  }
  return { cols, pickedOpen };
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

// pickers builds the lesson, length, area and address controls; changed()
// runs after a change of lesson or length (the picked time is dropped).
function pickers(ins, services, st, moving, params, changed) {
  const price = () => st.service ? `${fmtMoney(priceOf(st.service.hourly_rate_cents, st.duration))} for ${st.duration} minutes` : '';
  const total = h('p', { id: 'price-line', class: 'price-line', 'aria-live': 'polite' }, price());
  const durOptions = () => (st.service?.durations || []).map((d) => h('option', { value: d, selected: d === st.duration }, `${d} min`));
  const svc = h('select', { id: 'svc', disabled: !!moving, onchange: () => {
    st.service = services.find((s) => s.id === svc.value);
    if (!st.service.durations.includes(st.duration)) st.duration = st.service.durations.includes(60) ? 60 : st.service.durations[0];
    dur.replaceChildren(...durOptions()); total.textContent = price(); changed();
  } }, services.map((s) => h('option', { value: s.id, selected: s === st.service }, `${s.name} — ${fmtMoney(s.hourly_rate_cents)}/h`)));
  const dur = h('select', { id: 'dur', disabled: !!moving, onchange: () => { st.duration = Number(dur.value); total.textContent = price(); changed(); } }, durOptions());
  const areas = ins.areas || [];
  const area = h('select', { id: 'area', disabled: !!moving }, areas.map((a) => h('option', { value: a, selected: a === params.get('area') }, a)));
  const address = h('input', { id: 'address', type: 'text', maxlength: 300, autocomplete: 'street-address', disabled: !!moving,
    placeholder: 'e.g. 31-00 47th Ave, apt 4 — buzz twice' });
  return { svc, dur, area, address, total };
}

// headPanel is the top of the page: who, where, and the pickers.
function headPanel(ins, tz, moving, { svc, dur, area, address, total }, refused) {
  const field = (id, label, control) => h('div', { class: 'field' }, h('label', { for: id }, label), control);
  const notice = ins.cancellation_notice_hours ?? 24;
  return h('section', { class: 'panel ins-head', 'aria-labelledby': 'ins-h' },
    h('div', { class: 'row between' },
      h('div', { class: 'card-head' }, avatar(ins.full_name, ins.photo_url, 'large'),
        h('div', {}, h('h1', { id: 'ins-h' }, ins.full_name, onlineBadge(ins.online)), h('p', { class: 'muted' }, (ins.areas || []).join(' · ') + ` · times in ${tz}`))),
      messageButton(ins.id, 'Message ' + ins.full_name.split(' ')[0])),
    moving ? h('p', { class: 'banner', id: 'moving' }, refused
      ? `Your lesson on ${fmtDay(moving.date)} at ${moving.start_time} starts within the ${notice}-hour cancellation notice: it can no longer be moved. You can still cancel it in My lessons (a late cancellation).`
      : `Pick a new time for your lesson on ${fmtDay(moving.date)} at ${moving.start_time}. ${policyText(zonedInstant(moving.date, moving.start_time, tz), notice, tz)}`) : null,
    refused ? h('a', { class: 'button', href: '#/lessons/' + moving.id }, 'Back to My lessons') : h('div', { class: 'pickers' },
      field('svc', 'Lesson', svc), field('dur', 'Length', dur),
      moving || !(ins.areas || []).length ? null : field('area', 'Where', area),
      moving ? null : field('address', 'Address or meeting note (optional, only you and the instructor see it)', address)),
    refused ? null : total);
}

// aboutPanel is the bio and the cancellation terms, below the times.
function aboutPanel(ins, tz) {
  const notice = ins.cancellation_notice_hours ?? 24;
  return h('section', { class: 'panel about', 'aria-labelledby': 'about-h' },
    h('h2', { id: 'about-h' }, `About ${ins.full_name}`),
    ins.bio ? h('p', {}, ins.bio) : null,
    h('p', { class: 'muted', id: 'notice' }, notice
      ? `Free cancellation up to ${notice} hours before the lesson; later cancellations are marked late and the lesson can no longer be moved. Times are in ${tz}.`
      : 'Free cancellation until the lesson starts.'));
}
