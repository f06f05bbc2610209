// The booking journey a student trusts (issue 23): the main service is
// preselected, review and confirm with the date in words, the total price
// and the free-until time, a confirmation with a calendar file, the lesson
// in My lessons; a new tab and an emailed link open signed in; signing in
// to continue returns to the picked time; on a phone the header folds into
// a menu, the bell panel and every page fit the screen and the first time
// is on the first screen. axe on each of these views.
import { readFileSync } from 'node:fs';

export default async function (browser, kit) {
  const { BASE, PHONE, ART, rest, login, openPage, signIn, check, must, weekReady, axe } = kit;
  const sarah = (await rest('GET', '/instructors?q=Sarah%20Chen')).body.items.find((i) => i.full_name === 'Sarah Chen');
  must('Sarah Chen is listed', sarah, '');
  const page = await openPage(browser, 'journey-desktop');
  await signIn(page, 'john.smith@example.com');

  // 1. The main service is preselected (not the first alphabetically).
  await page.goto(`${BASE}/#/instructors/${sarah.id}`);
  await weekReady(page);
  const svc = await page.$eval('#svc', (s) => s.selectedOptions[0].textContent);
  check('Sarah\'s page preselects her main service, Piano', /^Piano/.test(svc), svc);
  if (!/^Piano/.test(svc)) await page.selectOption('#svc', await page.$eval('#svc', (s) => [...s.options].find((o) => /^Piano/.test(o.textContent)).value));
  await page.selectOption('#dur', '30');
  check('the price of the chosen length shows before booking', /\$47\.50 for 30 minutes/.test(await page.textContent('#price-line')), await page.textContent('#price-line'));

  // 2. Review and confirm, two weeks ahead (clear of the other scenarios).
  for (let i = 0; i < 2; i++) { await page.getByRole('button', { name: 'Next week →' }).click(); await weekReady(page); }
  const slot = page.locator('.slot').first();
  const [date, start] = [await slot.getAttribute('data-date'), await slot.getAttribute('data-start')];
  await slot.click();
  await page.waitForSelector('#review #confirm-booking');
  const when = await page.textContent('#review-when'), price = await page.textContent('#review-price'), policy = await page.textContent('#review-policy');
  const year = date.slice(0, 4);
  check('the review says the date in words with start–end', /(Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday), \w+ \d+, \d{4}, \d\d:\d\d–\d\d:\d\d/.test(when) && when.includes(year) && when.includes(start + '–'), when);
  check('the review shows the total price of 30 minutes', price.startsWith('$47.50'), price);
  check('the review states the exact free-until time', /Free cancellation until \w+day, \w+ \d+ at \d\d:\d\d/.test(policy), policy);
  check('the picked time is marked', await page.getAttribute(`.slot[data-date="${date}"][data-start="${start}"]`, 'aria-pressed') === 'true');
  await axe(page, 'the review step (desktop)');
  await page.screenshot({ path: `${ART}/booking-review.png` });
  await page.click('#confirm-booking');
  await page.waitForSelector('#confirmation');
  const id = await page.getAttribute('#confirmation', 'data-booking-id');
  check('the confirmation names the lesson', /confirmed/.test(await page.textContent('#confirmation')), id);
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#add-to-calendar')]);
  const ics = readFileSync(await download.path(), 'utf8');
  check('"Add to calendar" downloads an iCalendar file of the lesson', ics.startsWith('BEGIN:VCALENDAR') && ics.includes(`UID:${id}@instainstru`), download.suggestedFilename());
  const token = (await login('john.smith@example.com')).access_token;
  const res = await fetch(`${BASE}/api/v1/bookings/${id}/calendar.ics`, { headers: { Authorization: 'Bearer ' + token } });
  check('calendar.ics is served as text/calendar', res.ok && res.headers.get('content-type').startsWith('text/calendar'), res.headers.get('content-type'));
  await axe(page, 'the confirmation (desktop)');
  await page.getByRole('link', { name: 'See it in My lessons' }).click();
  await page.waitForSelector(`.lesson[data-id="${id}"][data-highlight="true"]`);
  check('My lessons highlights the new lesson with its terms', /Free cancellation until/.test(await page.textContent(`.lesson[data-id="${id}"]`)));
  await axe(page, 'My lessons with a highlighted lesson (desktop)');

  // 3. A new tab opens signed in (the refresh cookie); no token in storage.
  const tab = await page.context().newPage();
  await tab.goto(`${BASE}/#/lessons/${id}`);
  const signedIn = await tab.waitForSelector(`.lesson[data-id="${id}"][data-highlight="true"]`, { timeout: 5000 }).then(() => true, () => false);
  check('a new tab opens signed in, on the linked lesson', signedIn, await tab.evaluate(() => location.hash));
  const stored = await tab.evaluate(() => JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage }));
  check('no token is kept in localStorage or sessionStorage', !/access|refresh|eyJ/.test(stored), stored.slice(0, 120));
  const cookies = await page.context().cookies(BASE + '/api/v1/auth/refresh');
  const c = cookies.find((x) => x.name === 'ii_refresh');
  check('the refresh cookie is HttpOnly, SameSite=Strict, on /api/v1/auth', c?.httpOnly && c?.sameSite === 'Strict' && c?.path === '/api/v1/auth', JSON.stringify(c));

  // The lesson's email link ("Open lesson") opens it, signed in.
  const link = await emailedLessonLink('john.smith@example.com', id);
  if (link) {
    await tab.goto(link.replace(/^https?:\/\/[^/]+/, BASE));
    check('the emailed "Open lesson" link opens the lesson, signed in', await tab.waitForSelector(`.lesson[data-id="${id}"][data-highlight="true"]`, { timeout: 5000 }).then(() => true, () => false), link);
  } else check('the booking email carries a link to the lesson', false, 'no email with #/lessons?booking=' + id);
  await page.context().close();

  // 4. Signed out: picking a time asks to sign in and comes back to it, picked.
  const out = await openPage(browser, 'journey-signed-out');
  await out.goto(`${BASE}/#/instructors/${sarah.id}`);
  await weekReady(out);
  await out.getByRole('button', { name: 'Next week →' }).click();
  await weekReady(out);
  const s2 = out.locator('.slot').nth(1);
  const [d2, t2] = [await s2.getAttribute('data-date'), await s2.getAttribute('data-start')];
  await s2.click();
  await out.waitForSelector('#login-h');
  check('signing in to continue says it will come back', await out.locator('#login-next').count() === 1);
  await out.getByLabel('Email').fill('emma.johnson@example.com');
  await out.getByLabel('Password').fill(kit.PASSWORD);
  await out.getByRole('button', { name: 'Sign in' }).click();
  const back = await out.waitForSelector('#review', { timeout: 10000 }).then(() => true, () => false);
  check('after signing in, the picked time is under review again', back && await out.getAttribute('#review', 'data-date') === d2 && await out.getAttribute('#review', 'data-start') === t2,
    await out.evaluate(() => location.hash));
  await out.context().close();

  await phone(browser, kit, sarah);
}

