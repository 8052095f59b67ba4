import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Browser } from 'playwright-core';
import { chromiumMissing, launchChromium, screenshot, startLiveGatehouse, type LiveGatehouse } from '../support/browser.ts';

const suite = chromiumMissing ? describe.skip : describe;
if (chromiumMissing) process.stdout.write(`[e2e] network ACL page skipped: ${chromiumMissing}\n`);

suite(`a person refused by a network ACL, in Chromium${chromiumMissing ? ` — SKIPPED: ${chromiumMissing}` : ''}`, () => {
  let live: LiveGatehouse;
  let browser: Browser;

  beforeAll(async () => {
    live = await startLiveGatehouse();
    const now = new Date().toISOString();
    await live.gatehouse.stores.durable.networkAcls.insert({
      id: 'acl_bot', description: 'a browser we refuse', active: true, priority: 1, created_at: now, updated_at: now,
      rule: { scope: 'tenant', action: { block: true }, match: { user_agents: ['RefusedBrowser/1.0'] } },
    });
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await live?.close();
  });

  it('sees a styled page in plain words that says what to do next', async () => {
    const context = await browser.newContext({ viewport: { width: 390, height: 844 }, userAgent: 'RefusedBrowser/1.0' });
    const page = await context.newPage();
    const response = await page.goto(`${live.origin}/developers`);
    expect(response?.status()).toBe(403);
    expect(await page.locator('h1').textContent()).toBe('Access from your network is blocked');
    expect(await page.locator('.lead').textContent()).toContain('ask the administrator of this service to allow your network');
    // The stylesheets are never blocked: the card is laid out, not raw HTML.
    expect(await page.evaluate('getComputedStyle(document.querySelector("main.card")).backgroundColor')).toBe('rgb(255, 255, 255)');
    await screenshot(page, 'network-acl-blocked');
    await context.close();
  });
});
