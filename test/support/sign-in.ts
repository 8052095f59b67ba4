import type { Page } from 'playwright-core';

/**
 * A person in Chromium following an authorization URL a command printed: signs in when asked (Gatehouse's login page,
 * or a host app's own form), allows access on the consent page, and stops where the browser leaves for `callback`.
 * Returns the text the callback page shows.
 */
export async function authorizeAsPerson(page: Page, url: string, person: { email: string; password: string }, callback: RegExp): Promise<string> {
  await page.goto(url);
  for (let pageCount = 0; pageCount < 5 && !callback.test(page.url()); pageCount += 1) {
    const form = await page.waitForSelector('input[type=email], button[value=accept]');
    const before = page.url();
    const leaving = page.waitForURL((next) => next.href !== before);
    if (await form.getAttribute('type') === 'email') {
      await form.fill(person.email);
      await page.fill('input[type=password]', person.password);
      await page.click('form:has(input[type=password]) button');
    } else {
      await form.click();
    }
    await leaving;
    await page.waitForLoadState();
  }
  if (!callback.test(page.url())) throw new Error(`never reached the callback; the browser is at ${page.url()}`);
  return page.textContent('body') as Promise<string>;
}
