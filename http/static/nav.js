// Navigation state shared by the router and the views: go, the "still on
// this view?" check and what to undo when the view is left, and the header's
// links.
import { api, auth, clearSession, isInstructor, isStaff } from './api.js';
import { live } from './conn.js';
import { $, h } from './dom.js';

let disposers = [], viewSeq = 0;

export const go = (hash) => { location.hash = hash; };

// current returns a check that is false once the user has left the view, so
// a view that awaited something does not install handlers for a page gone.
export const current = () => { const n = viewSeq; return () => n === viewSeq; };

// onLeave registers cleanup (unwatch a topic, stop a timer) for the view now shown.
export function onLeave(fn) { disposers.push(fn); }

// leave runs the current view's cleanups; the router calls it before the next view.
export function leave() {
  viewSeq++;
  const fns = disposers;
  disposers = [];
  for (const fn of fns) fn();
}

// renderNav draws the header's links for who is signed in.
export function renderNav() {
  const here = location.hash || '#/';
  const link = (href, text) => h('a', { href, 'aria-current': here.startsWith(href) && href !== '#/' || here === href ? 'page' : null }, text);
  const nav = [link('#/', 'Browse')];
  if (isInstructor()) nav.push(link('#/teach', 'My week'), link('#/onboarding', 'Profile & lessons'));
  if (isStaff()) nav.push(link('#/admin', 'Admin'));
  const chats = (auth.user?.roles || []).some((r) => r === 'student' || r === 'instructor');
  if (chats) nav.push(h('a', { href: '#/messages', 'aria-current': here.startsWith('#/messages') ? 'page' : null }, 'Messages ', h('span', { id: 'msg-count', class: 'bell-count' })));
  if (auth.user) nav.push(link('#/lessons', 'My lessons'),
    h('span', { class: 'who' }, auth.user.full_name), link('#/privacy', 'Privacy'),
    h('button', { class: 'link', onclick: signOut }, 'Sign out'));
  else nav.push(link('#/login', 'Sign in'), link('#/signup', 'Sign up'));
  $('#nav').replaceChildren(...nav);
}

async function signOut() {
  try { await api('POST', '/auth/logout', { refresh_token: auth.refresh }); } catch { /* signing out locally anyway */ }
  clearSession(); live.restart(); go('#/login');
}
