// Accounts on the live page: sign-up for students and instructors, and the
// instructor's onboarding / self-service (profile, offers, first week).
// Loaded before app.js and only defines functions: everything it calls
// (h, api, setSession, live, go, toast…) is app.js's and is looked up when a
// view runs, after both scripts have loaded.
'use strict';

const TIMEZONES = ['America/New_York', 'America/Chicago', 'America/Denver', 'America/Phoenix', 'America/Los_Angeles',
  'America/Anchorage', 'Pacific/Honolulu'];
const LESSON_LENGTHS = [30, 45, 60, 90, 120];

// errorText turns an API error into one readable line, naming the fields.
function errorText(e) {
  const d = e.details && Object.keys(e.details).length ? ' ' + Object.entries(e.details).map(([k, v]) => `${k}: ${v}`).join('; ') : '';
  return (e.message || 'Something went wrong.') + d;
}

// field is a labelled control in a form grid.
function field(id, label, control, hint) {
  control.id = id;
  return h('div', { class: 'field' }, h('label', { for: id }, label), control, hint ? h('p', { class: 'muted hint' }, hint) : null);
}

function viewSignup(main, params) {
  const err = h('p', { class: 'error', role: 'alert' });
  const name = h('input', { type: 'text', autocomplete: 'name', required: true, maxlength: 200 });
  const email = h('input', { type: 'email', autocomplete: 'email', required: true, maxlength: 254 });
  const password = h('input', { type: 'password', autocomplete: 'new-password', required: true, minlength: 8, maxlength: 72 });
  const role = (value, text, checked) => h('label', { class: 'choice' },
    h('input', { type: 'radio', name: 'role', value, checked }), ' ' + text);
  const roles = h('fieldset', { class: 'choices' }, h('legend', {}, 'I want to'),
    role('student', 'Book lessons (student)', params.get('role') !== 'instructor'),
    role('instructor', 'Teach lessons (instructor)', params.get('role') === 'instructor'));
  const submit = h('button', { type: 'submit', class: 'primary' }, 'Create account');
  main.append(h('form', {
    class: 'panel narrow', 'aria-labelledby': 'signup-h',
    onsubmit: async (e) => {
      e.preventDefault(); err.textContent = '';
      submit.disabled = true;
      try {
        const r = await api('POST', '/auth/register', {
          full_name: name.value.trim(), email: email.value.trim(), password: password.value,
          role: roles.querySelector('input:checked').value,
        });
        setSession(r);
        live.restart();
        go(isInstructor() ? '#/onboarding' : '#/');
      } catch (ex) {
        err.textContent = ex.status === 409 ? 'An account with this email already exists. Sign in instead.' : errorText(ex);
      } finally { submit.disabled = false; }
    },
  }, h('h1', { id: 'signup-h' }, 'Create your account'),
  field('su-name', 'Full name', name), field('su-email', 'Email', email),
  field('su-password', 'Password', password, 'At least 8 characters.'), roles, err, submit,
  h('p', { class: 'muted' }, 'Already have an account? ', h('a', { href: '#/login' }, 'Sign in'))));
  name.focus();
}

