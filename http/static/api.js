// REST client for /api/v1: the session, one fetch wrapper that refreshes an
// expired access token once, and API errors as sentences.
//
// Sessions (SPEC §4.3): the access token lives in this module's memory only
// (never in localStorage or sessionStorage). The refresh token is an
// HttpOnly cookie the page cannot read; restoreSession() spends it when the
// page loads, so a new tab or a link opened from an email is signed in.

// auth is the signed-in session: access, user, expiresAt (empty when signed
// out). Views read it; only setSession/clearSession write it.
export const auth = {};
export const isInstructor = () => (auth.user?.roles || []).includes('instructor');

// isStaff says whether to offer the admin console link: the console itself
// checks permissions, so this only hides a link that would show nothing.
export function isStaff() {
  const roles = auth.user?.roles || [];
  return roles.includes('admin') || roles.includes('support');
}

// sessionHooks are set by main.js: refreshed(token) after a token rotation
// (the open socket re-authenticates), lost() when the refresh is refused,
// changed() when another tab signed in or out.
export const sessionHooks = { refreshed: () => {}, lost: () => {}, changed: () => {} };

// ApiError is a refused request: status, the error code and field details.
export class ApiError extends Error {
  constructor(status, body) {
    super(body?.message || `Request failed (${status})`);
    this.status = status; this.code = body?.code; this.details = body?.details;
  }
}

// api sends a JSON request and resolves to the decoded body, or throws ApiError.
export async function api(method, path, body, headers = {}, retried = false) {
  const res = await send(method, path, body, headers);
  if (res.status === 401 && auth.user && !retried && await refreshTokens()) return api(method, path, body, headers, true);
  const text = await res.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { /* not JSON: keep null */ }
  if (!res.ok) throw new ApiError(res.status, data?.error);
  return data;
}

// apiBlob fetches a non-JSON answer (an .ics file) with the session.
export async function apiBlob(path) {
  let res = await send('GET', path, undefined, { Accept: '*/*' });
  if (res.status === 401 && auth.user && await refreshTokens()) res = await send('GET', path, undefined, { Accept: '*/*' });
  if (!res.ok) throw new ApiError(res.status, null);
  return res.blob();
}

function send(method, path, body, headers) {
  const hdrs = { Accept: 'application/json', ...headers };
  if (body !== undefined) hdrs['Content-Type'] = 'application/json';
  if (auth.access) hdrs.Authorization = 'Bearer ' + auth.access;
  return fetch('/api/v1' + path, { method, headers: hdrs, body: body === undefined ? undefined : JSON.stringify(body) });
}

// items is the list of a paged answer (or the answer when it is a list).
export const items = (x) => (Array.isArray(x) ? x : x?.items || []);

// Field names as people read them; the rest are turned into words.
const fieldNames = {
  full_name: 'Your name', email: 'Email', password: 'Password', role: 'Role', token: 'The link',
  date: 'Date', start_time: 'Start time', duration_minutes: 'Length', area: 'Area', address: 'Address',
  instructor_service_id: 'Lesson', reminder_hours: 'Reminder hours', hourly_rate_cents: 'Rate',
  durations: 'Lengths', bio: 'About you', areas: 'Areas', cancellation_notice_hours: 'Cancellation notice',
  years_experience: 'Years of experience', timezone: 'Timezone', start: 'Start', end: 'End', reason: 'Reason',
};
const weekdays = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'];

// fieldLabel turns a detail key into words: "days[3].windows[0].end" →
// "End of time 1 on Thursday" (days of a week editor start on Monday).
export function fieldLabel(key) {
  const parts = String(key).split('.').map((p) => p.match(/^([A-Za-z_]+)(?:\[(\d+)\])?$/) || [p, p, null]);
  const last = parts.pop();
  let text = fieldNames[last[1]] || last[1].replace(/_/g, ' ');
  if (last[2] != null) text += ' ' + (Number(last[2]) + 1);
  for (const [, name, i] of parts.reverse()) {
    if (name === 'days' && i != null) text += ` on ${weekdays[Number(i) % 7]}`;
    else if (name === 'windows' && i != null) text += ` of time ${Number(i) + 1}`;
    else text += ` of ${(fieldNames[name] || name.replace(/_/g, ' ')).toLowerCase()}${i != null ? ' ' + (Number(i) + 1) : ''}`;
  }
  return text.charAt(0).toUpperCase() + text.slice(1);
}

