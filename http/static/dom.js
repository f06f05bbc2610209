// Small DOM helpers for the page: $, h (element builder), toasts and the
// unread count in the tab title. Strings always become text nodes.

export const $ = (sel, root = document) => root.querySelector(sel);

// h builds an element; strings become text nodes, so nothing is parsed as HTML.
// Attributes named on… become listeners, dataset is merged, false/null skip.
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === false || v == null) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else el.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat()) if (c != null && c !== false) el.append(c);
  return el;
}

// ---------- toasts and notifications (no sound) ----------
let unread = 0;

// toast shows a dismissable message in #toasts for 8 s; kind is info,
// success, error or booking (data-kind, which the e2e test reads).
export function toast(text, kind = 'info') {
  const t = h('div', { class: 'toast', dataset: { kind } }, h('span', {}, text),
    h('button', { class: 'link', 'aria-label': 'Dismiss notification', onclick: () => t.remove() }, '×'));
  $('#toasts').append(t);
  setTimeout(() => t.remove(), 8000);
}

// notify toasts a booking notice and counts it in the title unless the
// instructor is looking at "My week".
export function notify(text) {
  toast(text, 'booking');
  if (document.hidden || location.hash !== '#/teach') { unread++; updateTitle(); }
}

// clearUnread resets the title's count (the instructor opened "My week").
export function clearUnread() { unread = 0; updateTitle(); }

function updateTitle() { document.title = (unread ? `(${unread}) ` : '') + 'InstaInstru'; }

document.addEventListener('visibilitychange', () => { if (!document.hidden && location.hash === '#/teach') clearUnread(); });
