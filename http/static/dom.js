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

// toast shows a dismissable message in #toasts; kind is info, success,
// error or booking (data-kind, which the e2e test reads). At most two show
// at once (the oldest goes), the same text again counts up instead of
// stacking, and each goes after 6 s (errors stay until dismissed or pushed
// out, so they can be read).
export function toast(text, kind = 'info') {
  const box = $('#toasts');
  const same = [...box.children].find((t) => t.dataset.kind === kind && t.dataset.text === text);
  if (same) {
    const n = Number(same.dataset.count || 1) + 1;
    same.dataset.count = String(n);
    same.querySelector('.toast-count').textContent = ` (×${n})`;
    clearTimeout(same.timer); same.timer = setTimeout(() => same.remove(), 6000);
    return;
  }
  const t = h('div', { class: 'toast', dataset: { kind, text } }, h('span', {}, text, h('span', { class: 'toast-count' })),
    h('button', { type: 'button', class: 'link', 'aria-label': 'Dismiss notification', onclick: () => t.remove() }, '×'));
  box.append(t);
  while (box.children.length > 2) box.firstElementChild.remove();
  if (kind !== 'error') t.timer = setTimeout(() => t.remove(), 6000);
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

// ---------- field errors ----------

// showFieldErrors puts each problem of a refused form as a sentence under
// its field (aria-invalid, aria-describedby) and returns the sentences it
// found no field for. controls maps detail keys to their inputs.
export function showFieldErrors(form, details, controls, sentence) {
  clearFieldErrors(form);
  const rest = [];
  for (const [key, msg] of Object.entries(details || {})) {
    const ctl = controls[key];
    const text = sentence(key, msg);
    if (!ctl) { rest.push(text); continue; }
    const p = h('p', { class: 'field-error', id: ctl.id + '-error' }, text);
    ctl.setAttribute('aria-invalid', 'true');
    ctl.setAttribute('aria-describedby', [ctl.getAttribute('aria-describedby'), p.id].filter(Boolean).join(' '));
    (ctl.closest('.field') || ctl).after(p);
  }
  form.querySelector('[aria-invalid="true"]')?.focus();
  return rest;
}

// clearFieldErrors removes what showFieldErrors added.
export function clearFieldErrors(form) {
  for (const p of form.querySelectorAll('.field-error')) {
    const ctl = form.querySelector(`[aria-describedby~="${p.id}"]`);
    if (ctl) {
      ctl.removeAttribute('aria-invalid');
      const rest = ctl.getAttribute('aria-describedby').split(' ').filter((x) => x !== p.id).join(' ');
      if (rest) ctl.setAttribute('aria-describedby', rest); else ctl.removeAttribute('aria-describedby');
    }
    p.remove();
  }
}
