// My lessons (#/lessons?scope=upcoming|past, #/lessons/<id> from emails and
// the confirmation): each lesson with its cancellation terms; cancel and
// reschedule are offered only when the server would accept them (the
// booking's can_cancel / can_reschedule) and say before acting whether a
// cancellation is free or late; report a no-show; add to calendar; the
// private calendar feed. The list reloads on the user topic's booking events.
import { api, auth, errorText, isInstructor, items } from '../api.js';
import { h, toast } from '../dom.js';
import { fmtDay, fmtMoney } from '../format.js';
import { onLeave } from '../nav.js';
import { ownActions, userHooks } from '../usertopic.js';
import { messageButton } from './messages.js';
import { downloadICS } from './booking-review.js';
import { lessonLine } from './shared.js';

export async function viewLessons(main, scope, focusId) {
  const list = h('ul', { class: 'lessons', 'aria-live': 'polite' });
  const tab = (s, text) => h('a', { href: '#/lessons?scope=' + s, class: 'chip', 'aria-current': s === scope ? 'page' : null }, text);
  main.append(h('section', { class: 'panel', 'aria-labelledby': 'l-h' }, h('h1', { id: 'l-h' }, 'My lessons'),
    h('nav', { class: 'chips', 'aria-label': 'Lessons' }, tab('upcoming', 'Upcoming'), tab('past', 'Past')), list),
  feedPanel());
  let focused = false;
  const load = async () => {
    let rows = items(await api('GET', '/bookings?scope=' + scope));
    // An emailed lesson may be past or cancelled: fetch it on its own.
    if (focusId && !rows.some((b) => b.id === focusId)) {
      const one = await api('GET', '/bookings/' + focusId).catch(() => null);
      if (one) rows = [one, ...rows];
    }
    if (!rows.length) return list.replaceChildren(h('li', { class: 'muted' }, scope === 'upcoming' ? 'No upcoming lessons.' : 'No past lessons.'));
    list.replaceChildren(...rows.map((b) => lessonItem(b, scope, load, b.id === focusId)));
    const mark = focusId && list.querySelector(`.lesson[data-id="${focusId}"]`);
    if (mark && !focused) { focused = true; mark.scrollIntoView({ block: 'center' }); mark.focus({ preventScroll: true }); }
  };
  userHooks.onUserEvent = load;
  onLeave(() => { userHooks.onUserEvent = null; });
  load().catch((e) => list.replaceChildren(h('li', { class: 'error', role: 'alert' }, errorText(e))));
}

// policyLine states a lesson's cancellation terms for the viewer now. The
// free-until instant carries the instructor's offset, so its wall clock is
// the lesson's own.
function policyLine(b) {
  if (b.status !== 'confirmed' || !b.can_cancel) return null;
  const when = b.free_until ? `${fmtDay(b.free_until.slice(0, 10), { weekday: 'long', month: 'long', day: 'numeric' })} at ${b.free_until.slice(11, 16)}` : null;
  const text = b.late_if_cancelled_now
    ? `Inside the ${b.cancellation_notice_hours}-hour notice: a cancellation now is marked late${b.can_reschedule ? '' : ', and it can no longer be moved'}.`
    : when ? `Free cancellation until ${when}.` : 'Free cancellation until the lesson starts.';
  return h('p', { class: 'muted policy', dataset: { late: String(!!b.late_if_cancelled_now) } }, text);
}

