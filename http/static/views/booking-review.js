// Review and confirm (the instructor page's second step): what is booked,
// when in words, with whom, where, the total price and the cancellation
// terms with the exact free-until time; one Confirm; then a confirmation
// with "Add to calendar" and a link to the lesson in My lessons.
import { api, apiBlob, errorText } from '../api.js';
import { h, toast } from '../dom.js';
import { fmtDay, fmtMoney, toHHMM, toMin, uuid } from '../format.js';
import { go } from '../nav.js';
import { ownActions } from '../usertopic.js';

// zonedInstant is the instant of the wall-clock date and time in tz.
export function zonedInstant(date, hhmm, tz) {
  const guess = Date.parse(`${date}T${hhmm}:00Z`);
  const offset = (t) => {
    const p = Object.fromEntries(new Intl.DateTimeFormat('en-US', { timeZone: tz, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit' })
      .formatToParts(t).map((x) => [x.type, x.value]));
    return Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute) - t;
  };
  const first = guess - offset(guess);
  return new Date(guess - offset(first)); // twice: right on either side of a DST change
}

// fmtInstant writes an instant as "Sunday, December 13 at 10:00" in tz.
export function fmtInstant(t, tz) {
  const day = t.toLocaleDateString('en-US', { timeZone: tz, weekday: 'long', month: 'long', day: 'numeric' });
  const time = t.toLocaleTimeString('en-GB', { timeZone: tz, hour: '2-digit', minute: '2-digit' });
  return `${day} at ${time}`;
}

// policyText states the cancellation terms of a lesson starting at start
// (an instant) with notice hours, as of now.
export function policyText(start, notice, tz) {
  if (!notice) return 'Free cancellation until the lesson starts.';
  const free = new Date(start.getTime() - notice * 3600e3);
  if (free <= new Date()) {
    return `This lesson starts within the ${notice}-hour cancellation notice: a cancellation will be marked late, and it cannot be moved.`;
  }
  return `Free cancellation until ${fmtInstant(free, tz)} (${tz}). After that, a cancellation is marked late and the lesson can no longer be moved.`;
}

// priceOf is what a lesson costs: the hourly rate for its length, in cents.
export const priceOf = (rateCents, minutes) => Math.round(rateCents * minutes / 60);

// summary is the review's description list.
function summary(rows) {
  return h('dl', { class: 'summary' }, rows.filter(Boolean).flatMap(([k, v, id]) => [h('dt', {}, k), h('dd', { id }, v)]));
}

// reviewPanel is the review step for a picked time. ctx: ins, tz, service,
// duration, area, address, moving (the lesson being moved, or null),
// onClose (back to picking), onBooked (after a new booking). It returns
// the section and update(open), which the page calls when live
// availability changes (a taken time disables Confirm and says so).
export function reviewPanel(pick, ctx) {
  const { ins, tz, service, duration, moving } = ctx;
  const end = toHHMM(toMin(pick.start) + duration);
  const start = zonedInstant(pick.date, pick.start, tz);
  const notice = ins.cancellation_notice_hours ?? 24;
  const when = `${fmtDay(pick.date, { weekday: 'long', month: 'long', day: 'numeric', year: 'numeric' })}, ${pick.start}–${end}`;
  const where = [ctx.area, ctx.address].filter(Boolean).join(' · ') || 'To be agreed with the instructor';
  const price = priceOf(service.hourly_rate_cents, duration);
  const status = h('p', { class: 'error', role: 'alert', id: 'review-error' });
  const confirmBtn = h('button', { type: 'button', class: 'primary', id: 'confirm-booking' }, moving ? 'Confirm new time' : 'Confirm booking');
  const back = h('button', { type: 'button', onclick: ctx.onClose }, 'Change time');
  const section = h('section', { id: 'review', class: 'panel review', 'aria-labelledby': 'review-h', dataset: { date: pick.date, start: pick.start } },
    h('h2', { id: 'review-h', tabindex: '-1' }, moving ? 'Review the new time' : 'Review and confirm'),
    moving ? h('p', {}, `Moving your lesson from ${fmtDay(moving.date, { weekday: 'long', month: 'long', day: 'numeric' })} at ${moving.start_time}.`) : null,
    summary([
      ['Lesson', `${service.name}, ${duration} minutes`, 'review-lesson'],
      ['When', `${when} (${tz})`, 'review-when'],
      ['Instructor', ins.full_name, 'review-instructor'],
      moving ? null : ['Where', where, 'review-where'],
      ['Total', `${fmtMoney(moving ? moving.price_cents : price)}${moving ? '' : ` (${fmtMoney(service.hourly_rate_cents)}/h × ${duration} min)`}`, 'review-price'],
      ['Cancellation', policyText(start, notice, tz), 'review-policy'],
    ]),
    status, h('div', { class: 'row' }, confirmBtn, back));
  confirmBtn.addEventListener('click', () => confirmPick(section, confirmBtn, status, pick, ctx, { when, where, price }));
  const update = (open) => {
    if (section.dataset.done) return;
    confirmBtn.disabled = !open;
    status.textContent = open ? '' : 'Sorry, this time was just taken. Pick another time.';
  };
  return { section, update };
}

// confirmPick books (or moves) the picked time and shows the result.
async function confirmPick(section, btn, status, pick, ctx, shown) {
  const { ins, service, duration, moving } = ctx;
  btn.disabled = true; status.textContent = '';
  try {
    if (moving) {
      ownActions.add(moving.id);
      await api('POST', `/bookings/${moving.id}/reschedule`, { date: pick.date, start_time: pick.start });
      toast(`Lesson moved to ${fmtDay(pick.date)} at ${pick.start}.`, 'success');
      return go('#/lessons/' + moving.id);
    }
    const b = await api('POST', '/bookings', {
      instructor_id: ins.id, instructor_service_id: service.id, date: pick.date, start_time: pick.start, duration_minutes: duration,
      ...(ctx.area ? { area: ctx.area } : {}), ...(ctx.address ? { address: ctx.address } : {}),
    }, { 'Idempotency-Key': uuid() });
    ownActions.add(b.id);
    section.dataset.done = 'true';
    ctx.onBooked?.();
    section.replaceChildren(...confirmation(b, ctx, shown));
    section.querySelector('h2').focus();
    toast(`Booked: ${service.name} with ${ins.full_name}, ${fmtDay(b.date)} ${b.start_time}–${b.end_time}${b.location?.area ? ' in ' + b.location.area : ''} (${fmtMoney(b.price_cents)}).`, 'success');
  } catch (e) {
    btn.disabled = e.code === 'slot_unavailable';
    status.textContent = e.code === 'slot_unavailable' ? 'Sorry, this time was just taken. Pick another time.'
      : e.code === 'email_unverified' ? 'Confirm your email address first: open the link we sent you (see the banner above), then confirm again.'
        : e.code === 'inside_cancellation_notice' ? 'This lesson starts within the cancellation notice: it can no longer be moved. You can still cancel it from My lessons.'
          : errorText(e);
  }
}

// confirmation is what the review becomes once booked.
function confirmation(b, ctx, shown) {
  const cal = h('button', { type: 'button', id: 'add-to-calendar', onclick: () => downloadICS(b) }, 'Add to calendar');
  return [
    h('h2', { id: 'review-h', tabindex: '-1' }, 'You’re booked'),
    h('p', { id: 'confirmation', dataset: { bookingId: b.id } }, `${ctx.service.name} with ${ctx.ins.full_name} is confirmed. We emailed you the details.`),
    summary([
      ['When', `${fmtDay(b.date, { weekday: 'long', month: 'long', day: 'numeric', year: 'numeric' })}, ${b.start_time}–${b.end_time} (${ctx.tz})`],
      ['Where', b.location?.area ? [b.location.area, b.location.address].filter(Boolean).join(' · ') : shown.where],
      ['Total', fmtMoney(b.price_cents)],
      ['Cancellation', policyText(new Date(b.starts_at || zonedInstant(b.date, b.start_time, ctx.tz)), ctx.ins.cancellation_notice_hours ?? 24, ctx.tz)],
    ]),
    h('div', { class: 'row' }, cal, h('a', { class: 'button', href: '#/lessons/' + b.id }, 'See it in My lessons'),
      h('button', { type: 'button', class: 'link', onclick: ctx.onClose }, 'Book another time')),
  ];
}

// downloadICS saves the lesson's calendar file (the request needs the
// session, so it is fetched, then saved from a blob).
export async function downloadICS(b) {
  try {
    const blob = await apiBlob(`/bookings/${b.id}/calendar.ics`);
    const url = URL.createObjectURL(new Blob([blob], { type: 'text/calendar' }));
    const a = h('a', { href: url, download: `lesson-${b.date}.ics`, hidden: true });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
  } catch (e) { toast(errorText(e), 'error'); }
}
