// Watches ("tell me when a time opens"): a new student watches Sarah's
// week for the day and part of day of one of John's lessons; John cancels
// it; the watcher's page pops "… just opened" live and the email arrives.
// Then the Watches view lists the watch and deletes it. axe and the phone
// size on the way.
export default async function (browser, kit) {
  const { BASE, PASSWORD, PHONE, rest, login, openPage, signIn, check, must, sleep, weekReady, arm, waited, uniq, axe } = kit;
  const sarah = (await login('sarah.chen@example.com')).user;
  const john = await login('john.smith@example.com');
  const ins = (await rest('GET', '/instructors/' + sarah.id)).body;
  const svc = ins.services.find((s) => s.is_active !== false) || ins.services[0];
  const dur = svc.durations.includes(60) ? 60 : svc.durations[0];

  // John books the first open time at least two days ahead.
  const day = (n) => new Date(Date.now() + n * 864e5).toISOString().slice(0, 10);
  const av = (await rest('GET', `/instructors/${sarah.id}/availability?from=${day(2)}&to=${day(15)}`)).body;
  let lesson = null;
  for (const d of av.days) {
    for (const iv of d.open) {
      const [h, m] = iv.start.split(':').map(Number);
      const start = Math.ceil((h * 60 + m) / 15) * 15, end = Number(iv.end.slice(0, 2)) * 60 + Number(iv.end.slice(3));
      if (start + dur > end || start < 6 * 60 || start >= 23 * 60) continue;
      const hhmm = String(Math.floor(start / 60)).padStart(2, '0') + ':' + String(start % 60).padStart(2, '0');
      const r = await rest('POST', '/bookings', john.access_token, { instructor_id: sarah.id, instructor_service_id: svc.id,
        date: d.date, start_time: hhmm, duration_minutes: dur });
      if (r.status === 201) { lesson = r.body; break; }
    }
    if (lesson) break;
  }
  must('watches: John books one of Sarah\'s open times', lesson, lesson ? `${lesson.date} ${lesson.start_time}` : 'no bookable time in two weeks');
  const startMin = Number(lesson.start_time.slice(0, 2)) * 60;
  const part = startMin < 12 * 60 ? 'morning' : startMin < 17 * 60 ? 'afternoon' : 'evening';
  const weekday = new Date(lesson.date + 'T12:00:00Z').toLocaleDateString('en-US', { weekday: 'long', timeZone: 'UTC' });

  // A new student signs up over REST and opens Sarah's week on the page.
  const email = `watcher-${uniq()}@example.com`;
  const reg = await rest('POST', '/auth/register', null, { email, password: PASSWORD, full_name: 'Wanda Watcher', role: 'student' });
  must('watches: the watcher registers', reg.status === 201, String(reg.status));
  const page = await openPage(browser, 'watcher');
  await signIn(page, email);
  await page.goto(`${BASE}/#/instructors/${sarah.id}?date=${lesson.date}`);
  await weekReady(page);
  await page.waitForSelector('#watch-panel');
  check('watches: the week offers "Tell me when a time opens"',
    await page.getByRole('heading', { name: 'Tell me when a time opens' }).isVisible());
  await page.getByLabel(weekday, { exact: true }).check();
  await page.selectOption('#watch-part', part);
  await page.getByRole('button', { name: 'Tell me when a time opens' }).click();
  await page.waitForFunction(() => /^Watching\./.test(document.querySelector('#watch-status')?.textContent || ''), null, { timeout: 5000 });
  check('watches: the watch is saved', true, `${weekday} ${part}`);
  await axe(page, 'an instructor\'s week with the watch form (desktop)');

  // John cancels: the watcher's page pops "… just opened" live.
  await arm(page, 'opened', '.toast[data-kind="opened"]', true);
  const t0 = Date.now();
  const c = await rest('POST', `/bookings/${lesson.id}/cancel`, john.access_token, {});
  must('watches: John cancels his lesson', c.status === 200, String(c.status));
  const ms = await waited(page, 'opened', t0, 10000);
  const text = ms == null ? '' : await page.textContent('.toast[data-kind="opened"]');
  check('watches: the watcher\'s page pops "… just opened" live', ms != null && text.includes(`${weekday} `) && text.includes('just opened') &&
    text.includes('Sarah Chen'), ms == null ? 'no pop-up in 10 s' : `${ms} ms: ${text}`);
  const api = process.env.MAILPIT_API;
  let mails = [];
  for (const deadline = Date.now() + 10000; api && !mails.length && Date.now() < deadline; await sleep(200)) {
    const list = await (await fetch(api + '/api/v1/messages')).json();
    mails = list.messages.filter((m) => m.To.some((t) => t.Address === email) && m.Subject.includes('just opened'));
  }
  check('watches: the watcher is emailed once', !api || mails.length === 1,
    mails.map((m) => m.Subject).join(' | ') || 'no email');

  // The Watches view lists the watch; Delete removes it.
  await page.getByRole('link', { name: 'Watches', exact: true }).click();
  await page.waitForSelector('#watch-list li[data-id]');
  check('watches: My watches lists Sarah', (await page.textContent('#watch-list')).includes('Sarah Chen'));
  await axe(page, '#/watches (desktop)');
  await page.locator('#watch-list li[data-id] button').first().click();
  await page.waitForSelector('#watch-list li.muted', { timeout: 5000 });
  check('watches: Delete removes the watch', (await rest('GET', '/watches', (await login(email)).access_token)).body.items.length === 0);
  await page.context().close();

  // Phone size: the form and the list fit and pass axe.
  const phone = await openPage(browser, 'watcher-phone', PHONE);
  await signIn(phone, email);
  for (const hash of [`#/instructors/${sarah.id}?date=${lesson.date}`, '#/watches']) {
    await phone.goto(BASE + '/' + hash);
    await phone.waitForLoadState('networkidle');
    await axe(phone, `${hash.split('?')[0]} (phone)`);
    const wide = await phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    check(`watches: ${hash.split('?')[0]} has no horizontal overflow on the phone`, wide <= 0, `${wide} px too wide`);
  }
  await phone.context().close();
}
