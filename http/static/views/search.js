// Search: the search box with suggestions while typing, and the results page
// (#/search?q=…) with the parsed query as removable chips, ranked
// instructors with "next open" links, and the signed-in user's recent searches.
import { api, auth } from '../api.js';
import { h, toast } from '../dom.js';
import { fmtMoney } from '../format.js';
import { current, go } from '../nav.js';
import { avatar } from './photo.js';
import { onlineBadge } from './presence.js';

const searchHref = (q) => '#/search?q=' + encodeURIComponent(q);
const shortDay = (iso) => new Date(iso + 'T12:00:00Z').toLocaleDateString('en-US', { weekday: 'short', timeZone: 'UTC' });

// searchBox is the search form with a suggestion list (combobox pattern):
// typing asks /search/suggest (debounced), arrows move, Enter picks.
export function searchBox(initial = '') {
  const input = h('input', {
    id: 'q', type: 'search', value: initial, autocomplete: 'off', placeholder: 'Try "guitar in brooklyn under $80 saturday"',
    role: 'combobox', 'aria-autocomplete': 'list', 'aria-expanded': 'false', 'aria-controls': 'suggest',
  });
  const list = h('ul', { id: 'suggest', class: 'suggest', role: 'listbox', hidden: true });
  let timer = 0, seq = 0, active = -1, shown = [];
  const close = () => { list.hidden = true; input.setAttribute('aria-expanded', 'false'); active = -1; };
  const pick = (s) => {
    close();
    if (s.kind === 'instructor' && s.id) return go('#/instructors/' + s.id);
    const words = input.value.trim().split(/\s+/);
    // A completion replaces the word being typed; a recent search replaces all.
    const q = s.kind === 'recent' ? s.text : [...words.slice(0, -1), s.text].join(' ');
    input.value = q;
    go(searchHref(q));
  };
  const mark = () => list.querySelectorAll('li').forEach((li, i) => li.setAttribute('aria-selected', String(i === active)));
  async function suggest() {
    const n = ++seq;
    const q = input.value.trim().split(/\s+/).pop() || '';
    if (!q && !auth.user) return close();
    let res;
    try { res = await api('GET', '/search/suggest?limit=8&q=' + encodeURIComponent(q)); } catch { return; }
    if (n !== seq) return; // an older answer arriving late
    shown = res.items || [];
    if (!shown.length) return close();
    list.replaceChildren(...shown.map((s, i) => h('li', {
      role: 'option', id: 'sg-' + i, class: 'suggestion', dataset: { kind: s.kind },
      onmousedown: (e) => { e.preventDefault(); pick(s); },
    }, h('span', { class: 'badge' }, s.kind), ' ', s.text)));
    active = -1; list.hidden = false; input.setAttribute('aria-expanded', 'true');
  }
  input.addEventListener('input', () => { clearTimeout(timer); timer = setTimeout(suggest, 120); });
  input.addEventListener('focus', () => { if (!input.value && auth.user) suggest(); });
  input.addEventListener('blur', () => setTimeout(close, 100));
  input.addEventListener('keydown', (e) => {
    if (list.hidden) return;
    if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      e.preventDefault();
      active = (active + (e.key === 'ArrowDown' ? 1 : shown.length - 1)) % shown.length;
      input.setAttribute('aria-activedescendant', 'sg-' + active);
      mark();
    } else if (e.key === 'Enter' && active >= 0) {
      e.preventDefault(); pick(shown[active]);
    } else if (e.key === 'Escape') close();
  });
  return h('form', {
    role: 'search', class: 'row searchbox', onsubmit: (e) => { e.preventDefault(); close(); if (input.value.trim()) go(searchHref(input.value.trim())); },
  }, h('label', { for: 'q', class: 'sr-only' }, 'Search instructors'), h('div', { class: 'combo' }, input, list),
  h('button', { class: 'primary' }, 'Search'));
}

// withoutChip removes a chip's words from the query, widening the search.
function withoutChip(q, source) {
  const i = q.toLowerCase().indexOf(source.toLowerCase());
  return (i < 0 ? q : q.slice(0, i) + ' ' + q.slice(i + source.length)).replace(/\s+/g, ' ').trim();
}

