// Presence (docs/features/presence.md): two students open Sarah's week and
// both read "2 people are looking at this week", live; when one leaves the
// other's line goes (one viewer is not shown). axe on the view, at desktop
// and phone size. On the desktop pass, an instructor's "Online" badge comes
// and goes with their connection.
export default async function (browser, { BASE, PHONE, login, openPage, signIn, check, axe, weekReady, sleep }) {
  const sarah = (await login('sarah.chen@example.com')).user;
  const week = `${BASE}/#/instructors/${sarah.id}`;
  const line = (n) => `#presence[data-watching="${n}"]:not([hidden])`;
  for (const [size, opts] of [['desktop', {}], ['phone', PHONE]]) {
    const john = await openPage(browser, `presence-john-${size}`, opts);
    const emma = await openPage(browser, `presence-emma-${size}`, opts);
    try {
      await Promise.all([signIn(john, 'john.smith@example.com'), signIn(emma, 'emma.johnson@example.com')]);
      for (const p of [john, emma]) { await p.goto(week); await weekReady(p); }
      for (const [name, p] of [['john', john], ['emma', emma]]) {
        const seen = await p.waitForSelector(line(2), { timeout: 8000 }).then(() => true, () => false);
        const text = seen ? await p.textContent('#presence') : await p.getAttribute('#presence', 'data-watching');
        check(`presence (${size}): ${name} reads that 2 people are looking at Sarah's week`, seen && /^2 people are looking at this week/.test(text), text);
      }
      await axe(john, `instructor week with the presence line (${size})`);
      await emma.goto(`${BASE}/#/`);
      const gone = await john.waitForSelector('#presence[hidden]', { state: 'attached', timeout: 8000 }).then(() => true, () => false);
      check(`presence (${size}): once emma leaves, john's line goes (1 viewer is not shown)`, gone, await john.getAttribute('#presence', 'data-watching'));
      if (size === 'desktop') await onlineBadge(browser, john, { BASE, login, openPage, signIn, check, axe, sleep });
    } finally {
      await john.context().close();
      await emma.context().close();
    }
  }
}

// onlineBadge: the badge follows Michael's connection (Sarah's stays
// connected from the main scenario). "online" is read when the page loads,
// so john reloads until it shows, within a deadline.
async function onlineBadge(browser, john, { BASE, login, openPage, signIn, check, axe, sleep }) {
  const michael = (await login('michael.rodriguez@example.com')).user;
  const page = `${BASE}/#/instructors/${michael.id}`;
  const badge = async (want) => {
    for (const deadline = Date.now() + 8000; Date.now() < deadline; await sleep(250)) {
      await john.goto(page + '?r=' + Date.now());
      await john.waitForSelector('#ins-h');
      if (((await john.$('#ins-h .badge.online')) != null) === want) return true;
    }
    return false;
  };
  check('presence: no "Online" badge while Michael has no connection', await badge(false));
  const mp = await openPage(browser, 'presence-michael');
  try {
    await signIn(mp, 'michael.rodriguez@example.com');
    check('presence: the "Online" badge shows on Michael\'s page once he is connected', await badge(true));
    await axe(john, 'instructor page with the Online badge (desktop)');
  } finally {
    await mp.context().close();
  }
  check('presence: the badge goes when Michael disconnects', await badge(false));
}
