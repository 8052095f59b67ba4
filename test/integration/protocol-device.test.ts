import { describe, expect, it } from '@jest/globals';
import { decodeJwt } from 'jose';
import * as oauth from 'oauth4webapi';
import { DEVICE_CODE_GRANT } from '../../src/domain/applications.ts';
import { createGrant, thirdPartyApp } from '../support/fixtures.ts';
import { Browser, isConsentPage, pageOf, signIn } from '../support/flow.ts';
import { insertApplication } from '../support/harness.ts';
import { insecure, oauthTestbed, USER } from '../support/oauth4webapi.ts';

const POLL_INTERVAL = 1;

type Testbed = ReturnType<typeof oauthTestbed>;

/** The device's side, through oauth4webapi's device flow functions: asking for a code, and one poll. */
function device(testbed: Testbed) {
  const start = async (client: oauth.Client, parameters: Record<string, string>) =>
    oauth.processDeviceAuthorizationResponse(testbed.as, client, await oauth.deviceAuthorizationRequest(testbed.as, client, oauth.None(), parameters, insecure));
  const poll = async (client: oauth.Client, deviceCode: string) => {
    try {
      return await oauth.processDeviceCodeResponse(testbed.as, client, await oauth.deviceCodeGrantRequest(testbed.as, client, oauth.None(), deviceCode, insecure));
    } catch (err) {
      if (err instanceof oauth.ResponseBodyError) return err.error;
      throw err;
    }
  };
  return { start, poll };
}

/** The person's side: the code entered at /activate, confirmed, signed in (and consent given where asked). */
async function approve(testbed: Testbed, userCode: string): Promise<string> {
  const browser = new Browser(testbed.live.origin);
  const confirm = pageOf(await browser.submit(pageOf(await browser.open('/activate')), { user_code: userCode }));
  let outcome = await signIn(browser, await browser.submit(confirm, {}), USER.email, USER.password);
  if (isConsentPage(outcome)) outcome = await browser.submit(pageOf(outcome), { action: 'accept' });
  return pageOf(outcome).text;
}

