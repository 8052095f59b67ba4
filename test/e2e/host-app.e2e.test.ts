import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { tempDir } from '../support/backends.ts';
import { chromiumMissing, launchChromium, phonePage, screenshot } from '../support/browser.ts';
import { freePort } from '../support/global-setup.ts';
import { freshEnv, run, type RunningProcess } from '../support/process.ts';
import { authorizeAsPerson } from '../support/sign-in.ts';

const suite = chromiumMissing ? describe.skip : describe;
if (chromiumMissing) process.stdout.write(`[e2e] the host-app example skipped: ${chromiumMissing}\n`);

/**
 * examples/host-app as the README has a newcomer run it: `npm run example:host-app`, then the command it prints, then
 * the URL that command prints, followed in Chromium through the host's own sign-in and Gatehouse's consent page.
 */
suite(`the host-app example, by following its output${chromiumMissing ? ` — SKIPPED: ${chromiumMissing}` : ''}`, () => {
  let host: RunningProcess;
  let browser: Browser;
  beforeAll(async () => {
    host = run('npm', ['run', 'example:host-app'], { env: freshEnv({ PORT: String(await freePort()), DATA_DIR: path.join(tempDir(), 'host-app') }) });
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await host?.stop();
  });

  it('starts on Node 24 with one npm script, and its printed next step reads Ada\'s notes through the Notes API', async () => {
    const [, next] = await host.waitFor(/^ {2}(GATEHOUSE_ADMIN_CLIENT_ID=\S+ GATEHOUSE_ADMIN_CLIENT_SECRET=\S+ npm run demo -- --api \S+)$/m);
    expect(host.output()).toContain('ada@example.com / ada-password');
    const demo = run('sh', ['-c', next as string], { env: freshEnv() });
    try {
      const [, url] = await demo.waitFor(/^ {3}(http:\/\/127\.0\.0\.1:\d+\/auth\/authorize\?\S+)$/m);
      const page = await phonePage(browser);
      await authorizeAsPerson(page, url as string, { email: 'ada@example.com', password: 'ada-password' }, /^http:\/\/127\.0\.0\.1:\d+\/callback\?/);
      await screenshot(page, 'host-app-demo-callback');
      await page.context().close();
      expect([await demo.exited, demo.output()]).toEqual([0, expect.stringContaining('Done: the application acted for the user')]);
    } finally {
      await demo.stop();
    }
    expect(demo.output()).toMatch(/0\. Protected resource metadata \(RFC 9728\)\n {3}http:\/\/127\.0\.0\.1:\d+\/api\/notes is the API http:\/\/127\.0\.0\.1:\d+\/api\/notes/);
    expect(demo.output()).toMatch(/access token: a JWT for http:\/\/127\.0\.0\.1:\d+\/api\/notes, scope "read:notes"/); // the default grant: no write:notes
    expect(demo.output()).toMatch(/6\. API call: GET http:\/\/127\.0\.0\.1:\d+\/api\/notes with the access token\n {3}200 \{"notes":\["Buy milk"\],"for":"[^"]+"\}/);
  }, 90_000);
});
