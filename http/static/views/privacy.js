// Privacy page (#/privacy): download my data, delete my account.
import { ApiError, api, auth, clearSession, refreshTokens } from '../api.js';
import { live } from '../conn.js';
import { h, toast } from '../dom.js';
import { go } from '../nav.js';

// downloadExport fetches GET /me/export (refreshing the access token once if
// it expired) and saves it under the server's file name.
async function downloadExport() {
  const get = () => fetch('/api/v1/me/export', { headers: { Authorization: 'Bearer ' + auth.access } });
  let res = await get();
  if (res.status === 401 && auth.user && await refreshTokens()) res = await get();
  if (!res.ok) {
    let body = null;
    try { body = await res.json(); } catch { /* not JSON */ }
    throw new ApiError(res.status, body?.error);
  }
  const blob = await res.blob();
  const name = /filename="([^"]+)"/.exec(res.headers.get('Content-Disposition') || '')?.[1] || 'instainstru-export.json';
  const url = URL.createObjectURL(blob);
  const a = h('a', { href: url, download: name, hidden: true });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
  return { name, bytes: blob.size };
}

export function viewPrivacy(main) {
  const exportStatus = h('p', { id: 'export-status', role: 'status' });
  const exportBtn = h('button', {
    type: 'button', class: 'primary', id: 'export-btn',
    onclick: async () => {
      exportBtn.disabled = true; exportStatus.textContent = 'Preparing your data…';
      try {
        const r = await downloadExport();
        exportStatus.textContent = `Downloaded ${r.name} (${Math.max(1, Math.round(r.bytes / 1024))} KB).`;
      } catch (ex) {
        exportStatus.textContent = ex.status === 429 ? 'You downloaded your data a moment ago; try again in a minute.' : ex.message;
      } finally { exportBtn.disabled = false; }
    },
  }, 'Download my data');

  const err = h('p', { class: 'error', role: 'alert', id: 'delete-error' });
  const password = h('input', { id: 'delete-password', type: 'password', autocomplete: 'current-password', required: true });
  const confirm = h('input', { id: 'delete-confirm', type: 'checkbox', required: true });
  const form = h('form', {
    class: 'stack', 'aria-labelledby': 'delete-h',
    onsubmit: async (e) => {
      e.preventDefault(); err.textContent = '';
      if (!confirm.checked) { err.textContent = 'Tick the box to confirm.'; return; }
      try {
        await api('DELETE', '/me', { password: password.value });
        clearSession(); live.restart();
        toast('Your account was deleted.');
        go('#/');
      } catch (ex) {
        err.textContent = ex.code === 'validation_failed' && ex.details?.password ? 'That is not your password.' : ex.message;
        password.focus();
      }
    },
  }, h('h2', { id: 'delete-h' }, 'Delete my account'),
  h('p', {}, 'Deleting your account is immediate and cannot be undone:'),
  h('ul', { id: 'delete-consequences' },
    h('li', {}, 'Your upcoming lessons are cancelled now; the other person is told and the time opens up again.'),
    h('li', {}, 'Your name, email, lesson notes and saved sessions are erased. You are signed out on every device.'),
    h('li', {}, 'Past lessons stay in the other person\'s history as "Deleted user", so their records add up.'),
    h('li', {}, 'Your email address is free: you can sign up with it again as a new account.')),
  h('p', { class: 'muted' }, 'Download your data first if you want a copy.'),
  h('label', { for: 'delete-password' }, 'Your password'), password,
  h('label', { class: 'check' }, confirm, ' I understand that this deletes my account for good.'),
  err,
  h('button', { type: 'submit', class: 'danger', id: 'delete-btn' }, 'Delete my account'));

  main.append(h('section', { class: 'panel narrow', 'aria-labelledby': 'privacy-h' },
    h('h1', { id: 'privacy-h' }, 'Privacy'),
    h('h2', {}, 'Download my data'),
    h('p', {}, 'One JSON file with everything we store about you: account, roles, profile, offers, availability, lessons, sessions and your security log.'),
    exportBtn, exportStatus,
    h('hr'),
    form));
}
