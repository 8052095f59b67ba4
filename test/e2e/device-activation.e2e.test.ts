import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Browser } from 'playwright-core';
import { DEVICE_CODE_GRANT } from '../../src/domain/applications.ts';
import { createApi } from '../support/fixtures.ts';
import { createUser } from '../support/flow.ts';
import { insertApplication } from '../support/harness.ts';
import { checkPage, chromiumMissing, launchChromium, phonePage, startLiveGatehouse, type LiveGatehouse } from '../support/browser.ts';

const suite = chromiumMissing ? describe.skip : describe;
if (chromiumMissing) process.stdout.write(`[e2e] device activation skipped: ${chromiumMissing}\n`);

/** The person's side of the device authorization grant (RFC 8628) at /activate, in Chromium: WCAG checks (axe-core) and the strict CSP on every page. */
suite(`device activation in Chromium${chromiumMissing ? ` — SKIPPED: ${chromiumMissing}` : ''}`, () => {
  let live: LiveGatehouse;
  let browser: Browser;
  let clientId: string;
  let apiIdentifier: string;

  beforeAll(async () => {
    live = await startLiveGatehouse({ tenant: { friendly_name: 'Acme Notes', default_audience: '', allow_permissive_third_party_clients: false }, deviceFlow: { poll_interval_seconds: 1 } });
    const { stores } = live.gatehouse;
    apiIdentifier = (await createApi(stores, { name: 'Acme Notes API' })).identifier;
    await createUser(stores, 'jo@example.com', 'jo password 123');
    ({ app: { client_id: clientId } } = await insertApplication(stores, {
      name: 'Acme CLI', app_type: 'regular_web', callbacks: [], token_endpoint_auth_method: 'none', grant_types: [DEVICE_CODE_GRANT],
    }));
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await live?.close();
  });

  async function startDevice() {
    const res = await fetch(`${live.origin}/oauth/device/code`, {
      method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ client_id: clientId, scope: 'openid read:notes', audience: apiIdentifier }),
    });
    expect(res.status).toBe(200);
    return await res.json() as { device_code: string; user_code: string; verification_uri: string; verification_uri_complete: string };
  }

  it('takes a typed code (after a wrong one), asks to compare it, signs in and says the device is connected', async () => {
    const device = await startDevice();
    const page = await phonePage(browser);

    await page.goto(device.verification_uri);
    await expect(page.getByLabel('Code from your device').isVisible()).resolves.toBe(true);
    await checkPage(page, 'activate-enter-code');
    await page.getByLabel('Code from your device').fill('bbbb-bbbb');
    await page.keyboard.press('Enter');
    await page.getByRole('alert').waitFor();
    expect(await page.getByRole('alert').textContent()).toContain('That code is not valid');
    expect(await page.getByLabel('Code from your device').getAttribute('aria-invalid')).toBe('true');
    await checkPage(page, 'activate-wrong-code');

    await page.getByLabel('Code from your device').fill(device.user_code.toLowerCase());
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.getByRole('heading', { name: 'Connect Acme CLI?' }).waitFor();
    expect(await page.textContent('.user-code-display')).toBe(device.user_code);
    await checkPage(page, 'activate-confirm');
    await page.getByRole('button', { name: 'Connect' }).click();

    await page.getByLabel('Email').fill('jo@example.com');
    await page.getByLabel('Password').fill('jo password 123');
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.getByRole('heading', { name: 'Device connected' }).waitFor();
    expect(await page.textContent('main')).toContain('Acme CLI is signed in on your device');
    await checkPage(page, 'activate-done');

    const token = await fetch(`${live.origin}/oauth/token`, {
      method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: DEVICE_CODE_GRANT, device_code: device.device_code, client_id: clientId }),
    });
    expect(token.status).toBe(200);
    await page.context().close();
  });

  it('opens the confirmation straight from the complete verification link (a QR code on the device)', async () => {
    const device = await startDevice();
    const page = await phonePage(browser);
    await page.goto(device.verification_uri_complete);
    await page.getByRole('heading', { name: 'Connect Acme CLI?' }).waitFor();
    await page.getByRole('button', { name: 'Cancel' }).click();
    await page.getByRole('alert').waitFor();
    expect(await page.getByRole('alert').textContent()).toContain('You cancelled the connection of your device');
    await checkPage(page, 'activate-cancelled');
    await page.context().close();
  });
});
