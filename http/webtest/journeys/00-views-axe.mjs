// The main views, signed out and signed in, at desktop and phone size, each
// checked with axe-core (no serious or critical violation) and for
// horizontal overflow on the phone.
export default async function (browser, { BASE, PHONE, openPage, signIn, axe, check }) {
  const views = ['#/', '#/search?q=piano', '#/login'];
  const signedIn = ['#/lessons', '#/notifications', '#/privacy'];
  for (const [size, opts] of [['desktop', {}], ['phone', PHONE]]) {
    const page = await openPage(browser, `axe-${size}`, opts);
    const visit = async (hash) => {
      await page.goto(BASE + '/' + hash);
      await page.waitForLoadState('networkidle');
      await axe(page, `${hash} (${size})`);
      if (size === 'phone') {
        const wide = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
        check(`${hash} has no horizontal overflow on the phone`, wide <= 0, `${wide} px too wide`);
      }
    };
    for (const hash of views) await visit(hash);
    await signIn(page, 'john.smith@example.com');
    for (const hash of signedIn) await visit(hash);
    await page.context().close();
  }
}