/** RFC 8628, driven by oauth4webapi's device flow functions; the person's side goes through /activate. */
describe('the device authorization grant', () => {
  const testbed = oauthTestbed({ deviceFlow: { poll_interval_seconds: POLL_INTERVAL } });
  const { email, password } = USER;
  const { start, poll } = device(testbed);
  const pause = (seconds: number) => new Promise((resolve) => setTimeout(resolve, seconds * 1000));

  it('is advertised, and signs a first-party command-line tool in after the person enters its code at /activate', async () => {
    expect(testbed.as.device_authorization_endpoint).toBe(`${testbed.live.origin}/oauth/device/code`);
    const { app } = await insertApplication(testbed.live.gatehouse.stores, {
      name: 'Gatehouse CLI', app_type: 'native', token_endpoint_auth_method: 'none', callbacks: [],
      grant_types: [DEVICE_CODE_GRANT, 'refresh_token'],
    });
    const client: oauth.Client = { client_id: app.client_id, token_endpoint_auth_method: 'none' };
    const device = await start(client, { scope: 'openid offline_access read:notes', audience: testbed.api.identifier });
    expect(device).toMatchObject({ verification_uri: `${testbed.live.origin}/activate`, interval: POLL_INTERVAL, user_code: expect.stringMatching(/^[B-Z]{4}-[B-Z]{4}$/) });

    // Polling: pending while the person has not approved; too fast is slow_down (RFC 8628 §3.5).
    expect(await poll(client, device.device_code)).toBe('authorization_pending');
    expect(await poll(client, device.device_code)).toBe('slow_down');

    const browser = new Browser(testbed.live.origin);
    const entry = pageOf(await browser.open('/activate'));
    expect(entry.text).toContain('Code from your device');
    const wrong = pageOf(await browser.submit(entry, { user_code: 'BBBB-BBBB' }));
    expect(wrong.text).toContain('That code is not valid');
    const confirm = pageOf(await browser.submit(wrong, { user_code: device.user_code.toLowerCase().replace('-', '') }));
    expect(confirm.text).toContain('Connect <strong>Gatehouse CLI</strong>?');
    expect(confirm.text).toContain(device.user_code);
    let outcome = await signIn(browser, await browser.submit(confirm, {}), email, password);
    // oidc-provider asks native applications for consent even when first-party (its native_client_prompt check).
    if (isConsentPage(outcome)) outcome = await browser.submit(pageOf(outcome), { action: 'accept' });
    expect(pageOf(outcome).text).toContain('Device connected');

    await pause(POLL_INTERVAL);
    const tokens = await poll(client, device.device_code);
    if (typeof tokens === 'string') throw new Error(`expected tokens, got ${tokens}`);
    expect(decodeJwt(tokens.access_token)).toMatchObject({ aud: testbed.api.identifier, scope: 'read:notes', client_id: app.client_id });
    expect(oauth.getValidatedIdTokenClaims(tokens)).toMatchObject({ aud: app.client_id, sub: expect.stringMatching(/^auth0\|/) });
    expect(tokens.refresh_token).toEqual(expect.any(String));
    await pause(POLL_INTERVAL);
    expect(await poll(client, device.device_code)).toBe('invalid_grant'); // a device code is used once
  });

  it('tells the device when the person cancels', async () => {
    const { app } = await insertApplication(testbed.live.gatehouse.stores, { grant_types: [DEVICE_CODE_GRANT], token_endpoint_auth_method: 'none' });
    const client: oauth.Client = { client_id: app.client_id, token_endpoint_auth_method: 'none' };
    const device = await start(client, { scope: 'openid' });
    const browser = new Browser(testbed.live.origin);
    const confirm = pageOf(await browser.submit(pageOf(await browser.open('/activate')), { user_code: device.user_code }));
    const cancelled = pageOf(await browser.submit(confirm, { abort: 'yes' }));
    expect(cancelled.text).toContain('You cancelled the connection of your device');
    expect(await poll(client, device.device_code)).toBe('access_denied');
  });

  it('offers a fresh start when the code form comes back without its session (an expired page), never a 500', async () => {
    const page = pageOf(await new Browser(testbed.live.origin).post('/activate', { xsrf: 'stale', user_code: 'BCDF-GHJK' }));
    expect(page.status).toBe(400);
    expect(page.text).toContain('This page has expired');
    expect(page.text).toContain('>Start again</a>');
    expect(page.text).not.toContain('name="user_code"');
  });

  it('is refused to applications that do not enable it, and to third-party applications', async () => {
    const { app: without } = await insertApplication(testbed.live.gatehouse.stores, { token_endpoint_auth_method: 'none' });
    await expect(start({ client_id: without.client_id, token_endpoint_auth_method: 'none' }, { scope: 'openid' })).rejects.toMatchObject({ error: 'unauthorized_client' });
    // A third-party application cannot even be given the grant (the Management API refuses it): it is refused at the endpoint.
    const { app: partner } = await thirdPartyApp(testbed.live.gatehouse.stores, { token_endpoint_auth_method: 'none' });
    await createGrant(testbed.live.gatehouse.stores, { client_id: partner.client_id, audience: testbed.api.identifier, scope: ['read:notes'] });
    await expect(start({ client_id: partner.client_id, token_endpoint_auth_method: 'none' }, { scope: 'read:notes', audience: testbed.api.identifier })).rejects.toMatchObject({ error: 'unauthorized_client' });
  });
});

describe('a device polling faster than its interval', () => {
  const testbed = oauthTestbed({ deviceFlow: { poll_interval_seconds: 60 } });
  const { start, poll } = device(testbed);

  it('is told to slow down while the person has not decided, and gets its tokens as soon as they approve', async () => {
    const { app } = await insertApplication(testbed.live.gatehouse.stores, { name: 'Quick poller', app_type: 'native', token_endpoint_auth_method: 'none', callbacks: [], grant_types: [DEVICE_CODE_GRANT] });
    const client: oauth.Client = { client_id: app.client_id, token_endpoint_auth_method: 'none' };
    const { device_code, user_code } = await start(client, { scope: 'openid' });
    expect(await poll(client, device_code)).toBe('authorization_pending');
    expect(await poll(client, device_code)).toBe('slow_down');
    expect(await poll(client, device_code)).toBe('slow_down');
    expect(await approve(testbed, user_code)).toContain('Device connected');
    const tokens = await poll(client, device_code); // well within the 60 s interval
    if (typeof tokens === 'string') throw new Error(`expected tokens, got ${tokens}`);
    expect(oauth.getValidatedIdTokenClaims(tokens)).toMatchObject({ aud: app.client_id });
  });
});
