import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Browser, Page } from 'playwright-core';
import { checkPage, chromiumMissing, launchChromium, phonePage, startLiveGatehouse, type LiveGatehouse } from '../support/browser.ts';

const suite = chromiumMissing ? describe.skip : describe;
if (chromiumMissing) process.stdout.write(`[e2e] console skipped: ${chromiumMissing}\n`);

const ADMIN = { email: 'ada@ops.example', password: 'ada console password' };

suite(`console in Chromium${chromiumMissing ? ` — SKIPPED: ${chromiumMissing}` : ''}`, () => {
  let live: LiveGatehouse;
  let browser: Browser;
  let admin: Page;

  beforeAll(async () => {
    live = await startLiveGatehouse({ tenant: { friendly_name: 'Acme', default_audience: '', allow_permissive_third_party_clients: false } });
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await live?.close();
  });

  async function signIn(page: Page, who: { email: string; password: string }) {
    await page.goto(`${live.origin}/console`);
    await page.waitForURL(/\/u\/login/);
    await page.fill('#email', who.email);
    await page.fill('#password', who.password);
    await page.click('button[type=submit]');
    await page.waitForURL(/\/console\/applications/);
  }

  it('the first-start link makes the first operator, who signs in to the console', async () => {
    const link = live.gatehouse.operatorBootstrap.signUpUrl as string;
    expect(link).toMatch(/\/console\/join\?invitation=/);
    admin = await phonePage(browser);
    await admin.goto(link);
    await checkPage(admin, 'console-join');
    await admin.fill('#email', ADMIN.email);
    await admin.fill('#password', ADMIN.password);
    await admin.fill('#password_again', ADMIN.password);
    await admin.click('button[type=submit]');
    await admin.waitForURL(/\/u\/login/);
    await admin.fill('#email', ADMIN.email);
    await admin.fill('#password', ADMIN.password);
    await admin.click('button[type=submit]');
    await admin.waitForURL(/\/console\/applications/);
    expect(await admin.textContent('main')).toContain(ADMIN.email);
    await checkPage(admin, 'console-applications');
    // The link is used up.
    const again = await phonePage(browser);
    await again.goto(link);
    expect(await again.textContent('h1')).toBe('This invitation cannot be used');
    await again.context().close();
  });
});
