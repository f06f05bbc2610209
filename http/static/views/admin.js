// Admin console (#/admin/…): users, bookings, instructors, analytics, access
// (role grants) and the audit log. main.js imports this module with
// import() only when the admin view opens, and this module loads its
// stylesheet and the charts' library (uPlot, MIT, a classic script vendored
// under /vendor/uplot/) only then. What the caller may change follows their
// permissions from /auth/me: controls for a write the caller lacks are not
// drawn, and the API refuses it anyway.
import { api, items } from '../api.js';
import { h, toast } from '../dom.js';
import { addDays, fmtMoney } from '../format.js';
import { go } from '../nav.js';

// once memoises an async loader: the first call starts it, later calls share
// the same promise; a failure is forgotten so the next call tries again.
function once(load) {
  let p = null;
  return () => (p ??= load().catch((e) => { p = null; throw e; }));
}

// addStylesheet adds <link rel=stylesheet> once and resolves when it applied.
function addStylesheet(href) {
  const have = document.querySelector(`link[rel="stylesheet"][href="${href}"]`);
  if (have) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const link = h('link', { rel: 'stylesheet', href });
    link.onload = () => resolve(); link.onerror = () => reject(new Error('could not load ' + href));
    document.head.append(link);
  });
}

// loadStyles brings the console's CSS (and uPlot's) on first use.
const loadStyles = once(() => Promise.all([addStylesheet('/vendor/uplot/uPlot.min.css'), addStylesheet('/admin.css')]));

// loadUPlot runs the vendored classic script once and resolves to the uPlot
// constructor it defines on window.
export const loadUPlot = once(() => new Promise((resolve, reject) => {
  if (window.uPlot) { resolve(window.uPlot); return; }
  const s = h('script', { src: '/vendor/uplot/uPlot.iife.min.js' });
  s.onload = () => (window.uPlot ? resolve(window.uPlot) : reject(new Error('uPlot did not load')));
  s.onerror = () => { s.remove(); reject(new Error('could not load the chart library')); };
  document.head.append(s);
}));

const adminTabs = [
  { id: 'users', text: 'Users', perm: 'users:read', view: adminUsers },
  { id: 'bookings', text: 'Bookings', perm: 'bookings:read_any', view: adminBookings },
  { id: 'instructors', text: 'Instructors', perm: 'instructors:read_any', view: adminInstructors },
  { id: 'analytics', text: 'Analytics', perm: 'analytics:read', view: adminAnalytics },
  { id: 'access', text: 'Access', perm: 'roles:read', view: adminAccess },
  { id: 'audit', text: 'Audit log', perm: 'audit:read', view: adminAudit },
];

// viewAdmin draws the console's tab; alive is the router's check that the
// view is still shown (taken before this module was imported).
export async function viewAdmin(main, tab, params, alive) {
  const styles = loadStyles().catch((e) => console.warn(e.message));
  let me;
  try { me = await api('GET', '/auth/me'); } catch (e) { main.append(h('p', { class: 'error', role: 'alert' }, e.message)); return; }
  await styles;
  if (!alive()) return;
  const can = (p) => (me.permissions || []).includes(p);
  const tabs = adminTabs.filter((t) => can(t.perm));
  if (!tabs.length) { main.append(h('p', { class: 'panel' }, 'Your account has no access to the admin console.')); return; }
  const active = tabs.find((t) => t.id === tab) || tabs[0];
  const body = h('div', { id: 'admin-body', 'aria-busy': 'true' });
  main.append(h('section', { class: 'panel admin', 'aria-labelledby': 'admin-h', dataset: { tab: active.id } },
    h('h1', { id: 'admin-h' }, 'Admin'),
    h('p', { class: 'muted' }, can('users:manage') ? 'Signed in with write access.' : 'Read-only access: nothing here can be changed from this account.'),
    h('nav', { class: 'chips', 'aria-label': 'Admin sections' }, tabs.map((t) =>
      h('a', { class: 'chip', href: '#/admin/' + t.id, 'aria-current': t === active ? 'page' : null }, t.text))),
    body));
  try {
    await active.view(body, params, can, alive);
  } catch (e) {
    if (alive()) body.append(h('p', { class: 'error', role: 'alert' }, e.message));
  }
  body.setAttribute('aria-busy', 'false');
}

