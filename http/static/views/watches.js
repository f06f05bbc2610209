// Watches ("tell me when a time opens"): the form under an instructor's
// week, the list of the user's watches (#/watches) and the live pop-up when
// a watched time opens (the slot.opened notification on the user topic).
import { api, auth, errorText, items } from '../api.js';
import { h, toast } from '../dom.js';
import { addDays, fmtDay, wallClock } from '../format.js';
import { go } from '../nav.js';

const DAYS = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'];
const PARTS = [['', 'Any time'], ['morning', 'Mornings (6–12)'], ['afternoon', 'Afternoons (12–17)'], ['evening', 'Evenings (17–23)']];
const MAX_DAYS = 60;
const cap = (s) => s[0].toUpperCase() + s.slice(1);

// watchPanel is the "Tell me when a time opens" form for instructor id,
// shown under the week. update(st) follows the week on view: its dates are
// the default range, and a week without open time says so first.
export function watchPanel(id, ins, tz) {
  const today = () => wallClock(new Date(), tz).date;
  const days = DAYS.map((d) => h('input', { type: 'checkbox', name: 'watch-day', value: d, id: 'wd-' + d }));
  const part = h('select', { id: 'watch-part' }, PARTS.map(([v, t]) => h('option', { value: v }, t)));
  const from = h('input', { id: 'watch-from', type: 'date', required: true });
  const to = h('input', { id: 'watch-to', type: 'date', required: true });
  const status = h('p', { class: 'muted', id: 'watch-status', role: 'status' });
  const lead = h('p', { id: 'watch-lead' });
  const submit = h('button', { class: 'primary', type: 'submit', id: 'watch-submit' }, 'Tell me when a time opens');
  const form = h('form', { class: 'stack', onsubmit: async (e) => {
    e.preventDefault();
    if (!auth.user) return go('#/login');
    submit.disabled = true;
    const body = { instructor_id: id, days: days.filter((c) => c.checked).map((c) => c.value),
      time_of_day: part.value || null, from: from.value, to: to.value };
    try {
      await api('POST', '/watches', body);
      status.textContent = `Watching. We'll tell you when ${ins.full_name} has a matching time open.`;
      toast(`Watching ${ins.full_name}'s schedule.`, 'success');
    } catch (err) { status.textContent = errorText(err); } finally { submit.disabled = false; }
  } },
  h('fieldset', { class: 'choices' }, h('legend', {}, 'Days (none ticked: any day)'),
    days.map((c) => h('label', { class: 'choice', for: c.id }, c, ' ' + cap(c.value)))),
  h('div', { class: 'row' }, h('label', { for: 'watch-part' }, 'Part of day'), part,
    h('label', { for: 'watch-from' }, 'From'), from, h('label', { for: 'watch-to' }, 'To'), to),
  h('div', { class: 'row' }, submit, h('a', { href: '#/watches' }, 'My watches')), status);
  const el = h('section', { class: 'panel watch-panel', id: 'watch-panel', 'aria-labelledby': 'watch-h' },
    h('h2', { id: 'watch-h' }, 'Tell me when a time opens'), lead, form);

  let shownWeek = null;
  // update follows the week on view (st: weekStart, days: date → open intervals).
  function update(st) {
    const empty = ![...st.days.values()].some((open) => open.length);
    el.dataset.empty = String(empty);
    lead.textContent = empty
      ? `${ins.full_name} has no open time this week. Pick the days and part of day you want; we'll tell you (in the bell, by push and by email) when one opens.`
      : `Nothing that suits you? We'll tell you when ${ins.full_name} opens a time you want.`;
    if (shownWeek === st.weekStart) return;
    shownWeek = st.weekStart;
    const start = st.weekStart > today() ? st.weekStart : today();
    from.value = start; from.min = today();
    to.value = addDays(start, 13); to.min = start; to.max = addDays(start, MAX_DAYS - 1);
  }
  return { el, update };
}

// viewWatches is #/watches: the user's watches, each with Delete.
export async function viewWatches(main) {
  const list = h('ul', { class: 'lessons', id: 'watch-list', 'aria-live': 'polite' });
  main.append(h('section', { class: 'panel', 'aria-labelledby': 'w-h' }, h('h1', { id: 'w-h' }, 'My watches'),
    h('p', { class: 'muted' }, 'We tell you when one of these instructors opens a time you asked for (at most once an hour per watch).'), list));
  const load = async () => {
    const rows = items(await api('GET', '/watches'));
    if (!rows.length) return list.replaceChildren(h('li', { class: 'muted' }, 'No watches. Open an instructor\'s week and choose "Tell me when a time opens".'));
    list.replaceChildren(...rows.map((w) => h('li', { class: 'lesson', dataset: { id: w.id } },
      h('div', {}, h('a', { href: `#/instructors/${w.instructor_id}?date=${w.from}` }, h('strong', {}, w.instructor.full_name)),
        h('span', {}, ` · ${describe(w)}`)),
      h('button', { type: 'button', 'aria-label': `Delete the watch of ${w.instructor.full_name}, ${describe(w)}`, onclick: async (e) => {
        e.currentTarget.disabled = true;
        try { await api('DELETE', '/watches/' + w.id); toast('Watch deleted.', 'success'); load(); } catch (ex) { toast(errorText(ex), 'error'); }
      } }, 'Delete'))));
  };
  load().catch((e) => list.replaceChildren(h('li', { class: 'error', role: 'alert' }, e.message)));
}

// describe says what a watch matches: "Saturdays, mornings, Dec 12 – Dec 26".
function describe(w) {
  const days = w.days.length ? w.days.map((d) => cap(d) + 's').join(', ') : 'Any day';
  const part = w.time_of_day ? w.time_of_day + 's' : 'any time';
  return `${days}, ${part}, ${fmtDay(w.from)} – ${fmtDay(w.to)}`;
}

// mountWatchAlerts pops "Saturday 10:00 just opened" the moment a watched
// time opens (the bell counts it too). Call once.
export function mountWatchAlerts() {
  document.addEventListener('hub:notification', (e) => {
    const ev = e.detail;
    if (ev.event === 'notification.created' && ev.data?.kind === 'slot.opened') toast(`${ev.data.title}: ${ev.data.body}`, 'opened');
  });
}