export async function viewSearch(main, params) {
  const q = (params.get('q') || '').trim(), alive = current();
  const chips = h('div', { class: 'chips', id: 'parsed', role: 'group', 'aria-label': 'Understood' });
  const results = h('div', { id: 'search-results', 'aria-live': 'polite', 'aria-busy': 'true' });
  const recent = h('section', { id: 'recent', class: 'recent', 'aria-labelledby': 'recent-h', hidden: true });
  main.append(h('section', { class: 'panel', 'aria-labelledby': 'find-h' },
    h('h1', { id: 'find-h' }, 'Find an instructor'), searchBox(q), chips, recent), results);
  loadRecent(recent);
  if (!q) { results.setAttribute('aria-busy', 'false'); return; }
  let res;
  try { res = await api('GET', '/search?limit=20&q=' + encodeURIComponent(q)); } catch (e) {
    results.replaceChildren(h('p', { class: 'error', role: 'alert' }, e.message));
    results.setAttribute('aria-busy', 'false');
    return;
  }
  if (!alive()) return;
  const p = res.parsed;
  chips.replaceChildren(...[...p.chips.map((c) => h('span', { class: 'chip parsed', dataset: { kind: c.kind } },
    h('span', { class: 'muted' }, c.kind + ': '), c.label,
    h('button', {
      type: 'button', class: 'link', 'aria-label': `Remove ${c.kind} ${c.label}`,
      onclick: () => { const w = withoutChip(q, c.source); go(w ? searchHref(w) : '#/search'); },
    }, '×'))),
  p.unmatched.length ? h('span', { class: 'muted unmatched' }, 'Not understood: ' + p.unmatched.join(', ')) : null].filter(Boolean));
  const items = res.items || [];
  results.replaceChildren(h('h2', {}, items.length ? `${items.length} instructor${items.length === 1 ? '' : 's'}` : 'No instructors match'),
    items.length ? h('ul', { class: 'cards' }, items.map((it) => {
      const svc = it.services[0];
      const base = `#/instructors/${it.instructor_id}?service_id=${svc ? svc.service_id : ''}`;
      const from = Math.min(...it.services.map((s) => s.hourly_rate_cents));
      return h('li', { class: 'card result', dataset: { id: it.instructor_id } },
        h('div', { class: 'card-head' }, avatar(it.full_name, it.photo_url), h('h3', {}, h('a', { href: base }, it.full_name), onlineBadge(it.online))),
        h('p', { class: 'price' }, `from ${fmtMoney(from)}/h`),
        h('p', { class: 'muted' }, it.areas.join(' · ')),
        h('p', {}, it.services.map((s) => `${s.name} (${fmtMoney(s.hourly_rate_cents)})`).join(', ')),
        it.next_open
          ? h('a', { class: 'next-open', href: `${base}&date=${it.next_open.date}`, dataset: { date: it.next_open.date, start: it.next_open.start } },
            `next open: ${shortDay(it.next_open.date)} ${it.next_open.start}`)
          : h('p', { class: 'muted' }, 'No open time in the next 14 days'));
    })) : h('p', { class: 'muted' }, 'Remove a chip above or try other words.'));
  results.setAttribute('aria-busy', 'false');
  if (auth.user) setTimeout(() => { if (alive()) loadRecent(recent); }, 400); // the search was just recorded
}

// loadRecent lists the signed-in user's recent searches with delete buttons.
async function loadRecent(box) {
  if (!auth.user) return;
  let list;
  try { list = (await api('GET', '/search/history?limit=8')).items || []; } catch { return; }
  box.hidden = !list.length;
  box.replaceChildren(h('h2', { id: 'recent-h' }, 'Recent searches'),
    h('ul', { class: 'chips' }, list.map((e) => h('li', { class: 'chip recent-item', dataset: { id: e.id } },
      h('a', { href: searchHref(e.query) }, e.query),
      h('button', {
        type: 'button', class: 'link', 'aria-label': 'Delete recent search ' + e.query,
        onclick: async () => { try { await api('DELETE', '/search/history/' + e.id); } catch (ex) { toast(ex.message, 'error'); } loadRecent(box); },
      }, '×')))),
    h('button', {
      type: 'button', class: 'link', onclick: async () => { try { await api('DELETE', '/search/history'); } catch (ex) { toast(ex.message, 'error'); } loadRecent(box); },
    }, 'Clear all'));
}
