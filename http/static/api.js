// REST client for /api/v1: the session (tokens in sessionStorage), one fetch
// wrapper that refreshes an expired access token once, and API errors.

// auth is the signed-in session: access, refresh, user, expiresAt (empty
// when signed out). Views read it; only setSession/clearSession write it.
export const auth = JSON.parse(sessionStorage.getItem('auth') || 'null') || {};
export const isInstructor = () => (auth.user?.roles || []).includes('instructor');

// isStaff says whether to offer the admin console link: the console itself
// checks permissions, so this only hides a link that would show nothing.
export function isStaff() {
  const roles = auth.user?.roles || [];
  return roles.includes('admin') || roles.includes('support');
}

// sessionHooks are set by main.js: refreshed(token) after a token rotation
// (the open socket re-authenticates), lost() when the refresh is refused.
export const sessionHooks = { refreshed: () => {}, lost: () => {} };

// ApiError is a refused request: status, the error code and field details.
export class ApiError extends Error {
  constructor(status, body) {
    super(body?.message || `Request failed (${status})`);
    this.status = status; this.code = body?.code; this.details = body?.details;
  }
}

// api sends a JSON request and resolves to the decoded body, or throws ApiError.
export async function api(method, path, body, headers = {}, retried = false) {
  const hdrs = { Accept: 'application/json', ...headers };
  if (body !== undefined) hdrs['Content-Type'] = 'application/json';
  if (auth.access) hdrs.Authorization = 'Bearer ' + auth.access;
  const res = await fetch('/api/v1' + path, { method, headers: hdrs, body: body === undefined ? undefined : JSON.stringify(body) });
  if (res.status === 401 && auth.refresh && !retried && await refreshTokens()) return api(method, path, body, headers, true);
  const text = await res.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { /* not JSON: keep null */ }
  if (!res.ok) throw new ApiError(res.status, data?.error);
  return data;
}

// items is the list of a paged answer (or the answer when it is a list).
export const items = (x) => (Array.isArray(x) ? x : x?.items || []);

// errorText turns an API error into one readable line, naming the fields.
export function errorText(e) {
  const d = e.details && Object.keys(e.details).length ? ' ' + Object.entries(e.details).map(([k, v]) => `${k}: ${v}`).join('; ') : '';
  return (e.message || 'Something went wrong.') + d;
}

export function setSession(r) {
  auth.access = r.access_token; auth.refresh = r.refresh_token; auth.user = r.user;
  auth.expiresAt = Date.now() + (r.expires_in || 900) * 1000;
  saveSession();
  scheduleRefresh();
}

// saveSession stores auth after a change to it (e.g. the email got verified).
export function saveSession() { sessionStorage.setItem('auth', JSON.stringify(auth)); }

export function clearSession() {
  for (const k of Object.keys(auth)) delete auth[k];
  sessionStorage.removeItem('auth');
}

let refreshing = null, refreshTimer = 0;
// refreshTokens rotates the refresh token once, however many callers ask, and
// hands the new access token to the open socket so it is not closed with 4001.
export function refreshTokens() {
  if (!refreshing) {
    refreshing = fetch('/api/v1/auth/refresh', {
      method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ refresh_token: auth.refresh }),
    }).then(async (res) => {
      if (!res.ok) { clearSession(); sessionHooks.lost(); return false; }
      setSession(await res.json());
      sessionHooks.refreshed(auth.access);
      return true;
    }).catch(() => false).finally(() => { refreshing = null; });
  }
  return refreshing;
}

// scheduleRefresh rotates the tokens a minute before the access token expires.
export function scheduleRefresh() {
  clearTimeout(refreshTimer);
  if (auth.refresh) refreshTimer = setTimeout(refreshTokens, Math.max(5000, auth.expiresAt - Date.now() - 60000));
}