// emailedLessonLink finds, in Mailpit, the email to `to` that links to
// lesson id (#/lessons?booking=<id>), or null.
async function emailedLessonLink(to, id) {
  const api = process.env.MAILPIT_API;
  for (const deadline = Date.now() + 8000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 200))) {
    const list = await (await fetch(api + '/api/v1/messages?limit=30')).json();
    for (const m of list.messages.filter((x) => x.To.some((t) => t.Address === to)).slice(0, 10)) {
      const full = await (await fetch(api + '/api/v1/message/' + m.ID)).json();
      const hit = full.Text.match(new RegExp(`https?://\\S+/#/lessons\\?booking=${id}`));
      if (hit) return hit[0];
    }
  }
  return null;
}

// phone walks the page at 390×844: the header, the bell, the first time,
// review and confirm, and the admin tables.
async function phone(browser, kit, sarah) {
  const { BASE, PHONE, ART, check, signIn, weekReady, axe } = kit;
  const p = await kit.openPage(browser, 'journey-phone', PHONE);
  await signIn(p, 'emma.johnson@example.com');
  await p.goto(`${BASE}/#/instructors/${sarah.id}`);
  await weekReady(p);
  const header = await p.$eval('header.top', (e) => e.getBoundingClientRect().height);
  check('the phone header is one row (menu button), not a column of links', header < 80, `${header} px`);
  await p.click('#menu-button');
  check('the menu button opens the links', await p.isVisible('#nav a[href="#/lessons"]'));
  await p.keyboard.press('Escape');
  await p.click('#bell-button');
  const bell = await p.$eval('#bell-panel', (e) => { const r = e.getBoundingClientRect(); return { left: r.left, right: r.right, w: innerWidth }; });
  check('the bell panel is inside the screen', bell.left >= 0 && bell.right <= bell.w, JSON.stringify(bell));
  await p.keyboard.press('Escape');
  await p.getByRole('button', { name: 'Next week →' }).click();
  await weekReady(p);
  const top = await p.$eval('.slot', (e) => e.getBoundingClientRect().top + scrollY);
  check('the first bookable time is on the first screen (before the bio)', top < 844, `${Math.round(top)} px down`);
  const wide = async () => p.evaluate(() => document.documentElement.scrollWidth - innerWidth);
  check('the instructor page has no horizontal overflow on the phone', await wide() <= 0, `${await wide()} px`);
  for (let i = 0; i < 2; i++) { await p.getByRole('button', { name: 'Next week →' }).click(); await weekReady(p); }
  await p.locator('.slot').last().click();
  await p.waitForSelector('#review #confirm-booking');
  check('the review shows date, price and free-until on the phone', /\d{4}/.test(await p.textContent('#review-when')) && /\$/.test(await p.textContent('#review-price')) && /until|within/.test(await p.textContent('#review-policy')));
  check('the review has no horizontal overflow on the phone', await wide() <= 0, `${await wide()} px`);
  await axe(p, 'the review step (phone)');
  await p.screenshot({ path: `${ART}/booking-phone.png` });
  await p.click('#confirm-booking');
  await p.waitForSelector('#confirmation');
  check('booking on the phone ends on the confirmation', true);
  await axe(p, 'the confirmation (phone)');
  await p.context().close();

  // Admin tables scroll inside their card, not the page.
  const a = await kit.openPage(browser, 'journey-admin-phone', PHONE);
  await signIn(a, 'admin@example.com');
  for (const tabName of ['audit', 'users', 'bookings']) {
    await a.goto(`${BASE}/#/admin/${tabName}`);
    await a.waitForSelector('#admin-body[aria-busy="false"]');
    const w = await a.evaluate(() => document.documentElement.scrollWidth - innerWidth);
    check(`#/admin/${tabName} has no horizontal page overflow on the phone`, w <= 0, `${w} px`);
  }
  await a.goto(`${BASE}/#/admin/audit?action=auth.login`);
  await a.waitForSelector('#admin-body[aria-busy="false"] tbody tr');
  const who = await a.textContent('#admin-body tbody tr td:nth-child(2)');
  check('the audit log names who acted, filtered by action', /\w+ \w+/.test(who) && !/^[0-9a-f-]{36}$/.test(who.trim()) && (await a.$$eval('#admin-body tbody tr td:nth-child(3)', (tds) => tds.every((t) => t.textContent === 'auth.login'))), who);
  await axe(a, '#/admin/audit (phone)');
  await a.context().close();
}
