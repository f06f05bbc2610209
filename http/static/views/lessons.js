// My lessons (#/lessons?scope=upcoming|past): cancel, reschedule, report a
// no-show; the list reloads on the user topic's booking events.
import { api, auth, errorText, isInstructor, items } from '../api.js';
import { h, toast } from '../dom.js';
import { fmtDay, fmtMoney } from '../format.js';
import { onLeave } from '../nav.js';
import { ownActions, userHooks } from '../usertopic.js';
import { messageButton } from './messages.js';
import { lessonLine } from './shared.js';

export async function viewLessons(main, scope) {
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
          b.location?.address ? h('p', { class: 'muted address' }, b.location.address) : null,
          messageButton(mine ? b.instructor_id : b.student_id)),
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
  userHooks.onUserEvent = load;
  onLeave(() => { userHooks.onUserEvent = null; });
  load().catch((e) => list.replaceChildren(h('li', { class: 'error', role: 'alert' }, e.message)));
}
