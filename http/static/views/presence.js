// Presence on the page: "N people are looking at this week" on an
// instructor's week, live from the hub's presence frames (ephemeral: no
// seq, pushed at most once a second), and the "Online" badge on
// instructor pages and cards (GET /instructors "online").
import { live } from '../conn.js';
import { h } from '../dom.js';

// lookingLine returns the status line for topic's viewer count and a stop
// function. It says something only from two viewers on: the one reading it
// is one of them (an instructor on their own week is not counted).
export function lookingLine(topic, own) {
  const el = h('p', { id: 'presence', class: 'presence', role: 'status', 'aria-live': 'polite', hidden: true });
  const stop = live.on('presence', (f) => {
    if (f.topic !== topic) return;
    const n = f.watching, shown = own ? n >= 1 : n >= 2;
    el.hidden = !shown;
    el.dataset.watching = n;
    el.textContent = !shown ? '' : own
      ? `${n} ${n === 1 ? 'person is' : 'people are'} looking at your week right now`
      : `${n} people are looking at this week (you included; shown from 2)`;
  });
  return { el, stop };
}

// onlineBadge is the "Online" badge for an instructor with a live
// connection, or nothing.
export const onlineBadge = (online) => (online ? h('span', { class: 'badge online', title: 'Connected right now' }, 'Online') : null);
