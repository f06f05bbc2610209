// The private user topic (user:<id>): booking notices for both roles, the
// bell's notification.* events and session notices. Views that show
// bookings hook in through userHooks.
import { auth } from './api.js';
import { live } from './conn.js';
import { notify, toast } from './dom.js';
import { fmtDay, fmtMoney } from './format.js';
import { lessonLine } from './views/shared.js';

// userHooks: onUserEvent() reloads a booking list (My lessons), feed(ev)
// adds to the instructor's feed (My week); views set them and reset them on leave.
export const userHooks = { onUserEvent: null, feed: null };

// ownActions are bookings this tab just changed: it already said so.
export const ownActions = new Set();

// watchUser registers the signed-in user's topic once (live.beforeConnect).
export function watchUser() {
  if (!auth.user) return;
  const topic = 'user:' + auth.user.id;
  if (live.topics.has(topic)) return;
  live.watch(topic, onUserTopicEvent, (seq) => {
    // History is gone: the lists come from REST again; live events go on from seq.
    const t = live.topics.get(topic);
    if (t) { t.seq = seq; live.subscribe(topic); }
    document.dispatchEvent(new CustomEvent('hub:notification-reset'));
    userHooks.onUserEvent?.();
  });
}

function onUserTopicEvent(ev) {
  // The inbox's events belong to the bell (views/notifications.js).
  if (ev.event.startsWith('notification.')) { document.dispatchEvent(new CustomEvent('hub:notification', { detail: ev })); return; }
  // Conversations' events belong to the Messages view and count (views/messages.js).
  if (ev.event.startsWith('message.') || ev.event.startsWith('conversation.')) { document.dispatchEvent(new CustomEvent('hub:message', { detail: ev })); return; }
  // The server closes this socket (4001) right after; the refresh fails and the page signs out.
  if (ev.event === 'session.ended') { toast('Your password was changed: you were signed out everywhere.', 'info'); return; }
  if (ev.event === 'account.deleted') return;
  const b = ev.data || {};
  const line = lessonLine(b, auth.user?.id);
  const when = `${fmtDay(b.date)} ${b.start_time}–${b.end_time}${line ? ' · ' + line : ''}`;
  if (ownActions.delete(b.id)) { userHooks.feed?.(ev); userHooks.onUserEvent?.(); return; }
  if (ev.event === 'booking.created') notify(`New booking: ${when} (${fmtMoney(b.price_cents)})`);
  else if (ev.event === 'booking.cancelled') notify(`${b.late ? 'Late cancellation' : 'Lesson cancelled'}: ${when}`);
  else if (ev.event === 'booking.rescheduled') notify(`Lesson moved to ${when}`);
  userHooks.feed?.(ev);
  userHooks.onUserEvent?.();
}
