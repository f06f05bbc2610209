// Instructor photos: the avatar shown on cards and pages (the photo, or a
// placeholder with the initials), and the upload field of the profile and
// "My week" pages (file input, preview, error sentences beside it).
// The server re-encodes every upload (square JPEGs of 96 and 320 px, no
// metadata); photo_url names the 320 px one and "-96.jpg" the small one.
import { ApiError, auth, refreshTokens } from '../api.js';
import { h } from '../dom.js';
import { instructorCache } from './shared.js';

const MAX_BYTES = 5 * 1024 * 1024;
const TYPES = ['image/jpeg', 'image/png', 'image/webp'];

// initials are the first letters of the first and last words of a name.
export function initials(name) {
  const words = String(name || '').trim().split(/\s+/).filter(Boolean);
  if (!words.length) return '?';
  return (words[0][0] + (words.length > 1 ? words[words.length - 1][0] : '')).toUpperCase();
}

// smallURL is the 96 px rendition of a photo_url (the 320 px one).
export const smallURL = (url) => url.replace(/-320\.jpg$/, '-96.jpg');

// avatar is a person's photo, or their initials when they have none.
// size 'small' (cards, 96 px file) or 'large' (profile, 320 px file).
export function avatar(name, photoURL, size = 'small') {
  const cls = 'avatar avatar-' + size;
  if (photoURL) {
    return h('img', { class: cls, src: size === 'small' ? smallURL(photoURL) : photoURL, alt: 'Photo of ' + name,
      width: size === 'small' ? 56 : 128, height: size === 'small' ? 56 : 128, loading: 'lazy', decoding: 'async' });
  }
  return h('span', { class: cls + ' initials', role: 'img', 'aria-label': name + ' (no photo yet)' }, initials(name));
}

// errorSentence says in words why an upload was refused.
export function errorSentence(e) {
  switch (e.code) {
    case 'unsupported_image': return 'That file is not a JPEG, PNG or WebP picture. Choose a photo in one of those formats.';
    case 'image_too_large': return 'That photo is larger than 5 MB. Choose a smaller file, or save it at a lower resolution first.';
    case 'image_dimensions_too_large': return 'That picture has too many pixels (more than 8,000 a side or 40 megapixels). Resize it and try again.';
    case 'image_dimensions_too_small': return 'That picture is too small. Use one at least 64 pixels wide and tall.';
  }
  return e.message || 'The photo could not be saved. Try again.';
}

// sendPhoto PUTs the file as the raw body (or DELETEs with file null) and
// resolves to the answer's JSON; a refused upload throws ApiError.
async function sendPhoto(file, retried = false) {
  const headers = { Accept: 'application/json', Authorization: 'Bearer ' + auth.access };
  if (file) headers['Content-Type'] = file.type;
  const res = await fetch('/api/v1/instructors/me/photo', { method: file ? 'PUT' : 'DELETE', headers, body: file || undefined });
  if (res.status === 401 && !retried && await refreshTokens()) return sendPhoto(file, true);
  const data = res.status === 204 ? null : await res.json().catch(() => null);
  if (!res.ok) throw new ApiError(res.status, data?.error);
  return data;
}

// photoField is the upload control: the current photo (or initials), a
// file input whose choice is previewed and checked here first (type and
// size, so nobody waits for an upload that cannot succeed), Save and Remove.
// onChange(photo_url|null) runs after the server accepted a change.
export function photoField(name, photoURL, onChange = () => {}, idPrefix = 'photo') {
  let current = photoURL, chosen = null;
  const preview = h('div', { class: 'photo-preview' }, avatar(name, current, 'large'));
  const err = h('p', { class: 'error', id: idPrefix + '-error', role: 'alert' });
  const hint = h('p', { class: 'muted hint', id: idPrefix + '-hint' },
    'JPEG, PNG or WebP, up to 5 MB. It is cropped to a square; location and camera details are removed.');
  const input = h('input', { type: 'file', id: idPrefix + '-file', accept: TYPES.join(','), 'aria-describedby': `${idPrefix}-hint ${idPrefix}-error` });
  const save = h('button', { type: 'button', class: 'primary', disabled: true }, 'Save photo');
  const remove = h('button', { type: 'button', hidden: !current }, 'Remove photo');
  const status = h('p', { class: 'muted', role: 'status' });
  const show = (url) => preview.replaceChildren(avatar(name, url, 'large'));
  input.addEventListener('change', () => {
    err.textContent = ''; status.textContent = '';
    chosen = input.files[0] || null;
    save.disabled = true;
    input.removeAttribute('aria-invalid');
    if (!chosen) return show(current);
    const problem = !TYPES.includes(chosen.type) ? 'unsupported_image' : chosen.size > MAX_BYTES ? 'image_too_large' : '';
    if (problem) { err.textContent = errorSentence({ code: problem }); input.setAttribute('aria-invalid', 'true'); chosen = null; return show(current); }
    const reader = new FileReader();
    reader.onload = () => preview.replaceChildren(h('img', { class: 'avatar avatar-large', src: reader.result, alt: 'Preview of your new photo', width: 128, height: 128 }));
    reader.readAsDataURL(chosen); // a data: URL, which the page's CSP allows for images
    save.disabled = false;
  });
  async function change(file) {
    err.textContent = ''; save.disabled = true; remove.disabled = true;
    status.textContent = file ? 'Uploading…' : 'Removing…';
    try {
      const res = await sendPhoto(file);
      current = res ? res.photo_url : null;
      chosen = null; input.value = '';
      instructorCache.delete(auth.user.id);
      show(current);
      status.textContent = file ? 'Photo saved.' : 'Photo removed.';
      remove.hidden = !current;
      onChange(current);
    } catch (e) {
      status.textContent = '';
      err.textContent = errorSentence(e);
      input.setAttribute('aria-invalid', 'true');
      save.disabled = !chosen;
    } finally { remove.disabled = false; }
  }
  save.addEventListener('click', () => chosen && change(chosen));
  remove.addEventListener('click', () => change(null));
  return h('div', { class: 'photo-field' }, preview,
    h('div', { class: 'field' }, h('label', { for: input.id }, 'Profile photo'), input, hint, err,
      h('div', { class: 'row' }, save, remove, status)));
}
