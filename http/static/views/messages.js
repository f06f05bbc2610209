// Messages (#/messages, #/messages/<conversation id>): the conversation
// list, one thread with its composer and read receipts, and the unread
// count beside the "Messages" link. Live updates come from the private
// topic's message.created and conversation.read events, which usertopic.js
// hands over as the document event 'hub:message'. Bodies are always text
// nodes (h() never parses HTML).
import { api, auth, errorText } from '../api.js';
import { live } from '../conn.js';
import { $, h, toast } from '../dom.js';
import { uuid } from '../format.js';
import { current, go, onLeave } from '../nav.js';

const state = { unread: 0, open: null }; // open: the conversation shown, if any

// canMessage: students and instructors hold conversations:use; staff do not
// (support reads conversations only through the audited admin view).
export const canMessage = () => (auth.user?.roles || []).some((r) => r === 'student' || r === 'instructor');
const when = (iso) => new Date(iso).toLocaleString('en-US', { month: 'short', day: 'numeric', hour: 'numeric', minute: '2-digit' });

// setUnread shows the total of unread messages on the nav link.
function setUnread(n) {
  state.unread = Math.max(0, n || 0);
  const c = $('#msg-count');
  if (!c) return;
  c.textContent = state.unread ? String(state.unread) : '';
  c.closest('a')?.setAttribute('aria-label', `Messages, ${state.unread} unread`);
}

let countTimer = 0;
// refreshUnread refetches the total (coalesced: one request per burst).
function refreshUnread() {
  clearTimeout(countTimer);
  countTimer = setTimeout(async () => {
    if (!canMessage()) return setUnread(0);
    try { setUnread((await api('GET', '/conversations?limit=1')).unread); } catch { /* keep the last count */ }
  }, 150);
}

// openWith opens (or finds) the conversation with userId and shows it.
export async function openWith(userId) {
  try {
    const c = await api('POST', '/conversations', { user_id: userId });
    go('#/messages/' + c.id);
  } catch (e) { toast(errorText(e), 'error'); }
}

// messageButton is the "Message" button of instructor pages and lessons.
export function messageButton(userId, label = 'Message') {
  if (!canMessage() || auth.user.id === userId) return null;
  return h('button', { type: 'button', class: 'message-button', dataset: { userId }, onclick: () => openWith(userId) }, label);
}

// viewMessages draws the list and, when id is given, the thread.
export async function viewMessages(main, id) {
  const alive = current();
  const list = h('ul', { id: 'conv-list', class: 'conv-list', 'aria-label': 'Conversations' });
  const side = h('nav', { class: 'panel conv-side', 'aria-labelledby': 'm-h' }, h('h1', { id: 'm-h' }, 'Messages'), list);
  const layout = h('div', { class: 'messages', dataset: { open: id ? 'thread' : 'list' } }, side);
  main.append(layout);
  const drawList = async () => {
    const page = await api('GET', '/conversations?limit=50');
    if (!alive()) return;
    setUnread(page.unread);
    list.replaceChildren(...(page.items.length ? page.items.map((c) => convItem(c, id)) : [h('li', { class: 'muted' }, 'No conversations yet. Message an instructor from their page.')]));
  };
  const thread = id ? await openThread(layout, id, alive, drawList) : null;
  if (thread) onLeave(live.on('typing', (f) => thread.typing(f)));
  const onEvent = (e) => { thread?.onEvent(e.detail); drawList().catch(() => {}); };
  // History too old to replay (reset): what was missed comes from REST again.
  const onReset = () => { thread?.reload(); drawList().catch(() => {}); };
  const onVisible = () => { if (!document.hidden) thread?.seen(); };
  document.addEventListener('hub:message', onEvent);
  document.addEventListener('hub:notification-reset', onReset);
  document.addEventListener('visibilitychange', onVisible);
  onLeave(() => {
    document.removeEventListener('hub:message', onEvent);
    document.removeEventListener('hub:notification-reset', onReset);
    document.removeEventListener('visibilitychange', onVisible);
    state.open = null;
  });
  drawList().catch((e) => list.replaceChildren(h('li', { class: 'error', role: 'alert' }, e.message)));
}

function convItem(c, openId) {
  const last = c.last_message;
  return h('li', { class: 'conv', dataset: { id: c.id, unread: String(c.unread) } },
    h('a', { href: '#/messages/' + c.id, 'aria-current': c.id === openId ? 'page' : null },
      h('strong', {}, c.other.full_name),
      c.unread ? h('span', { class: 'bell-count', 'aria-label': `${c.unread} unread` }, String(c.unread)) : null,
      h('span', { class: 'muted conv-preview' }, last ? (last.sender_id === auth.user.id ? 'You: ' : '') + last.body.slice(0, 80) : 'No messages yet')));
}

