// Pieces several views use: form fields, how a lesson reads, and the
// instructor profile cache.
import { api } from '../api.js';
import { h } from '../dom.js';

// field is a labelled control in a form grid.
export function field(id, label, control, hint) {
  control.id = id;
  return h('div', { class: 'field' }, h('label', { for: id }, label), control, hint ? h('p', { class: 'muted hint' }, hint) : null);
}

// lessonLine is how a booking reads in lists and feeds: when, who, what, where.
export function lessonLine(b, viewerId) {
  const other = b.instructor?.id === viewerId ? b.student : b.instructor;
  const who = other?.full_name ? (b.instructor?.id === viewerId ? other.full_name : 'with ' + other.full_name) : '';
  return [who, b.service_name, b.location?.area].filter(Boolean).join(' · ');
}

// instructorCache holds GET /instructors/{id} promises (null when it failed);
// delete an entry after changing that profile.
export const instructorCache = new Map();
export const instructorOf = (id) => {
  if (!instructorCache.has(id)) instructorCache.set(id, api('GET', '/instructors/' + id).catch(() => null));
  return instructorCache.get(id);
};