// table builds a simple table from a header row and rows of cells, in a
// box that scrolls sideways on its own (a phone's page does not).
function adminTable(caption, heads, rows) {
  const table = h('table', { class: 'admin-table' }, h('caption', {}, caption),
    h('thead', {}, h('tr', {}, heads.map((x) => h('th', { scope: 'col' }, x)))),
    h('tbody', {}, rows.length ? rows : h('tr', {}, h('td', { colspan: heads.length, class: 'muted' }, 'Nothing here.'))));
  return h('div', { class: 'table-scroll', role: 'region', 'aria-label': caption, tabindex: '0' }, table);
}

const qs = (o) => new URLSearchParams(Object.entries(o).filter(([, v]) => v != null && v !== '')).toString();

// ---------- users ----------
async function adminUsers(body, params, can, alive) {
  const q = h('input', { id: 'admin-user-q', type: 'search', value: params.get('q') || '', placeholder: 'email or name' });
  body.append(h('form', { role: 'search', class: 'row', onsubmit: (e) => { e.preventDefault(); go('#/admin/users?' + qs({ q: q.value.trim() })); } },
    h('label', { for: 'admin-user-q' }, 'Search users'), q, h('button', { type: 'submit' }, 'Search')));
  const list = await api('GET', '/admin/users?' + qs({ q: params.get('q'), limit: 50 }));
  if (!alive()) return;
  const allRoles = ['student', 'instructor', 'support', 'admin'];
  body.append(adminTable('Users', ['Email', 'Name', 'Roles', 'Created', ''], items(list).map((u) => {
    const boxes = allRoles.map((r) => h('label', { class: 'inline' },
      h('input', { type: 'checkbox', name: 'role', value: r, checked: u.roles.includes(r) }), r));
    const roles = can('users:manage') ? h('fieldset', { class: 'roles', 'aria-label': 'Roles of ' + u.email }, boxes) : u.roles.join(', ');
    const actions = [];
    if (can('users:manage')) {
      actions.push(h('button', {
        type: 'button', class: 'save-roles', onclick: async () => {
          const picked = boxes.map((b) => b.firstChild).filter((c) => c.checked).map((c) => c.value);
          try { await api('PATCH', '/admin/users/' + u.id, { roles: picked }); toast(`Roles of ${u.email}: ${picked.join(', ')}`); } catch (e) { toast(e.message, 'error'); }
        },
      }, 'Save roles'));
    }
    if (can('users:deactivate')) {
      actions.push(h('button', {
        type: 'button', class: 'deactivate', onclick: async (e) => {
          if (!confirm(`Deactivate ${u.email}? They are signed out everywhere.`)) return;
          try { await api('DELETE', '/admin/users/' + u.id); e.target.closest('tr').remove(); toast(`${u.email} deactivated`); } catch (ex) { toast(ex.message, 'error'); }
        },
      }, 'Deactivate'));
    }
    return h('tr', { dataset: { email: u.email } }, h('td', {}, u.email), h('td', {}, u.full_name), h('td', {}, roles),
      h('td', {}, u.created_at.slice(0, 10)), h('td', {}, actions));
  })));
}

