// InstaInstru live page, the one entry module (<script type="module">): no
// build step. It uses only the public REST API (/api/v1) and the WebSocket
// protocol (/ws, ticket auth, resume by seq). Views are chosen by the URL
// hash so the server needs no fallback route. The admin console (and its
// chart library) is imported only when #/admin opens.
import { auth, isInstructor, scheduleRefresh, sessionHooks } from './api.js';
import { live } from './conn.js';
import { $, h } from './dom.js';
import { current, go, leave, renderNav } from './nav.js';
import { watchUser } from './usertopic.js';
import { renderAccountBanner, viewForgot, viewLogin, viewReset, viewSignup, viewVerify } from './views/account.js';
import { viewBrowse } from './views/browse.js';
import { viewInstructor } from './views/instructor.js';
import { viewLessons } from './views/lessons.js';
import { mountMessages, viewMessages } from './views/messages.js';
import { mountBell } from './views/notifications.js';
import { viewOnboarding } from './views/onboarding.js';
import { viewPrivacy } from './views/privacy.js';
import { viewSearch } from './views/search.js';
import { viewTeach } from './views/teach.js';

// route leaves the current view and draws the one the hash names.
function route() {
  leave();
  const [path, query] = location.hash.slice(1).split('?');
  const params = new URLSearchParams(query || '');
  const parts = (path || '/').split('/').filter(Boolean);
  renderNav();
  renderAccountBanner();
  const main = $('#main');
  main.replaceChildren();
  if (parts[0] === 'login') return viewLogin(main);
  if (parts[0] === 'signup') return viewSignup(main, params);
  if (parts[0] === 'verify') return viewVerify(main, params);
  if (parts[0] === 'forgot') return viewForgot(main);
  if (parts[0] === 'reset') return viewReset(main, params);
  if (parts[0] === 'onboarding') return isInstructor() ? viewOnboarding(main, parts[1]) : go('#/login');
  if (parts[0] === 'search') return viewSearch(main, params);
  if (parts[0] === 'instructors' && parts[1]) return viewInstructor(main, parts[1], params);
  if (parts[0] === 'lessons') return auth.user ? viewLessons(main, params.get('scope') || 'upcoming') : go('#/login');
  if (parts[0] === 'teach') return isInstructor() ? viewTeach(main) : go('#/login');
  if (parts[0] === 'admin') return auth.user ? openAdmin(main, parts[1], params) : go('#/login');
  if (parts[0] === 'messages') return auth.user ? viewMessages(main, parts[1]) : go('#/login');
  if (parts[0] === 'privacy') return auth.user ? viewPrivacy(main) : go('#/login');
  return viewBrowse(main, params);
}

// openAdmin imports the console on first use; the module is cached after.
async function openAdmin(main, tab, params) {
  const alive = current();
  try {
    const { viewAdmin } = await import('./views/admin.js');
    if (alive()) await viewAdmin(main, tab, params, alive);
  } catch (e) {
    if (alive()) main.append(h('p', { class: 'error', role: 'alert' }, e.message));
  }
}

sessionHooks.refreshed = (token) => live.send({ type: 'auth', token });
sessionHooks.lost = () => { live.restart(); route(); };
live.beforeConnect = watchUser;

window.addEventListener('hashchange', route);
scheduleRefresh();
route();
live.connect();
mountBell();
mountMessages();