// lessonItem is one lesson with what the viewer may do with it.
function lessonItem(b, scope, reload, highlight) {
  const mine = !isInstructor() || b.instructor_id !== auth.user.id;
  const ended = Date.parse(b.ends_at) <= Date.now();
  const canReport = !mine && ended && Date.now() - Date.parse(b.ends_at) <= 48 * 3600e3 && ['confirmed', 'completed'].includes(b.status);
  const li = h('li', { class: 'lesson', tabindex: highlight ? '-1' : null, dataset: { id: b.id, status: b.status, highlight: highlight ? 'true' : null } },
    h('div', {}, h('strong', {}, `${fmtDay(b.date)} ${b.start_time}–${b.end_time}`),
      h('span', { class: 'who-what' }, ` ${lessonLine(b, auth.user.id) || 'Lesson'} · ${fmtMoney(b.price_cents)}`),
      b.status !== 'confirmed' ? h('span', { class: 'badge', dataset: { status: b.status } }, b.status.replace('_', '-')) : null,
      b.late ? h('span', { class: 'badge' }, 'late') : null,
      b.location?.address ? h('p', { class: 'muted address' }, b.location.address) : null,
      scope === 'upcoming' || highlight ? policyLine(b) : null,
      messageButton(mine ? b.instructor_id : b.student_id)),
    h('div', { class: 'row actions' },
      b.status === 'confirmed' && !ended ? h('button', { type: 'button', class: 'link', onclick: () => downloadICS(b) }, 'Add to calendar') : null,
      canReport ? h('button', { type: 'button', onclick: (e) => act(e, b, 'no-show', reload) }, 'Report no-show') : null,
      mine && b.can_reschedule ? h('a', { class: 'button', href: `#/instructors/${b.instructor_id}?reschedule=${b.id}` }, 'Reschedule') : null,
      b.can_cancel ? h('button', { type: 'button', onclick: () => askCancel(li, b, reload) }, 'Cancel') : null));
  return li;
}

// askCancel shows, inside the lesson, what cancelling means now (free or
// marked late) and asks once more.
function askCancel(li, b, reload) {
  li.querySelector('.confirm-cancel')?.remove();
  const late = b.late_if_cancelled_now;
  const box = h('div', { class: 'confirm-cancel', role: 'group', 'aria-label': 'Cancel this lesson?' },
    h('p', { class: late ? 'warn' : '' }, late
      ? `This lesson starts within the ${b.cancellation_notice_hours}-hour notice: the cancellation will be marked late and the instructor is told.`
      : 'Cancelling now is free. The time becomes open for others.'),
    h('div', { class: 'row' },
      h('button', { type: 'button', class: 'danger', onclick: (e) => act(e, b, 'cancel', reload) }, late ? 'Yes, cancel (late)' : 'Yes, cancel lesson'),
      h('button', { type: 'button', onclick: () => { box.remove(); li.querySelector('.actions button:last-child')?.focus(); } }, 'Keep it')));
  li.append(box);
  box.querySelector('button').focus();
}

// act cancels or reports a no-show, then reloads the list.
async function act(e, b, what, reload) {
  e.currentTarget.disabled = true;
  ownActions.add(b.id);
  try {
    if (what === 'cancel') { await api('POST', `/bookings/${b.id}/cancel`, {}); toast('Lesson cancelled.', 'success'); }
    else { await api('POST', `/bookings/${b.id}/no-show`); toast('Marked as no-show.', 'success'); }
    reload();
  } catch (ex) { e.target.disabled = false; toast(errorText(ex), 'error'); }
}

// feedPanel offers the private calendar feed: a secret URL a calendar app
// subscribes to; making a new one ends the old one.
function feedPanel() {
  const out = h('div', { class: 'feed-url' });
  const status = h('p', { class: 'muted', id: 'feed-status' });
  const make = h('button', { type: 'button', id: 'feed-make' }, 'Get a calendar feed link');
  make.addEventListener('click', async () => {
    make.disabled = true;
    try {
      const r = await api('POST', '/me/calendar-feed');
      const input = h('input', { id: 'feed-link', type: 'text', readonly: true, value: r.url, 'aria-describedby': 'feed-status' });
      out.replaceChildren(h('label', { for: 'feed-link' }, 'Your private feed (subscribe to it in your calendar app; keep it secret)'), input);
      input.select();
      status.textContent = 'A new link: any older one stopped working.';
      make.textContent = 'Make a new link';
    } catch (e) { status.textContent = errorText(e); } finally { make.disabled = false; }
  });
  api('GET', '/me/calendar-feed').then((r) => {
    if (r.active) { status.textContent = `You have a feed link since ${new Date(r.created_at).toLocaleDateString('en-US', { month: 'long', day: 'numeric' })}. It is shown only once: make a new one if you lost it.`; make.textContent = 'Make a new link'; }
  }).catch(() => {});
  return h('section', { class: 'panel', 'aria-labelledby': 'feed-h' }, h('h2', { id: 'feed-h' }, 'Calendar feed'),
    h('p', {}, 'Your upcoming lessons in your own calendar, updated as they change.'), status, make, out);
}