// ---------- bookings ----------
async function adminBookings(body, params, can, alive) {
  const insts = await api('GET', '/admin/instructors');
  if (!alive()) return;
  const field = (id, label, el) => h('div', {}, h('label', { for: id }, label), el);
  const inst = h('select', { id: 'bk-inst' }, h('option', { value: '' }, 'Any instructor'),
    items(insts).map((i) => h('option', { value: i.id, selected: params.get('instructor_id') === i.id }, i.full_name)));
  const q = h('input', { id: 'bk-q', type: 'search', value: params.get('q') || '', placeholder: 'student or instructor' });
  const from = h('input', { id: 'bk-from', type: 'date', value: params.get('from') || '' });
  const to = h('input', { id: 'bk-to', type: 'date', value: params.get('to') || '' });
  const status = h('select', { id: 'bk-status' }, ['', 'confirmed', 'cancelled', 'completed', 'no_show'].map((s) =>
    h('option', { value: s, selected: (params.get('status') || '') === s }, s || 'Any status')));
  body.append(h('form', {
    class: 'filters', onsubmit: (e) => {
      e.preventDefault();
      go('#/admin/bookings?' + qs({ instructor_id: inst.value, q: q.value.trim(), from: from.value, to: to.value, status: status.value }));
    },
  }, field('bk-inst', 'Instructor', inst), field('bk-q', 'Person', q), field('bk-from', 'From', from), field('bk-to', 'To', to),
  field('bk-status', 'Status', status), h('button', { type: 'submit' }, 'Filter')));
  const filter = Object.fromEntries(['instructor_id', 'student_id', 'q', 'from', 'to', 'status'].map((k) => [k, params.get(k)]));
  const list = await api('GET', '/admin/bookings?' + qs({ ...filter, limit: 100 }));
  if (!alive()) return;
  body.append(adminTable('Bookings, latest lesson first', ['Lesson', 'Student', 'Instructor', 'Service', 'Price', 'Status', ''], items(list).map((b) => {
    const cell = [];
    if (b.status === 'confirmed' && can('bookings:manage_any')) {
      const reason = h('input', { type: 'text', class: 'reason', 'aria-label': 'Reason', placeholder: 'reason', minlength: 3, maxlength: 1000 });
      cell.push(reason, h('button', {
        type: 'button', class: 'admin-cancel', onclick: async (e) => {
          try {
            const nb = await api('POST', `/admin/bookings/${b.id}/cancel`, { reason: reason.value.trim() });
            const tr = e.target.closest('tr');
            tr.querySelector('.status').textContent = nb.status; reason.remove(); e.target.remove();
            toast('Booking cancelled; both parties were notified');
          } catch (ex) { toast(ex.details?.reason ? 'A reason of at least 3 characters is required.' : ex.message, 'error'); }
        },
      }, 'Cancel'));
    } else if (b.cancel_reason) cell.push(h('span', { class: 'muted' }, b.cancel_reason));
    return h('tr', { dataset: { id: b.id } }, h('td', {}, `${b.date} ${b.start_time}–${b.end_time}`),
      h('td', {}, b.student_name), h('td', {}, b.instructor_name), h('td', {}, b.service_name),
      h('td', {}, fmtMoney(b.price_cents)), h('td', { class: 'status' }, b.status), h('td', {}, cell));
  })));
}

// ---------- instructors ----------
async function adminInstructors(body, params, can, alive) {
  const list = await api('GET', '/admin/instructors?' + qs({ from: params.get('from'), to: params.get('to') }));
  if (!alive()) return;
  const pct = (x) => (x == null ? '—' : Math.round(x * 100) + '%');
  body.append(adminTable(`Instructors, ${list.from} to ${list.to}`, ['Name', 'Email', 'Listing', 'Services', 'Areas', 'Open h', 'Booked h', 'Utilisation'],
    items(list).map((i) => h('tr', {}, h('td', {}, i.full_name), h('td', {}, i.email),
      h('td', {}, !i.active ? 'deactivated' : i.listed ? 'listed' : 'hidden'), h('td', {}, String(i.active_services)),
      h('td', {}, (i.areas || []).join(', ')), h('td', {}, i.open_hours.toFixed(1)), h('td', {}, i.booked_hours.toFixed(1)),
      h('td', {}, pct(i.utilisation))))));
}

// ---------- analytics ----------
const chartColors = ['#4338ca', '#b91c1c', '#15803d', '#b45309'];

