// Accounts: sign in, sign up, the email-verification banner and link, and
// the password reset by email.
import { announceSession, api, auth, clearSession, errorText, fieldSentence, setSession } from '../api.js';
import { live } from '../conn.js';
import { $, h, showFieldErrors, toast } from '../dom.js';
import { current, go, nextAfterSignIn, renderNav } from '../nav.js';
import { field } from './shared.js';

// signedIn starts the session a sign-in or sign-up returned and goes back
// to where the person was (?next=), else to home.
function signedIn(r, params, home) {
  setSession(r);
  announceSession('signed-in');
  live.restart();
  go(nextAfterSignIn(params, home));
}

export function viewLogin(main, params) {
  const err = h('p', { class: 'error', role: 'alert' });
  const email = h('input', { id: 'email', type: 'email', autocomplete: 'username', required: true });
  const password = h('input', { id: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const demo = (addr) => h('button', { type: 'button', class: 'chip', onclick: () => { email.value = addr; password.value = 'TestPassword123!'; } }, addr);
  main.append(h('form', {
    class: 'panel narrow', 'aria-labelledby': 'login-h',
    onsubmit: async (e) => {
      e.preventDefault(); err.textContent = '';
      try {
        const r = await api('POST', '/auth/login', { email: email.value.trim(), password: password.value });
        signedIn(r, params, (r.user.roles || []).includes('instructor') ? '#/teach' : '#/');
      } catch (ex) { err.textContent = ex.status === 401 ? 'Wrong email or password.' : errorText(ex); }
    },
  }, h('h1', { id: 'login-h' }, 'Sign in'),
  h('label', { for: 'email' }, 'Email'), email,
  h('label', { for: 'password' }, 'Password'), password, err,
  h('button', { type: 'submit', class: 'primary' }, 'Sign in'),
  h('p', { class: 'muted' }, h('a', { href: '#/forgot' }, 'Forgot password?')),
  params?.get('next') ? h('p', { class: 'banner', id: 'login-next' }, 'Sign in to continue: you will come back to where you were.') : null,
  h('p', { class: 'muted' }, 'New here? ', h('a', { href: '#/signup' + (params?.get('next') ? '?next=' + encodeURIComponent(params.get('next')) : '') }, 'Create an account')),
  h('p', { class: 'muted' }, 'Demo accounts (password TestPassword123!):'),
  h('div', { class: 'chips' }, ['sarah.chen', 'michael.rodriguez', 'john.smith', 'emma.johnson'].map((n) => demo(n + '@example.com')))));
  email.focus();
}

export function viewSignup(main, params) {
  const err = h('p', { class: 'error', role: 'alert' });
  const name = h('input', { type: 'text', autocomplete: 'name', required: true, maxlength: 200 });
  const email = h('input', { type: 'email', autocomplete: 'email', required: true, maxlength: 254 });
  const password = h('input', { type: 'password', autocomplete: 'new-password', required: true, minlength: 8, maxlength: 72 });
  const meter = passwordMeter(password, () => ({ full_name: name.value.trim(), email: email.value.trim() }));
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
        signedIn(r, params, (r.user.roles || []).includes('instructor') ? '#/onboarding' : '#/');
      } catch (ex) {
        if (ex.status === 409) err.textContent = 'An account with this email already exists. Sign in instead.';
        else err.textContent = showFieldErrors(e.target, ex.details, { full_name: name, email, password }, fieldSentence).join(' ') || (ex.details ? '' : errorText(ex));
      } finally { submit.disabled = false; }
    },
  }, h('h1', { id: 'signup-h' }, 'Create your account'),
  field('su-name', 'Full name', name), field('su-email', 'Email', email),
  field('su-password', 'Password', password, 'At least 8 characters; a few words or a mix that is hard to guess, without your name or email.'), meter, roles, err, submit,
  h('p', { class: 'muted' }, 'Already have an account? ', h('a', { href: '#/login' }, 'Sign in'))));
  name.focus();
}

// ---------- email verification and password reset ----------

