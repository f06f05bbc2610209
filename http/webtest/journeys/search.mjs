// Journey: search without dead ends (docs/features/search.md). On a
// desktop: "violn" shows "did you mean violin" with the way back to the
// words as typed (which explains what was not understood and offers popular
// lessons, never "Remove a chip above" without chips); "spanish in queens"
// offers relaxation chips with counts, and one leads to that many results;
// "piano bk" reads bk as Brooklyn; "next open" has a day and date and opens
// the instructor's week with that slot picked (highlighted). On a phone: the relaxations
// and the did-you-mean fit, and axe is clean on both.
export default async function searchJourney(browser, kit) {
  const { BASE, ART, PHONE, axe, check, must, openPage, weekReady } = kit;
  const desk = await openPage(browser, 'find-desktop');
  let phone = null;
  const ready = (page) => page.waitForSelector('#search-results[aria-busy="false"]', { timeout: 10000 });
  const open = async (page, q, extra = '') => {
    await page.goto(BASE + '/#/search?q=' + encodeURIComponent(q) + extra);
    await page.waitForFunction((want) => decodeURIComponent(location.hash).includes(want), q, { timeout: 5000 });
    await ready(page);
  };
  try {
    await open(desk, 'violn');
    const dym = desk.locator('#did-you-mean');
    must('find: "violn" says it shows results for violin', await dym.waitFor({ timeout: 5000 }).then(() => true, () => false));
    const dymText = (await dym.textContent()).replace(/\s+/g, ' ');
    check('find: did-you-mean names both spellings', /Showing results for violin — search instead for violn/.test(dymText), dymText);
    check('find: the corrected search finds the violin teacher', await desk.locator('.result', { hasText: 'Elena Petrova' }).count() === 1);
    await dym.getByRole('link', { name: 'violn' }).click();
    await desk.waitForFunction(() => location.hash.includes('exact=1'), null, { timeout: 5000 });
    await desk.waitForSelector('#search-results[aria-busy="false"] .not-understood', { timeout: 10000 });
    const body = await desk.locator('#search-results').textContent();
    check('find: the words as typed say what was not understood', /didn't understand "violn"/.test(body), body.slice(0, 200));
    check('find: no "Remove a chip above" when there are no chips', !/Remove a chip/.test(body));
    check('find: popular taught lessons are offered instead', await desk.locator('.popular a.chip').count() > 0);

    await open(desk, 'spanish in queens');
    const relax = desk.locator('.relaxations a.relax');
    must('find: "spanish in queens" offers relaxation chips', await relax.first().waitFor({ timeout: 5000 }).then(() => true, () => false));
    const labels = await relax.allTextContents();
    check('find: each relaxation says how many instructors it finds', labels.every((l) => /— \d+ instructors?$/.test(l)), labels.join(' | '));
    await axe(desk, 'find: empty search with relaxations (desktop)');
    await desk.screenshot({ path: `${ART}/find-relaxations.png` });
    const chip = relax.first();
    const count = Number(await chip.getAttribute('data-count'));
    await chip.click();
    await desk.waitForFunction(() => !decodeURIComponent(location.hash).endsWith('spanish in queens'), null, { timeout: 5000 });
    await desk.waitForSelector('#search-results[aria-busy="false"] .result', { timeout: 10000 });
    const found = await desk.locator('.result').count();
    check('find: a relaxation chip leads to as many instructors as it said', found === count, `${found} vs ${count}`);

    await open(desk, 'piano bk');
    const area = (await desk.locator('#parsed .chip[data-kind="area"]').first().textContent().catch(() => '')) || '';
    check('find: "bk" is read as Brooklyn', /Brooklyn/.test(area), area);

    await open(desk, 'piano');
    const next = desk.locator('.result').first().locator('a.next-open');
    must('find: the first piano result has a next open time', await next.waitFor({ timeout: 5000 }).then(() => true, () => false));
    const [date, start, text] = [await next.getAttribute('data-date'), await next.getAttribute('data-start'), await next.textContent()];
    check('find: next open reads like "Mon Dec 14, 10:00"', /^next open: [A-Z][a-z]{2} [A-Z][a-z]{2} \d{1,2}, \d\d:\d\d$/.test(text), text);
    check('find: the next-open link carries the date, start and length', new RegExp(`&date=${date}&start=${start}&dur=\\d+$`).test(await next.getAttribute('href')),
      await next.getAttribute('href'));
    await next.click();
    await weekReady(desk);
    const picked = desk.locator(`.slot[aria-pressed="true"][data-date="${date}"][data-start="${start}"]`);
    check('find: the instructor\'s week opens at that date with the next-open slot highlighted',
      await picked.waitFor({ timeout: 5000 }).then(() => true, () => false),
      `week ${await desk.getAttribute('#week', 'data-week-start')}, want ${date} ${start}`);

    phone = await openPage(browser, 'find-phone', PHONE);
    await open(phone, 'spanish in queens');
    must('find: relaxations on a phone', await phone.locator('.relaxations a.relax').first().waitFor({ timeout: 5000 }).then(() => true, () => false));
    const wide = await phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    check('find: the relaxations fit the phone', wide <= 0, `${wide} px too wide`);
    await axe(phone, 'find: empty search with relaxations (phone)');
    await open(phone, 'pianno');
    must('find: did-you-mean on a phone', await phone.locator('#did-you-mean').waitFor({ timeout: 5000 }).then(() => true, () => false));
    await axe(phone, 'find: did-you-mean (phone)');
    await phone.screenshot({ path: `${ART}/find-didyoumean-phone.png` });
  } finally {
    await desk.context().close();
    if (phone) await phone.context().close();
  }
}