// lineChart draws series (keys of each row) against row.date with uPlot and
// records on the figure how many points it drew, for tests and screen readers.
function lineChart(UPlot, title, rows, keys, labels) {
  const fig = h('figure', { class: 'chart', dataset: { chart: title, points: String(rows.length), total: String(rows.reduce((n, r) => n + keys.reduce((m, k) => m + (Number(r[k]) || 0), 0), 0)) } },
    h('figcaption', {}, title));
  const xs = rows.map((r) => Date.parse(r.date + 'T12:00:00Z') / 1000);
  const data = [xs, ...keys.map((k) => rows.map((r) => (r[k] == null ? null : Number(r[k]))))];
  // Drawn once the figure is in the page, at the width the grid gave it.
  queueMicrotask(() => new UPlot({
    width: Math.max(280, fig.clientWidth - 16), height: 220, scales: { x: { time: true } },
    series: [{}, ...keys.map((k, i) => ({ label: labels[i], stroke: chartColors[i % chartColors.length], width: 2 }))],
    axes: [{}, { size: 50 }],
  }, data, fig));
  return fig;
}

// barList draws a ranked list as horizontal bars (widths set through the
// CSSOM, which the page's CSP allows).
function barList(title, rows) {
  const max = Math.max(1, ...rows.map((r) => r.bookings));
  return h('figure', { class: 'chart bars', dataset: { chart: title, points: String(rows.length) } }, h('figcaption', {}, title),
    rows.length ? h('ol', {}, rows.map((r) => {
      const bar = h('span', { class: 'bar' });
      bar.style.width = (100 * r.bookings / max).toFixed(1) + '%';
      return h('li', {}, h('span', { class: 'bar-label' }, `${r.name}: ${r.bookings} (${fmtMoney(r.revenue_cents)})`), bar);
    })) : h('p', { class: 'muted' }, 'No bookings in this range.'));
}

async function adminAnalytics(body, params, can, alive) {
  const today = new Date().toLocaleDateString('en-CA', { timeZone: 'America/New_York' });
  const to = params.get('to') || today, from = params.get('from') || addDays(to, -29);
  const f = h('input', { id: 'an-from', type: 'date', value: from }), t = h('input', { id: 'an-to', type: 'date', value: to });
  body.append(h('form', { class: 'filters', onsubmit: (e) => { e.preventDefault(); go('#/admin/analytics?' + qs({ from: f.value, to: t.value })); } },
    h('div', {}, h('label', { for: 'an-from' }, 'From'), f), h('div', {}, h('label', { for: 'an-to' }, 'To'), t),
    h('button', { type: 'submit' }, 'Show'), h('p', { class: 'muted' }, 'Days in America/New_York; at most a year.')));
  const names = ['bookings', 'late-cancellations', 'searches', 'conversion', 'utilisation', 'notifications', 'top-services', 'top-areas'];
  const [UPlot, res] = await Promise.all([loadUPlot(), Promise.all(names.map((n) => api('GET', `/admin/analytics/${n}?` + qs({ from, to }))))]);
  if (!alive()) return;
  const [bk, late, search, conv, util, notif, svc, areas] = res.map((r) => r.series);
  const grid = h('div', { class: 'charts', id: 'charts' });
  body.append(grid);
  grid.append(
    lineChart(UPlot, 'Bookings per day', bk, ['created', 'cancelled'], ['Created', 'Cancelled']),
    lineChart(UPlot, 'Cancellations and late ones (< 24 h before)', late, ['cancelled', 'late'], ['Cancelled', 'Late']),
    lineChart(UPlot, 'Searches per day', search, ['searches', 'zero_results'], ['Searches', 'Zero results']),
    lineChart(UPlot, 'Instructor-page views and bookings', conv, ['views', 'bookings', 'searches'], ['Views', 'Bookings', 'Searches']),
    lineChart(UPlot, 'Open and booked hours (all instructors)', util, ['open_hours', 'booked_hours'], ['Open h', 'Booked h']),
    lineChart(UPlot, 'Notifications', notif, ['created', 'sent', 'failed'], ['Created', 'Sent', 'Failed']),
    barList('Top services', svc), barList('Top areas', areas));
  if (!res[2].available?.search_log) grid.append(h('p', { class: 'muted' }, 'Searches: no search log in this database yet.'));
}

