import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Browser } from 'playwright-core';
import { chromiumMissing, launchChromium, phonePage, screenshot } from '../support/browser.ts';
import { freshEnv, run, startFreshGatehouse, type GatehouseProcess } from '../support/process.ts';
import { authorizeAsPerson } from '../support/sign-in.ts';

const suite = chromiumMissing ? describe.skip : describe;
if (chromiumMissing) process.stdout.write(`[e2e] npm run demo skipped: ${chromiumMissing}\n`);

const DEMO_USER = { email: 'demo@example.com', password: 'demo-password-123' }; // config/development.json
const CALLBACK = /^http:\/\/127\.0\.0\.1:\d+\/callback\?/;

/**
 * `npm run demo` against `npm start` on a fresh data folder, as the README's "See it work" has a newcomer do it: the
 * authorization URL it prints is followed in Chromium through the real login and consent pages.
 */
suite(`npm run demo${chromiumMissing ? ` — SKIPPED: ${chromiumMissing}` : ''}`, () => {
  let gatehouse: GatehouseProcess;
  let browser: Browser;
  let env: NodeJS.ProcessEnv;
  beforeAll(async () => {
    ({ gatehouse, env } = await startFreshGatehouse());
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await gatehouse?.stop();
  });

  async function demo(demoEnv: NodeJS.ProcessEnv, args: string[] = []) {
    const command = run('npm', ['run', 'demo', ...(args.length ? ['--', ...args] : [])], { env: demoEnv });
    try {
      const [, url] = await command.waitFor(/^ {3}(http:\/\/localhost:\d+\/authorize\?\S+)$/m);
      const page = await phonePage(browser);
      const landed = await authorizeAsPerson(page, url as string, DEMO_USER, CALLBACK);
      await screenshot(page, 'demo-callback');
      await page.context().close();
      return { landed, code: await command.exited, output: command.output() };
    } finally {
      await command.stop();
    }
  }

  it('registers an application through the Management API, signs the user in, exchanges the code with PKCE and calls the API', async () => {
    const { landed, code, output } = await demo(env);
    expect(landed).toContain('You can close this tab');
    expect([code, output]).toEqual([0, expect.stringContaining('Done: the application acted for the user')]);
    expect(output).toMatch(/2\. Application\n {3}client_id: tpc_\w+\n {3}created "Gatehouse demo" through the Management API/);
    expect(output).toContain('4. Callback\n   authorization code received; state matches, iss');
    expect(output).toMatch(/5\. Token exchange[^\n]*\n {3}access token: a JWT for https:\/\/api\.example\.com\/, scope "read:messages"/);
    expect(output).toMatch(/6\. API call: GET http:\/\/127\.0\.0\.1:\d+\/api\/messages with the access token\n {3}200 \{"messages":\["Hello from the sample API"\],"for":"auth0\|\w+","application":"tpc_\w+"\}/);
    expect(output).not.toContain(env.GATEHOUSE_ADMIN_CLIENT_SECRET as string);
  }, 60_000);

  it('reuses its application on the next run', async () => {
    const { code, output } = await demo(env);
    expect([code, output]).toEqual([0, expect.stringContaining('reused "Gatehouse demo" through the Management API')]);
  }, 60_000);

  it('registers dynamically when the tenant allows it and no admin credentials are given, and explains what it needs otherwise', async () => {
    const withoutCredentials = freshEnv({ GATEHOUSE_URL: env.GATEHOUSE_URL as string });
    const refused = run('npm', ['run', 'demo'], { env: withoutCredentials });
    expect(await refused.exited).toBe(1);
    expect(refused.output()).toContain('The demo needs an application. Either set GATEHOUSE_ADMIN_CLIENT_ID and GATEHOUSE_ADMIN_CLIENT_SECRET');

    const enable = run('npm', ['run', 'admin', '--', 'enable-dcr'], { env });
    expect([await enable.exited, enable.output()]).toEqual([0, expect.stringContaining('Dynamic client registration is on.')]);
    const { code, output } = await demo(withoutCredentials);
    expect([code, output]).toEqual([0, expect.stringMatching(/registered dynamically at http:\/\/localhost:\d+\/oidc\/register \(RFC 7591\)/)]);
    expect(output).toContain('200 {"messages"');
  }, 60_000);
});