// renderAccountBanner shows, above every view, a banner for a signed-in
// account whose email is not verified yet: booking waits for it.
export function renderAccountBanner() {
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

// markVerified drops the banner; other tabs hear account.verified on the
// user topic (usertopic.js dispatches 'hub:verified') and do the same.
function markVerified() {
  if (!auth.user) return;
  auth.user.email_verified = true;
  renderAccountBanner();
}
document.addEventListener('hub:verified', markVerified);

// passwordMeter shows, under a new-password field, how hard the password is
// to guess, by the server's own rule (POST /auth/password-strength), as a
// meter and a sentence. personal() gives the name and email typed so far.
function passwordMeter(input, personal = () => ({})) {
  const bar = h('meter', { id: input.id ? input.id + '-meter' : null, min: 0, max: 4, low: 2, high: 3, optimum: 4, value: 0, 'aria-label': 'Strength' });
  const words = h('span', { class: 'muted', 'aria-live': 'polite' }, '');
  const labels = ['Very weak', 'Weak', 'Fair', 'Strong', 'Very strong'];
  let timer = 0, seq = 0;
  input.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(async () => {
      const n = ++seq;
      if (!input.value) { bar.value = 0; words.textContent = ''; return; }
      try {
        const r = await api('POST', '/auth/password-strength', { password: input.value.slice(0, 1024), ...personal() });
        if (n !== seq) return;
        bar.value = r.score;
        words.textContent = `${labels[r.score]}${r.ok ? '.' : ': ' + fieldSentence('password', r.problem).replace(/^Password /, '')}`;
        bar.dataset.ok = String(r.ok);
      } catch { /* the meter is advice; the form's answer is what counts */ }
    }, 250);
  });
  return h('div', { class: 'meter row', dataset: { for: input.id || '' } }, bar, words);
}

// viewVerify opens the link from the verification email (#/verify?token=…).
export async function viewVerify(main, params) {
  const panel = h('section', { class: 'panel narrow', 'aria-labelledby': 'verify-h' }, h('h1', { id: 'verify-h' }, 'Confirming your email…'));
  main.append(panel);
  const alive = current();
  try {
    await api('POST', '/auth/verify-email', { token: params.get('token') || '' });
    if (!alive()) return;
    markVerified();
    announceSession('verified');
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
export function viewForgot(main) {
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
export function viewReset(main, params) {
  const token = params.get('token') || '';
  const err = h('p', { class: 'error', role: 'alert' });
  const password = h('input', { type: 'password', autocomplete: 'new-password', required: true, minlength: 8, maxlength: 72 });
  const again = h('input', { type: 'password', autocomplete: 'new-password', required: true, minlength: 8, maxlength: 72 });
  const meter = passwordMeter(password);
  const submit = h('button', { type: 'submit', class: 'primary' }, 'Set new password');
  const form = h('form', {
    class: 'panel narrow', 'aria-labelledby': 'reset-h',
    onsubmit: async (e) => {
      e.preventDefault(); err.textContent = '';
      if (password.value !== again.value) { err.textContent = 'The two passwords differ.'; return; }
      submit.disabled = true;
      try {
        await api('POST', '/auth/password-reset/confirm', { token, password: password.value });
        // The reset ended every session: forget this browser's cookie too.
        await fetch('/api/v1/auth/logout', { method: 'POST' }).catch(() => {});
        if (auth.user) { clearSession(); announceSession('signed-out'); live.restart(); renderNav(); renderAccountBanner(); }
        form.replaceChildren(h('h1', { id: 'reset-h' }, 'Password changed'),
          h('p', { id: 'reset-done' }, 'You were signed out everywhere. Sign in with your new password.'),
          h('a', { class: 'button primary', href: '#/login' }, 'Sign in'));
      } catch (ex) {
        if (ex.details?.token) {
          err.textContent = 'This link is invalid, was already used, or has expired. Ask for a new one.';
          err.append(' ', h('a', { href: '#/forgot' }, 'Send a new link'));
        } else err.textContent = showFieldErrors(form, ex.details, { password }, fieldSentence).join(' ') || (ex.details ? '' : errorText(ex));
      } finally { submit.disabled = false; }
    },
  }, h('h1', { id: 'reset-h' }, 'Choose a new password'),
  field('rp-password', 'New password', password, '8 to 72 characters, hard to guess.'), meter, field('rp-again', 'New password again', again),
  err, submit);
  main.append(form);
  password.focus();
}