// fieldSentence is one field's problem as a sentence: "Password is too easy to guess."
export function fieldSentence(key, msg) {
  const m = String(msg ?? 'is not valid').trim();
  return `${fieldLabel(key)} ${m}`.replace(/[.\s]*$/, '.');
}

// errorText turns an API error into readable sentences (never raw JSON).
export function errorText(e) {
  const d = e?.details && typeof e.details === 'object' ? Object.entries(e.details) : [];
  if (d.length) return d.map(([k, v]) => fieldSentence(k, typeof v === 'string' ? v : 'is not valid')).join(' ');
  if (e?.status === 429) return 'Too many requests. Please wait a little and try again.';
  if (e?.status >= 500) return 'Something went wrong on our side. Please try again.';
  const m = e?.message || 'Something went wrong.';
  return m.charAt(0).toUpperCase() + m.slice(1).replace(/[.\s]*$/, '.');
}

export function setSession(r) {
  auth.access = r.access_token; auth.user = r.user;
  auth.expiresAt = Date.now() + (r.expires_in || 900) * 1000;
  scheduleRefresh();
}

// announceSession tells the page's other tabs that this one signed in or out.
export function announceSession(kind) { channel?.postMessage({ kind, user: auth.user?.id || null }); }

export function clearSession() {
  for (const k of Object.keys(auth)) delete auth[k];
  clearTimeout(refreshTimer);
}

let refreshing = null, refreshTimer = 0;
// refreshTokens spends the refresh cookie once, however many callers ask
// (and one tab at a time: a rotation by two tabs at once would look like a
// reused token), then hands the new access token to the open socket so it
// is not closed with 4001. quiet: a refusal is not "signed out" news (the
// first load of a signed-out page).
export function refreshTokens(quiet = false) {
  if (!refreshing) {
    const spend = () => fetch('/api/v1/auth/refresh', { method: 'POST', headers: { 'X-Requested-With': 'fetch', Accept: 'application/json' } });
    const locked = navigator.locks?.request ? navigator.locks.request('instainstru-refresh', spend) : spend();
    refreshing = locked.then(async (res) => {
      if (!res.ok) {
        const had = !!auth.user;
        clearSession();
        if (had && !quiet) sessionHooks.lost();
        return false;
      }
      setSession(await res.json());
      sessionHooks.refreshed(auth.access);
      return true;
    }).catch(() => false).finally(() => { refreshing = null; });
  }
  return refreshing;
}

// restoreSession signs the page in from the refresh cookie, if there is
// one: the server sets a script-readable marker (ii_session=1, no secret)
// beside the HttpOnly cookie, so a signed-out visit sends nothing.
export async function restoreSession() {
  sessionStorage.removeItem('auth'); // tokens of older versions of the page
  if (!/(^|;\s*)ii_session=1/.test(document.cookie)) return false;
  return refreshTokens(true);
}

// scheduleRefresh rotates the tokens a minute before the access token expires.
export function scheduleRefresh() {
  clearTimeout(refreshTimer);
  if (auth.user) refreshTimer = setTimeout(() => refreshTokens(), Math.max(5000, auth.expiresAt - Date.now() - 60000));
}

// Tabs of the page tell each other about sign-in and sign-out.
const channel = typeof BroadcastChannel === 'function' ? new BroadcastChannel('instainstru-session') : null;
if (channel) {
  channel.onmessage = async ({ data }) => {
    if (data?.kind === 'signed-out' && auth.user) { clearSession(); sessionHooks.changed(); }
    if (data?.kind === 'signed-in' && auth.user?.id !== data.user && await restoreSession()) sessionHooks.changed();
    if (data?.kind === 'verified') document.dispatchEvent(new CustomEvent('hub:verified'));
  };
}
