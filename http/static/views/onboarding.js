// The instructor's onboarding / self-service in three steps: profile,
// offers (lessons and prices), first week.
import { api, auth, errorText, items } from '../api.js';
import { h, toast } from '../dom.js';
import { addDays, fmtDay, mondayOf, wallClock } from '../format.js';
import { current, go } from '../nav.js';
import { photoField } from './photo.js';
import { field, instructorCache } from './shared.js';

const TIMEZONES = ['America/New_York', 'America/Chicago', 'America/Denver', 'America/Phoenix', 'America/Los_Angeles',
  'America/Anchorage', 'Pacific/Honolulu'];
const LESSON_LENGTHS = [30, 45, 60, 90, 120];

// viewOnboarding is the instructor's self-service in three steps (profile,
// offers, first week). A new instructor walks through them in order; later
// the same page edits the profile and offers (#/onboarding/profile…).
export async function viewOnboarding(main, step) {
  const alive = current();
  const steps = [['profile', '1. Profile'], ['offers', '2. Lessons & prices'], ['week', '3. First week']];
  step = steps.some(([s]) => s === step) ? step : 'profile';
  const me = await api('GET', '/instructors/me').catch((e) => { main.append(h('p', { class: 'error', role: 'alert' }, errorText(e))); });
  if (!me || !alive()) return;
  main.append(h('nav', { class: 'chips', 'aria-label': 'Set-up steps' }, steps.map(([s, text]) =>
    h('a', { class: 'chip', href: '#/onboarding/' + s, 'aria-current': s === step ? 'step' : null }, text))));
  const panel = h('section', { class: 'panel', 'aria-labelledby': 'ob-h' });
  main.append(panel);
  if (step === 'profile') return onboardProfile(panel, me);
  if (step === 'offers') return onboardOffers(panel, me, alive);
  return onboardWeek(panel, me);
}

async function onboardProfile(panel, me) {
  const err = h('p', { class: 'error', role: 'alert' });
  const bio = h('textarea', { rows: 4, maxlength: 2000 }, me.bio || '');
  const years = h('input', { type: 'number', min: 0, max: 80, step: 1, value: me.years_experience ?? 0, required: true });
  const tz = h('select', {}, [...new Set([me.timezone, ...TIMEZONES])].map((z) => h('option', { value: z, selected: z === me.timezone }, z)));
  const notice = h('input', { type: 'number', min: 0, max: 336, step: 1, value: me.cancellation_notice_hours ?? 24, required: true });
  const areas = h('fieldset', { class: 'areas' }, h('legend', {}, 'Neighbourhoods you teach in'));
  const chosen = new Set(me.areas || []);
  const list = items(await api('GET', '/areas').catch(() => ({ items: [] })));
  const known = new Set(list.map((a) => a.name));
  const byBorough = new Map();
  for (const a of list) byBorough.set(a.borough, [...(byBorough.get(a.borough) || []), a.name]);
  const extra = [...chosen].filter((a) => !known.has(a));
  if (extra.length) byBorough.set('Other', extra);
  for (const [borough, names] of byBorough) {
    areas.append(h('div', { class: 'borough' }, h('h3', {}, borough), h('div', { class: 'chips' }, names.map((n) =>
      h('label', { class: 'chip' }, h('input', { type: 'checkbox', value: n, checked: chosen.has(n) }), ' ' + n)))));
  }
  const save = h('button', { type: 'submit', class: 'primary' }, 'Save and continue');
  panel.append(h('h1', { id: 'ob-h' }, 'Your profile'),
    h('p', { class: 'muted' }, 'Students see this on your listing.'),
    photoField(me.full_name, me.photo_url), // saved on its own, before the form below
    h('form', {
      class: 'stack',
      onsubmit: async (e) => {
        e.preventDefault(); err.textContent = '';
        const picked = [...areas.querySelectorAll('input:checked')].map((i) => i.value);
        if (!picked.length) { err.textContent = 'Pick at least one neighbourhood: students choose where the lesson happens.'; return; }
        save.disabled = true;
        try {
          await api('PUT', '/instructors/me', {
            bio: bio.value.trim(), years_experience: Number(years.value), areas: picked,
            timezone: tz.value, cancellation_notice_hours: Number(notice.value),
          });
          instructorCache.delete(auth.user.id);
          toast('Profile saved.', 'success');
          go('#/onboarding/offers');
        } catch (ex) { err.textContent = errorText(ex); } finally { save.disabled = false; }
      },
    }, field('ob-bio', 'About you', bio), field('ob-years', 'Years of experience', years), areas,
    field('ob-tz', 'Time zone', tz),
    field('ob-notice', 'Cancellation notice (hours)', notice,
      'Students who cancel closer to the lesson than this are marked late, and you are told. They can no longer reschedule it.'),
    err, save));
}

