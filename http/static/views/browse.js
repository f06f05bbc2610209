// Browse (#/): categories and their lessons, or instructors by name or
// service, under the search box.
import { api, items } from '../api.js';
import { h } from '../dom.js';
import { avatar } from './photo.js';
import { onlineBadge } from './presence.js';
import { searchBox } from './search.js';

export async function viewBrowse(main, params) {
  const results = h('div', { id: 'results', 'aria-live': 'polite' });
  const q = h('input', { id: 'q', type: 'search', value: params.get('q') || '', placeholder: 'Name, instrument, subject…' });
  main.append(h('section', { class: 'panel', 'aria-labelledby': 'find-h' },
    h('h1', { id: 'find-h' }, 'Find an instructor'),
    searchBox(q.value)), results); // natural-language search with suggestions
  const load = async () => {
    if (params.get('q') || params.get('service')) {
      const qs = params.get('q') ? 'q=' + encodeURIComponent(params.get('q')) : 'service_id=' + encodeURIComponent(params.get('service'));
      const list = items(await api('GET', '/instructors?limit=50&' + qs));
      results.replaceChildren(h('h2', {}, `${list.length} instructor${list.length === 1 ? '' : 's'}`),
        list.length || !params.get('q') ? null : h('p', { class: 'muted' }, 'Nobody teaches this yet. ', h('a', { href: '#/search?q=' + encodeURIComponent(params.get('q') || '') }, 'Search for related lessons')),
        h('ul', { class: 'cards' }, list.map((i) => h('li', { class: 'card' },
          h('div', { class: 'card-head' }, avatar(i.full_name, i.photo_url),
            h('h3', {}, h('a', { href: `#/instructors/${i.id}${params.get('service') ? '?service_id=' + params.get('service') : ''}` }, i.full_name), onlineBadge(i.online))),
          h('p', { class: 'muted' }, (i.areas || []).join(' · ')), h('p', {}, i.bio || '')))));
      return;
    }
    const cats = items(await api('GET', '/categories'));
    const cat = params.get('category') || cats[0]?.id;
    const services = cat ? items(await api('GET', '/services?category=' + encodeURIComponent(cat))) : [];
    results.replaceChildren(
      h('nav', { 'aria-label': 'Categories', class: 'chips' }, cats.map((c) =>
        h('a', { class: 'chip', href: '#/?category=' + c.id, 'aria-current': c.id === cat ? 'true' : null }, c.name))),
      h('h2', {}, 'Lessons'),
      // A service nobody teaches leads to the search, which offers related taught ones.
      h('ul', { class: 'chips' }, services.map((s) => h('li', {}, s.taught === false
        ? h('a', { class: 'chip untaught', href: '#/search?q=' + encodeURIComponent(s.name) }, s.name, h('span', { class: 'muted' }, ' · no instructors yet'))
        : h('a', { class: 'chip', href: '#/?service=' + s.id }, s.name)))));
  };
  load().catch((e) => results.replaceChildren(h('p', { class: 'error', role: 'alert' }, e.message)));
}
