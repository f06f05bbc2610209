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
// nextOpenText is "Mon Dec 14, 10:00": the day and date, never a bare weekday that reads as today.
const nextOpenText = (n) => {
  const d = new Date(n.date + 'T12:00:00Z'), part = (o) => d.toLocaleDateString('en-US', { ...o, timeZone: 'UTC' });
  return `${part({ weekday: 'short' })} ${part({ month: 'short' })} ${d.getUTCDate()}, ${n.start}`;
};
const plural = (n, w) => `${n} ${w}${n === 1 ? '' : 's'}`;

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
    }, h('span', { class: 'badge' }, s.kind), ' ', s.text, s.taught === false ? h('span', { class: 'muted' }, ' · no instructors yet') : null)));
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
  const q = (params.get('q') || '').trim(), exact = params.get('exact') === '1', alive = current();
  const chips = h('div', { class: 'chips', id: 'parsed', role: 'group', 'aria-label': 'Understood' });
  const results = h('div', { id: 'search-results', 'aria-live': 'polite', 'aria-busy': 'true' });
  const recent = h('section', { id: 'recent', class: 'recent', 'aria-labelledby': 'recent-h', hidden: true });
  main.append(h('section', { class: 'panel', 'aria-labelledby': 'find-h' },
    h('h1', { id: 'find-h' }, 'Find an instructor'), searchBox(q), chips, recent), results);
  loadRecent(recent);
  if (!q) { results.setAttribute('aria-busy', 'false'); return; }
  let res;
  try { res = await api('GET', '/search?limit=20&q=' + encodeURIComponent(q) + (exact ? '&exact=1' : '')); } catch (e) {
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
  results.replaceChildren(...[didYouMean(res), h('h2', {}, items.length ? plural(items.length, 'instructor') : 'No instructors match'),
    ...(items.length ? [h('ul', { class: 'cards' }, items.map(resultCard))] : noResults(res))].filter(Boolean));
  results.setAttribute('aria-busy', 'false');
  if (auth.user) setTimeout(() => { if (alive()) loadRecent(recent); }, 400); // the search was just recorded
}

// didYouMean says which words were corrected, with the way back to the words as typed.
function didYouMean(res) {
  if (!res.did_you_mean) return null;
  return h('p', { id: 'did-you-mean', class: 'banner' }, 'Showing results for ', h('strong', {}, res.did_you_mean),
    ' — search instead for ', h('a', { href: searchHref(res.query) + '&exact=1' }, res.query));
}

// resultCard is one instructor with a "next open" link to that slot of their week.
function resultCard(it) {
  const svc = it.services[0];
  const base = `#/instructors/${it.instructor_id}?service_id=${svc ? svc.service_id : ''}`;
  const from = Math.min(...it.services.map((s) => s.hourly_rate_cents));
  const n = it.next_open;
  return h('li', { class: 'card result', dataset: { id: it.instructor_id } },
    h('div', { class: 'card-head' }, avatar(it.full_name, it.photo_url), h('h3', {}, h('a', { href: base }, it.full_name), onlineBadge(it.online))),
    h('p', { class: 'price' }, `from ${fmtMoney(from)}/h`),
    h('p', { class: 'muted' }, it.areas.join(' · ')),
    h('p', {}, it.services.map((s) => `${s.name} (${fmtMoney(s.hourly_rate_cents)})`).join(', ')),
    // The week opens at that date with that time (at the length it fits) picked.
    n ? h('a', { class: 'next-open', href: `${base}&date=${n.date}&start=${n.start}${n.duration_minutes ? '&dur=' + n.duration_minutes : ''}`,
      dataset: { date: n.date, start: n.start } }, `next open: ${nextOpenText(n)}`)
      : h('p', { class: 'muted' }, 'No open time in the next 14 days. ', h('a', { href: base, class: 'watch-link' }, 'Tell me when a time opens')));
}

// noResults never ends the search: services nobody teaches are named as such,
// wider searches that do find someone are one click away (with their counts),
// and what was not understood is said, with services people do teach.
function noResults(res) {
  const p = res.parsed, out = [];
  const untaught = p.services.filter((s) => !s.taught);
  if (untaught.length && untaught.length === p.services.length) {
    out.push(h('p', { class: 'untaught' }, `Nobody teaches ${untaught.map((s) => s.name).join(', ')} here yet.`));
  }
  if (res.relaxations.length) {
    out.push(h('p', { id: 'relax-h' }, 'Nearest searches that find someone:'),
      h('ul', { class: 'chips relaxations', 'aria-labelledby': 'relax-h' }, res.relaxations.map((r) => h('li', {},
        h('a', { class: 'chip relax', href: searchHref(r.query) + (res.exact ? '&exact=1' : ''), dataset: { kind: r.kind, count: r.count } },
          `${r.label} — ${plural(r.count, 'instructor')}`)))));
  } else if (p.chips.length) {
    out.push(h('p', { class: 'muted' }, 'Remove a chip above or try other words.'));
  } else {
    const words = p.unmatched.length ? p.unmatched.join(', ') : res.query;
    out.push(h('p', { class: 'muted not-understood' }, `We didn't understand "${words}". Try a lesson, an area or a day, e.g. "guitar in brooklyn saturday".`));
  }
  if (!res.relaxations.length && res.popular.length) {
    out.push(h('p', { id: 'popular-h' }, 'Popular lessons:'),
      h('ul', { class: 'chips popular', 'aria-labelledby': 'popular-h' }, res.popular.map((s) => h('li', {},
        h('a', { class: 'chip', href: searchHref(s.name) }, `${s.name} — ${plural(s.instructor_count, 'instructor')}`)))));
  }
  return out;
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
