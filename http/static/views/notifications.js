// Notifications: a bell in the header with the live unread count, the inbox
// (mark read, link to the lesson) and the notification settings. It hears
// the private topic's notification.* events, which usertopic.js hands over
// as the document event 'hub:notification'.
import { api, auth, errorText } from '../api.js';
import { $, h, toast } from '../dom.js';

// bellIcon is drawn in SVG: emoji fonts are not everywhere.
function bellIcon() {
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  for (const [k, v] of Object.entries({ viewBox: '0 0 24 24', width: '20', height: '20', 'aria-hidden': 'true', fill: 'none', stroke: 'currentColor', 'stroke-width': '2', 'stroke-linecap': 'round', 'stroke-linejoin': 'round' })) svg.setAttribute(k, v);
  for (const d of ['M6 8a6 6 0 0 1 12 0c0 7 3 9 3 9H3s3-2 3-9', 'M10.3 21a1.94 1.94 0 0 0 3.4 0']) {
    const p = document.createElementNS(ns, 'path');
    p.setAttribute('d', d);
    svg.append(p);
  }
  return svg;
}

const bell = {
  userId: null, unread: 0, items: [], next: null, open: false, settings: null,

  // mount adds the bell to the header once; refresh() follows sign-in/out.
  mount() {
    this.root = h('div', { id: 'bell', class: 'bell', hidden: true });
    this.button = h('button', { id: 'bell-button', class: 'bell-button', 'aria-haspopup': 'dialog', 'aria-expanded': 'false',
      onclick: () => this.toggle() }, bellIcon(), h('span', { id: 'bell-count', class: 'bell-count' }, ''));
    this.panel = h('section', { id: 'bell-panel', class: 'bell-panel panel', role: 'dialog', 'aria-label': 'Notifications', hidden: true });
    this.root.append(this.button, this.panel);
    $('#conn').before(this.root);
    document.addEventListener('keydown', (e) => { if (e.key === 'Escape' && this.open) this.toggle(false); });
  },

  async refresh() {
    const id = auth.user?.id || null;
    if (id === this.userId) return;
    this.userId = id; this.items = []; this.next = null; this.settings = null;
    this.root.hidden = !id;
    this.toggle(false);
    if (id) await this.load();
    else this.setUnread(0);
  },

  async load(more = false) {
    try {
      const q = more && this.next ? '?cursor=' + encodeURIComponent(this.next) : '';
      const r = await api('GET', '/notifications' + q);
      this.items = more ? this.items.concat(r.items) : r.items;
      this.next = r.next_cursor;
      this.setUnread(r.unread);
      if (this.open) this.render();
    } catch (e) { console.warn('notifications', e.message); }
  },

  setUnread(n) {
    this.unread = Math.max(0, Number(n) || 0);
    this.button.dataset.unread = String(this.unread);
    $('#bell-count').textContent = this.unread ? String(this.unread) : '';
    this.button.setAttribute('aria-label', `Notifications, ${this.unread} unread`);
  },

  // onEvent applies a live event of the user's private topic.
  onEvent(ev) {
    if (ev.event === 'notification.created') {
      const n = ev.data;
      if (this.items.some((x) => x.id === n.id)) return;
      this.items.unshift(n);
      this.setUnread(this.unread + 1);
    } else if (ev.event === 'notification.read') {
      const ids = new Set(ev.data.ids || []);
      for (const n of this.items) if (ids.has(n.id) && !n.read_at) n.read_at = ev.ts;
      this.setUnread(ev.data.unread);
    }
    if (this.open) this.render();
  },

  toggle(force) {
    this.open = force ?? !this.open;
    this.panel.hidden = !this.open;
    this.button.setAttribute('aria-expanded', String(this.open));
    if (this.open) { this.render(); this.loadSettings(); }
  },

  async markRead(body) {
    try { await api('POST', '/notifications/read', body); } catch (e) { toast(e.message, 'error'); return; }
    // The notification.read event updates every device; this one at once.
    const ids = new Set(body.ids || []);
    let marked = 0;
    for (const n of this.items) if (!n.read_at && (body.all || ids.has(n.id))) { n.read_at = new Date().toISOString(); marked++; }
    this.setUnread(body.all ? 0 : this.unread - marked);
    this.render();
  },

  render() {
    const when = (iso) => new Date(iso).toLocaleString('en-US', { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
    const list = h('ul', { id: 'notif-list', class: 'notif-list', 'aria-live': 'polite' },
      this.items.length ? this.items.map((n) => h('li', { class: 'notif', dataset: { id: n.id, kind: n.kind, unread: n.read_at ? 'false' : 'true' } },
        h('strong', {}, n.title ?? ''), n.body ? h('p', {}, n.body) : null,
        h('p', { class: 'muted notif-meta' }, when(n.created_at),
          n.booking_id ? h('a', { href: '#/lessons?booking=' + n.booking_id, onclick: () => { if (!n.read_at) this.markRead({ ids: [n.id] }); this.toggle(false); } }, 'Open lesson') : null,
          n.read_at ? null : h('button', { class: 'link', onclick: () => this.markRead({ ids: [n.id] }) }, 'Mark read'))))
        : h('li', { class: 'muted' }, 'Nothing yet.'));
    this.panel.replaceChildren(
      h('div', { class: 'row notif-head' }, h('h2', {}, 'Notifications'),
        h('button', { class: 'link', disabled: !this.unread, onclick: () => this.markRead({ all: true }) }, 'Mark all read')),
      list,
      this.next ? h('button', { onclick: () => this.load(true) }, 'Older') : null,
      this.settingsForm());
  },

  async loadSettings() {
    if (this.settings) return;
    try { this.settings = await api('GET', '/me/notification-settings'); if (this.open) this.render(); } catch (e) { console.warn(e.message); }
  },

  settingsForm() {
    const s = this.settings;
    if (!s) return h('p', { class: 'muted' }, 'Loading settings…');
    const email = h('input', { type: 'checkbox', id: 'ns-email', checked: s.email });
    const rem = h('input', { type: 'checkbox', id: 'ns-reminders', checked: s.reminders });
    const hours = h('input', { id: 'ns-hours', value: (s.reminder_hours || []).join(', '), inputmode: 'numeric', 'aria-describedby': 'ns-hours-help' });
    const status = h('span', { class: 'muted', role: 'status' });
    return h('form', { class: 'notif-settings', onsubmit: async (e) => {
      e.preventDefault();
      const list = hours.value.split(/[\s,]+/).filter(Boolean).map(Number);
      try {
        this.settings = await api('PUT', '/me/notification-settings', { email: email.checked, reminders: rem.checked, reminder_hours: list });
        status.textContent = 'Saved.';
      } catch (err) { status.textContent = errorText(err); }
    } },
    h('h3', {}, 'Settings'),
    h('label', {}, email, ' Email me'),
    h('label', {}, rem, ' Lesson reminders'),
    h('label', { for: 'ns-hours' }, 'Remind me (hours before)'), hours,
    h('small', { id: 'ns-hours-help', class: 'muted' }, 'Up to 4, e.g. 24, 1'),
    h('div', { class: 'row' }, h('button', { class: 'primary', type: 'submit' }, 'Save'), status));
  },
};

// mountBell adds the bell to the header and follows sign-in/out, live
// events and #/notifications (the emails' link). Call it once, after the
// first route.
export function mountBell() {
  bell.mount();
  bell.refresh();
  document.addEventListener('hub:notification', (e) => bell.onEvent(e.detail));
  document.addEventListener('hub:notification-reset', () => { bell.userId = null; bell.refresh(); });
  // Sign-in and sign-out both navigate; emails link to #/notifications.
  window.addEventListener('hashchange', () => {
    bell.refresh();
    if (location.hash === '#/notifications' && auth.user) bell.toggle(true);
  });
  if (location.hash === '#/notifications' && auth.user) bell.toggle(true);
}
