// Conversations: a student asks Sarah a question before booking, from her
// page; it arrives live on Sarah's Messages view; she replies; the student
// sees the reply and the read receipt, and Sarah sees the student's. Once at
// desktop size (John) and once at phone size (Emma), with axe-core on the
// Messages view of both parties and the HTML-looking text shown as text;
// while Sarah types, the student sees "Sarah Chen is typing…".
export default async function (browser, { BASE, PHONE, openPage, signIn, login, check, must, axe, uniq, record }) {
  const sarahId = (await login('sarah.chen@example.com')).user.id;
  for (const [size, opts, student] of [['desktop', {}, 'john.smith@example.com'], ['phone', PHONE, 'emma.johnson@example.com']]) {
    const sarah = await openPage(browser, `conv-sarah-${size}`, opts);
    const stud = await openPage(browser, `conv-student-${size}`, opts);
    try {
      await signIn(sarah, 'sarah.chen@example.com');
      await sarah.goto(BASE + '/#/messages');
      await sarah.waitForSelector('#conv-list');
      await signIn(stud, student);
      await stud.goto(`${BASE}/#/instructors/${sarahId}`);
      await stud.locator('.message-button').click();
      await stud.waitForSelector('#msg-body');
      const convId = (await stud.evaluate(() => location.hash)).split('/')[2];
      must(`${size}: the Message button opens a conversation with Sarah`, /^[0-9a-f-]{36}$/.test(convId || ''), convId);

      const question = `Do you take <b>beginners</b>? ${uniq()}`;
      await stud.fill('#msg-body', question);
      const t0 = Date.now();
      await stud.getByRole('button', { name: 'Send' }).click();
      await sarah.waitForSelector(`.conv[data-id="${convId}"]`, { timeout: 5000 });
      const arrived = Date.now() - t0;
      record('message → the other party\'s list', arrived);
      check(`${size}: the question arrives live on Sarah's Messages view`, arrived < 5000, `${arrived} ms`);
      check(`${size}: Sarah's Messages link counts it unread`, Number(await sarah.locator('#msg-count').textContent()) >= 1);

      await sarah.click(`.conv[data-id="${convId}"] a`);
      await sarah.waitForSelector('.msg[data-mine="false"]');
      const shown = await sarah.evaluate(() => ({ text: document.querySelector('.msg[data-mine="false"] .msg-body')?.textContent, html: document.querySelector('.msg-body b') != null }));
      check(`${size}: the body is shown as text, never HTML`, shown.text === question && !shown.html, JSON.stringify(shown));
      await stud.waitForSelector('.msg[data-mine="true"] .receipt', { timeout: 5000 });
      check(`${size}: the student sees Sarah's read receipt`, true);

      const reply = `Yes, all levels welcome ${uniq()}`;
      // Typing: an ephemeral frame to the other party's connections.
      await sarah.locator('#msg-body').pressSequentially('Yes', { delay: 20 });
      await stud.waitForFunction(() => /is typing/.test(document.querySelector('#typing')?.textContent || ''), null, { timeout: 5000 });
      check(`${size}: the student sees that Sarah is typing`, true);
      await sarah.fill('#msg-body', reply);
      await sarah.getByRole('button', { name: 'Send' }).click();
      await stud.waitForFunction((r) => [...document.querySelectorAll('.msg[data-mine="false"] .msg-body')].some((e) => e.textContent === r), reply, { timeout: 5000 });
      check(`${size}: the student sees the reply live`, true);
      await sarah.waitForSelector('.msg[data-mine="true"] .receipt', { timeout: 5000 });
      check(`${size}: Sarah sees the student's read receipt`, true);

      await axe(stud, `#/messages thread, student (${size})`);
      await axe(sarah, `#/messages thread, instructor (${size})`);
      if (size === 'phone') {
        const wide = await stud.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
        check('#/messages has no horizontal overflow on the phone', wide <= 0, `${wide} px too wide`);
        await stud.goto(BASE + '/#/messages');
        await stud.waitForSelector(`.conv[data-id="${convId}"]`);
        await axe(stud, `#/messages list (${size})`);
      }
    } finally {
      await sarah.context().close();
      await stud.context().close();
    }
  }
}