// openThread draws one conversation; it returns the handler of live events.
async function openThread(layout, id, alive, drawList) {
  const sec = h('section', { class: 'panel thread', 'aria-labelledby': 't-h' });
  layout.append(sec);
  let conv, page;
  try {
    [conv, page] = await Promise.all([api('GET', '/conversations/' + id), api('GET', `/conversations/${id}/messages?limit=100`)]);
  } catch (e) { sec.replaceChildren(h('p', { class: 'error', role: 'alert' }, e.message)); return null; }
  if (!alive()) return null;
  state.open = id;
  const t = { conv, msgs: page.items.slice().reverse(), readUpTo: page.read_up_to || {} };
  const ol = h('ol', { id: 'thread-messages', class: 'thread-messages', 'aria-live': 'polite', 'aria-label': 'Messages with ' + conv.other.full_name });
  const draw = () => { ol.replaceChildren(...t.msgs.map((m) => messageItem(m, t))); ol.scrollTop = ol.scrollHeight; };
  // Typing (ephemeral, never stored): shown for a few seconds after each frame.
  const typingNote = h('p', { id: 'typing', class: 'muted typing', role: 'status' });
  let typingTimer = 0;
  const showTyping = (on) => {
    clearTimeout(typingTimer);
    typingNote.textContent = on ? `${conv.other.full_name} is typing…` : '';
    if (on) typingTimer = setTimeout(() => showTyping(false), 4000);
  };
  sec.append(threadHead(t, drawList), ol, typingNote, composer(t, draw));
  draw();
  markRead(t);
  return {
    seen: () => markRead(t),
    typing(f) { if (f.conversation_id === id && f.user_id === conv.other.id) showTyping(true); },
    async reload() {
      const p = await api('GET', `/conversations/${id}/messages?limit=100`).catch(() => null);
      if (!p || !alive()) return;
      t.msgs = p.items.slice().reverse(); t.readUpTo = p.read_up_to || {};
      draw(); markRead(t);
    },
    onEvent(ev) {
      const d = ev.data || {};
      if (d.conversation_id !== id) return;
      if (ev.event === 'message.created' && !t.msgs.some((m) => m.id === d.message.id)) {
        if (d.message.sender_id === conv.other.id) showTyping(false);
        t.msgs.push(d.message); draw(); markRead(t);
      } else if (ev.event === 'conversation.read') { t.readUpTo[d.reader_id] = d.message_id; draw(); }
    },
  };
}

function threadHead(t, drawList) {
  const block = h('button', { type: 'button', class: 'link', onclick: async () => {
    try {
      await api(t.conv.blocked ? 'DELETE' : 'POST', `/conversations/${t.conv.id}/block`);
      t.conv.blocked = !t.conv.blocked;
      block.textContent = t.conv.blocked ? 'Unblock' : 'Block';
      toast(t.conv.blocked ? `${t.conv.other.full_name} can no longer message you.` : 'Unblocked.', 'success');
      drawList().catch(() => {});
    } catch (e) { toast(errorText(e), 'error'); }
  } }, t.conv.blocked ? 'Unblock' : 'Block');
  return h('div', { class: 'row between thread-head' },
    h('a', { href: '#/messages', class: 'back' }, '← All messages'),
    h('h2', { id: 't-h' }, t.conv.other.full_name), block);
}

// messageItem is one message; the last of mine the other party has read
// carries the receipt.
function messageItem(m, t) {
  const mine = m.sender_id === auth.user.id;
  const seen = mine && t.readUpTo[t.conv.other.id] === m.id;
  return h('li', { class: 'msg', dataset: { id: m.id, mine: String(mine) } },
    h('p', { class: 'msg-body' }, m.body || '(deleted)'),
    h('p', { class: 'muted msg-meta' }, h('time', { datetime: m.created_at }, when(m.created_at)),
      seen ? h('span', { class: 'receipt', dataset: { receipt: 'read' } }, ' · Seen') : null));
}

function composer(t, draw) {
  const box = h('textarea', { id: 'msg-body', rows: 2, maxlength: 2000, required: true, placeholder: 'Write a message…' });
  const err = h('p', { class: 'error', role: 'alert' });
  const form = h('form', { class: 'composer', onsubmit: async (e) => {
    e.preventDefault();
    const body = box.value.trim();
    if (!body) return;
    const send = form.querySelector('button');
    send.disabled = true; err.textContent = '';
    try {
      // One key per message: a retried request never sends it twice.
      const m = await api('POST', `/conversations/${t.conv.id}/messages`, { body }, { 'Idempotency-Key': uuid() });
      if (!t.msgs.some((x) => x.id === m.id)) t.msgs.push(m);
      box.value = ''; draw();
    } catch (ex) { err.textContent = ex.code === 'blocked' ? 'You cannot message this person.' : errorText(ex); }
    send.disabled = false; box.focus();
  } }, h('label', { for: 'msg-body', class: 'sr-only' }, 'Message'), box,
  h('button', { class: 'primary', type: 'submit' }, 'Send'), err);
  box.addEventListener('keydown', (e) => { if (e.key === 'Enter' && !e.shiftKey) { e.preventDefault(); form.requestSubmit(); } });
  // Tell the other party we are typing: at most one frame every 3 s.
  let lastTyping = 0;
  box.addEventListener('input', () => {
    if (!box.value.trim() || Date.now() - lastTyping < 3000) return;
    lastTyping = Date.now();
    live.send({ type: 'typing', conversation_id: t.conv.id });
  });
  return form;
}

// markRead marks the thread read up to the newest message from the other
// party, if this tab is visible and it is not read yet.
async function markRead(t) {
  const last = [...t.msgs].reverse().find((m) => m.sender_id !== auth.user.id);
  if (!last || document.hidden || t.readUpTo[auth.user.id] === last.id) return;
  t.readUpTo[auth.user.id] = last.id;
  try { await api('POST', `/conversations/${t.conv.id}/read`, { message_id: last.id }); } catch { /* the next view retries */ }
  refreshUnread();
}

// mountMessages keeps the nav's unread count: on sign-in, on every route
// (the nav is redrawn) and on live message events. Call it once.
export function mountMessages() {
  document.addEventListener('hub:message', (e) => {
    const ev = e.detail;
    if (ev.event === 'message.created' && ev.data?.message?.sender_id !== auth.user?.id && state.open !== ev.data?.conversation_id) {
      toast(`New message: ${(ev.data.message.body || '').slice(0, 80)}`, 'info');
    }
    refreshUnread();
  });
  document.addEventListener('hub:notification-reset', refreshUnread);
  window.addEventListener('hashchange', () => { setUnread(state.unread); refreshUnread(); });
  refreshUnread();
}