// viewOnboarding is the instructor's self-service in three steps (profile,
// offers, first week). A new instructor walks through them in order; later
// the same page edits the profile and offers (#/onboarding/profile…).
async function viewOnboarding(main, step) {
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

// lessonLine is how a booking reads in lists and feeds: when, who, what, where.
function lessonLine(b, viewerId) {
  const other = b.instructor?.id === viewerId ? b.student : b.instructor;
  const who = other?.full_name ? (b.instructor?.id === viewerId ? other.full_name : 'with ' + other.full_name) : '';
  return [who, b.service_name, b.location?.area].filter(Boolean).join(' · ');
}

// ---------- email verification and password reset ----------

// renderAccountBanner shows, above every view, a banner for a signed-in
// account whose email is not verified yet: booking waits for it.
function renderAccountBanner() {
  let banner = $('#verify-banner');
  // Staff accounts do not book: only students and instructors are asked.
  const books = (auth.user?.roles || []).some((r) => r === 'student' || r === 'instructor');
  if (!(books && auth.user.email_verified === false)) { banner?.remove(); return; }
  if (banner) return;
  const resend = h('button', { type: 'button', class: 'link' }, 'Resend the link');
  resend.addEventListener('click', async () => {
    resend.disabled = true;
    try {
      await api('POST', '/auth/verify-email/resend');
      toast(`A new link is on its way to ${auth.user.email}.`, 'success');
    } catch (ex) {
      if (ex.status === 409) { markVerified(); toast('Your email is already verified.', 'success'); } else toast(errorText(ex), 'error');
    } finally { resend.disabled = false; }
  });
  banner = h('div', { id: 'verify-banner', class: 'banner', role: 'status' },
    h('span', {}, `Confirm your email address to book lessons: open the link we sent to ${auth.user.email}. `), resend);
  $('#main').before(banner);
}

function markVerified() {
  if (!auth.user) return;
  auth.user.email_verified = true;
  sessionStorage.setItem('auth', JSON.stringify(auth));
  renderAccountBanner();
}

// viewVerify opens the link from the verification email (#/verify?token=…).
async function viewVerify(main, params) {
  const panel = h('section', { class: 'panel narrow', 'aria-labelledby': 'verify-h' }, h('h1', { id: 'verify-h' }, 'Confirming your email…'));
  main.append(panel);
  const alive = current();
  try {
    await api('POST', '/auth/verify-email', { token: params.get('token') || '' });
    if (!alive()) return;
    markVerified();
    panel.replaceChildren(h('h1', { id: 'verify-h' }, 'Your email is verified'),
      h('p', { id: 'verify-result' }, 'Thank you. You can book lessons now.'),
      h('a', { class: 'button primary', href: auth.user ? '#/' : '#/login' }, auth.user ? 'Find a lesson' : 'Sign in'));
  } catch (ex) {
    if (!alive()) return;
    panel.replaceChildren(h('h1', { id: 'verify-h' }, 'This link does not work'),
      h('p', { id: 'verify-result', class: 'error', role: 'alert' }, 'The link is invalid, was already used, or has expired.'),
      auth.user ? h('p', {}, 'Use “Resend the link” above to get a new one.') : h('p', {}, h('a', { href: '#/login' }, 'Sign in'), ' to ask for a new link.'));
  }
}

// viewForgot asks for a reset link. The answer is the same whether or not
// the address has an account.
function viewForgot(main) {
  const err = h('p', { class: 'error', role: 'alert' });
  const email = h('input', { type: 'email', autocomplete: 'email', required: true, maxlength: 254 });
  const submit = h('button', { type: 'submit', class: 'primary' }, 'Send me a link');
  const form = h('form', {
    class: 'panel narrow', 'aria-labelledby': 'forgot-h',
    onsubmit: async (e) => {
      e.preventDefault(); err.textContent = '';
      submit.disabled = true;
      try {
        const r = await api('POST', '/auth/password-reset', { email: email.value.trim() });
        form.replaceChildren(h('h1', { id: 'forgot-h' }, 'Check your email'),
          h('p', { id: 'forgot-sent' }, r?.message || 'If an account uses this address, a link is on its way.'),
          h('p', { class: 'muted' }, 'The link works once, for 30 minutes. ', h('a', { href: '#/login' }, 'Back to sign in')));
      } catch (ex) {
        err.textContent = ex.status === 429 ? 'Too many requests. Please wait a little and try again.' : errorText(ex);
      } finally { submit.disabled = false; }
    },
  }, h('h1', { id: 'forgot-h' }, 'Forgot your password?'),
  h('p', { class: 'muted' }, 'Enter the email of your account and we will send you a link to choose a new password.'),
  field('fp-email', 'Email', email), err, submit,
  h('p', { class: 'muted' }, h('a', { href: '#/login' }, 'Back to sign in')));
  main.append(form);
  email.focus();
}

// viewReset sets a new password with the token from the email
// (#/reset?token=…). Every session of the account ends, this one included.
function viewReset(main, params) {
  const token = params.get('token') || '';
  const err = h('p', { class: 'error', role: 'alert' });
  const password = h('input', { type: 'password', autocomplete: 'new-password', required: true, minlength: 8, maxlength: 72 });
  const again = h('input', { type: 'password', autocomplete: 'new-password', required: true, minlength: 8, maxlength: 72 });
  const submit = h('button', { type: 'submit', class: 'primary' }, 'Set new password');
  const form = h('form', {
    class: 'panel narrow', 'aria-labelledby': 'reset-h',
    onsubmit: async (e) => {
      e.preventDefault(); err.textContent = '';
      if (password.value !== again.value) { err.textContent = 'The two passwords differ.'; return; }
      submit.disabled = true;
      try {
        await api('POST', '/auth/password-reset/confirm', { token, password: password.value });
        if (auth.user) { clearSession(); live.restart(); renderNav(); renderAccountBanner(); }
        form.replaceChildren(h('h1', { id: 'reset-h' }, 'Password changed'),
          h('p', { id: 'reset-done' }, 'You were signed out everywhere. Sign in with your new password.'),
          h('a', { class: 'button primary', href: '#/login' }, 'Sign in'));
      } catch (ex) {
        err.textContent = ex.details?.token ? 'This link is invalid, was already used, or has expired. Ask for a new one.' : errorText(ex);
        if (ex.details?.token) err.append(' ', h('a', { href: '#/forgot' }, 'Send a new link'));
      } finally { submit.disabled = false; }
    },
  }, h('h1', { id: 'reset-h' }, 'Choose a new password'),
  field('rp-password', 'New password', password, '8 to 72 characters.'), field('rp-again', 'New password again', again),
  err, submit);
  main.append(form);
  password.focus();
}