// ---------- access (role grants) ----------
async function adminAccess(body, params, can, alive) {
  const g = await api('GET', '/admin/permissions');
  if (!alive()) return;
  const roles = Object.keys(g.roles).sort();
  const edit = can('roles:manage');
  const rows = g.permissions.map((p) => h('tr', {}, h('th', { scope: 'row', title: g.descriptions[p] }, p),
    roles.map((r) => h('td', {}, edit
      ? h('input', { type: 'checkbox', 'aria-label': `${r}: ${p}`, dataset: { role: r, perm: p }, checked: g.roles[r].includes(p) })
      : (g.roles[r].includes(p) ? '✓' : '')))));
  const table = adminTable('Permissions granted to each role', ['Permission', ...roles], rows);
  body.append(table);
  if (edit) {
    body.append(h('div', { class: 'row' }, roles.map((r) => h('button', {
      type: 'button', class: 'save-grants', onclick: async () => {
        const perms = [...table.querySelectorAll(`input[data-role="${r}"]`)].filter((c) => c.checked).map((c) => c.dataset.perm);
        try { await api('PUT', `/admin/roles/${r}/permissions`, { permissions: perms }); toast(`Grants of ${r} saved`); } catch (e) { toast(e.details?.permissions || e.message, 'error'); }
      },
    }, `Save ${r}`))));
  }
}

// ---------- audit ----------
const auditActions = ['auth.login', 'auth.login_failed', 'auth.logout', 'auth.refresh_reuse', 'auth.password_changed',
  'auth.password_reset_requested', 'auth.email_verified', 'user.roles_changed', 'user.deleted', 'user.exported',
  'booking.admin_cancelled', 'auth.verification_resent'];

// localDayStart is the instant a YYYY-MM-DD day starts in this browser's zone.
const localDayStart = (d) => new Date(d + 'T00:00:00').toISOString();

// adminAudit: the trail, newest first, by action and date range, with the
// names of who did it and whom it concerned (ids on hover).
async function adminAudit(body, params, can, alive) {
  const action = h('select', { id: 'audit-action' }, h('option', { value: '' }, 'Any action'),
    auditActions.map((a) => h('option', { value: a, selected: a === params.get('action') }, a)));
  const from = h('input', { id: 'audit-from', type: 'date', value: params.get('from') || '' });
  const to = h('input', { id: 'audit-to', type: 'date', value: params.get('to') || '' });
  const lab = (id, text, ctl) => h('div', {}, h('label', { for: id }, text), ctl);
  body.append(h('form', { class: 'filters', 'aria-label': 'Filter the audit log', onsubmit: (e) => {
    e.preventDefault();
    go('#/admin/audit?' + qs({ action: action.value, from: from.value, to: to.value }));
  } }, lab('audit-action', 'Action', action), lab('audit-from', 'From', from), lab('audit-to', 'To (inclusive)', to),
  h('button', { type: 'submit' }, 'Show')));
  const q = { limit: 100, action: params.get('action'),
    from: params.get('from') ? localDayStart(params.get('from')) : null,
    to: params.get('to') ? localDayStart(addDays(params.get('to'), 1)) : null };
  const log = await api('GET', '/admin/audit?' + qs(q));
  if (!alive()) return;
  const person = (name, id, none) => (id ? h('span', { title: id }, name || 'Unknown account') : h('span', { class: 'muted' }, none));
  // Signing in, out or verifying is done by the account itself, before it has a session.
  const self = new Set(['auth.login', 'auth.logout', 'auth.email_verified', 'auth.password_changed']);
  const actor = (e) => (e.actor_user_id || !self.has(e.action) || !e.target_user_id
    ? person(e.actor_name, e.actor_user_id, 'Not signed in') : person(e.target_name, e.target_user_id, ''));
  const detail = (d) => Object.entries(d || {}).map(([k, v]) => `${k.replace(/_/g, ' ')}: ${typeof v === 'object' ? JSON.stringify(v) : v}`).join('; ');
  body.append(adminTable('Audit trail, newest first', ['When', 'Who', 'Action', 'Concerning', 'From', 'Details'], items(log).map((e) =>
    h('tr', {}, h('td', {}, new Date(e.at).toLocaleString('en-US', { dateStyle: 'medium', timeStyle: 'short' })),
      h('td', {}, actor(e)), h('td', {}, e.action),
      h('td', {}, person(e.target_name, e.target_user_id, '—')), h('td', {}, e.ip || ''),
      h('td', {}, detail(e.details))))));
}