async function onboardOffers(panel, me, alive) {
  const err = h('p', { class: 'error', role: 'alert' });
  const offers = h('ul', { class: 'lessons', id: 'offers' });
  const cats = items(await api('GET', '/categories').catch(() => []));
  if (!alive()) return;
  const cat = h('select', { onchange: () => loadServices() }, cats.map((c) => h('option', { value: c.id }, c.name)));
  const svc = h('select', { required: true });
  const rate = h('input', { type: 'number', min: 1, max: 100000, step: 1, value: 60, required: true });
  const lengths = h('fieldset', { class: 'choices' }, h('legend', {}, 'Lesson lengths'),
    LESSON_LENGTHS.map((m) => h('label', { class: 'choice' }, h('input', { type: 'checkbox', value: m, checked: m === 60 }), ` ${m} min`)));
  async function loadServices() {
    const list = items(await api('GET', '/services?category=' + encodeURIComponent(cat.value)).catch(() => []));
    svc.replaceChildren(...list.map((s) => h('option', { value: s.id }, s.name)));
  }
  const durationsOf = (root) => [...root.querySelectorAll('input[type=checkbox]:checked')].map((i) => Number(i.value));
  async function drawOffers() {
    const mine = (await api('GET', '/instructors/me')).services.filter((s) => s.is_active);
    offers.replaceChildren(...(mine.length ? mine.map(offerRow) : [h('li', { class: 'muted' }, 'No lessons offered yet.')]));
    next.hidden = !mine.length;
  }
  function offerRow(s) {
    const r = h('input', { type: 'number', min: 1, max: 100000, step: 1, value: s.hourly_rate_cents / 100, 'aria-label': `${s.name} rate per hour in dollars` });
    const d = h('span', { class: 'row' }, LESSON_LENGTHS.map((m) => h('label', { class: 'choice' },
      h('input', { type: 'checkbox', value: m, checked: s.durations.includes(m), 'aria-label': `${s.name} ${m} minutes` }), ` ${m}`)));
    return h('li', { class: 'lesson', dataset: { id: s.id } }, h('strong', {}, s.name),
      h('span', { class: 'row' }, '$', r, '/h', d),
      h('span', { class: 'row' },
        h('button', { type: 'button', onclick: async () => {
          try { await api('PATCH', '/instructors/me/services/' + s.id, { hourly_rate_cents: Math.round(Number(r.value) * 100), durations: durationsOf(d) }); toast(`${s.name} updated.`, 'success'); drawOffers(); } catch (ex) { toast(errorText(ex), 'error'); }
        } }, 'Save'),
        h('button', { type: 'button', onclick: async () => {
          if (!confirm(`Stop offering ${s.name}? Booked lessons stay.`)) return;
          try { await api('DELETE', '/instructors/me/services/' + s.id); drawOffers(); } catch (ex) { toast(errorText(ex), 'error'); }
        } }, 'Remove')));
  }
  const next = h('a', { class: 'button primary', href: '#/onboarding/week', hidden: true }, 'Continue to your first week');
  const add = h('button', { type: 'submit', class: 'primary' }, 'Add lesson');
  panel.append(h('h1', { id: 'ob-h' }, 'Lessons and prices'), offers,
    h('form', {
      class: 'stack', 'aria-label': 'Offer a lesson',
      onsubmit: async (e) => {
        e.preventDefault(); err.textContent = '';
        add.disabled = true;
        try {
          await api('POST', '/instructors/me/services', { service_id: svc.value, hourly_rate_cents: Math.round(Number(rate.value) * 100), durations: durationsOf(lengths) });
          instructorCache.delete(auth.user.id);
          toast('Lesson added.', 'success');
          await drawOffers();
        } catch (ex) { err.textContent = errorText(ex); } finally { add.disabled = false; }
      },
    }, h('h2', {}, 'Offer a lesson'), field('of-cat', 'Category', cat), field('of-svc', 'Lesson', svc),
    field('of-rate', 'Rate per hour (USD)', rate), lengths, err, add), next);
  await loadServices();
  await drawOffers();
}

// onboardWeek sets a weekly pattern from next Monday and repeats it for a
// few weeks (PUT week, then apply-pattern); the week editor on "My week"
// refines it later.
function onboardWeek(panel, me) {
  const err = h('p', { class: 'error', role: 'alert' });
  const tz = me.timezone || 'America/New_York';
  const start = addDays(mondayOf(wallClock(new Date(), tz).date), 7);
  const names = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'];
  const days = h('fieldset', { class: 'choices' }, h('legend', {}, 'Days'),
    names.map((n, i) => h('label', { class: 'choice' }, h('input', { type: 'checkbox', value: i, checked: i < 5 }), ' ' + n)));
  const from = h('input', { type: 'time', step: 900, value: '09:00', required: true });
  const until = h('input', { type: 'time', step: 900, value: '17:00', required: true });
  const weeks = h('input', { type: 'number', min: 1, max: 12, step: 1, value: 4, required: true });
  const save = h('button', { type: 'submit', class: 'primary' }, 'Publish my availability');
  panel.append(h('h1', { id: 'ob-h' }, 'Your first week'),
    h('p', { class: 'muted' }, `Starting Monday ${fmtDay(start, { month: 'long', day: 'numeric' })}, times in ${tz}. You can change single days later on My week.`),
    h('form', {
      class: 'stack',
      onsubmit: async (e) => {
        e.preventDefault(); err.textContent = '';
        const picked = [...days.querySelectorAll('input:checked')].map((i) => Number(i.value));
        if (!picked.length) { err.textContent = 'Pick at least one day.'; return; }
        save.disabled = true;
        try {
          await api('PUT', '/instructors/me/availability/week', {
            week_start: start, days: picked.map((i) => ({ date: addDays(start, i), windows: [{ start: from.value, end: until.value }] })),
          });
          const n = Number(weeks.value);
          if (n > 1) await api('POST', '/instructors/me/availability/apply-pattern', { week_start: start, from: addDays(start, 7), to: addDays(start, 7 * n - 1) });
          toast('You are bookable! Students can now book your open times.', 'success');
          go('#/teach');
        } catch (ex) { err.textContent = errorText(ex); } finally { save.disabled = false; }
      },
    }, days, h('div', { class: 'row' }, field('wk-from', 'From', from), field('wk-until', 'Until', until)),
    field('wk-weeks', 'Repeat for how many weeks', weeks), err, save));
}
