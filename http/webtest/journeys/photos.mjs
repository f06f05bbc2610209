// Journey: instructor photos (docs/features/photos.md). Sarah (desktop)
// picks a file that is not a picture and is told so beside the field, then
// uploads a PNG drawn on a canvas, previewed before she saves it; a student
// (phone) searches for piano and sees her photo on her card, and the
// initials placeholder on cards without one. axe on both views. Sarah's
// photo is removed at the end so later scenarios see the seed data as it was.
export default async function photos(browser, kit) {
  const { ART, BASE, PHONE, axe, check, must, openPage, signIn, rest, login } = kit;
  const sarah = await openPage(browser, 'photos-sarah');
  let student = null;
  try {
    await signIn(sarah, 'sarah.chen@example.com');
    await sarah.goto(BASE + '/#/onboarding/profile');
    await sarah.waitForSelector('#photo-file');

    // A text file is refused in the page, with a sentence beside the field.
    await sarah.setInputFiles('#photo-file', { name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('not a picture') });
    const refusal = await sarah.locator('#photo-error').textContent();
    check('photos: a non-image is refused beside the field', /not a JPEG, PNG or WebP/.test(refusal), refusal);
    check('photos: the refused field is marked invalid', (await sarah.getAttribute('#photo-file', 'aria-invalid')) === 'true');

    // A real PNG, drawn on a canvas in the page.
    const png = Buffer.from(await sarah.evaluate(() => {
      const c = document.createElement('canvas');
      c.width = 320; c.height = 240;
      const g = c.getContext('2d');
      g.fillStyle = '#4338ca'; g.fillRect(0, 0, 320, 240);
      g.fillStyle = '#f59e0b'; g.beginPath(); g.arc(160, 120, 80, 0, Math.PI * 2); g.fill();
      return c.toDataURL('image/png').split(',')[1];
    }), 'base64');
    await sarah.setInputFiles('#photo-file', { name: 'sarah.png', mimeType: 'image/png', buffer: png });
    await sarah.waitForSelector('.photo-preview img[src^="data:image/png"]', { timeout: 5000 });
    check('photos: the chosen file is previewed before saving', true);
    await sarah.getByRole('button', { name: 'Save photo' }).click();
    await sarah.waitForSelector('.photo-preview img[src^="/photos/"]', { timeout: 10000 });
    const url = await sarah.getAttribute('.photo-preview img', 'src');
    must('photos: the upload is saved at a content-hash URL', /^\/photos\/[0-9a-f]{64}-320\.jpg$/.test(url), url);
    const img = await fetch(BASE + url);
    check('photos: served as an immutable JPEG', img.ok && img.headers.get('content-type') === 'image/jpeg' &&
      /immutable/.test(img.headers.get('cache-control') || ''), `${img.status} ${img.headers.get('cache-control')}`);
    await axe(sarah, 'photos: profile step with a photo (desktop)');
    await sarah.screenshot({ path: `${ART}/photos-profile.png` });

    // A student on a phone finds her with her photo; others show initials.
    student = await openPage(browser, 'photos-student', PHONE);
    await signIn(student, 'john.smith@example.com');
    await student.goto(BASE + '/#/search?q=' + encodeURIComponent('piano'));
    const card = student.locator('.card.result', { hasText: 'Sarah Chen' }).first();
    await card.waitFor({ timeout: 10000 });
    const photo = card.locator('img.avatar');
    await photo.waitFor({ timeout: 5000 });
    const [src, alt, loaded] = [await photo.getAttribute('src'), await photo.getAttribute('alt'),
      await photo.evaluate((el) => el.complete && el.naturalWidth)];
    check('photos: Sarah\'s card shows her 96 px photo with alt text', src === url.replace('-320.jpg', '-96.jpg') &&
      alt === 'Photo of Sarah Chen' && loaded === 96, `${src} "${alt}" ${loaded}px`);
    await axe(student, 'photos: search results with photos (phone)');
    await student.screenshot({ path: `${ART}/photos-search-phone.png` });
    const wide = await student.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    check('photos: search results with photos fit the phone', wide <= 0, `${wide} px too wide`);
    // Michael has no photo: his card in the instructor list shows initials.
    await student.goto(BASE + '/#/?q=' + encodeURIComponent('Michael'));
    const michael = student.locator('.card', { hasText: 'Michael Rodriguez' }).first().locator('.avatar.initials');
    await michael.waitFor({ timeout: 10000 });
    check('photos: a card without a photo shows initials', (await michael.textContent()) === 'MR' &&
      (await michael.getAttribute('aria-label')) === 'Michael Rodriguez (no photo yet)');
  } finally {
    const tok = (await login('sarah.chen@example.com'))?.access_token;
    if (tok) await rest('DELETE', '/instructors/me/photo', tok);
    await sarah.context().close();
    if (student) await student.context().close();
  }
}
