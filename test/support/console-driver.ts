import type { Page } from 'playwright-core';
import type { LiveGatehouse } from './browser.ts';

/**
 * What the console's browser tests do over and over: open a console page, submit a form, sign in on Gatehouse's sign-in
 * page, and check a result through the Management API as an administrator's script would (the admin application's own
 * token, not the console's). `live` is read when called: the server starts in the suite's beforeAll.
 */
export function consoleDriver(live: () => LiveGatehouse) {
  let adminToken: string | undefined;
  async function token(): Promise<string> {
    if (adminToken) return adminToken;
    const { origin, gatehouse } = live();
    const { client_id, client_secret } = gatehouse.adminCredentials;
    const res = await fetch(`${origin}/oauth/token`, {
      method: 'POST', body: new URLSearchParams({ grant_type: 'client_credentials', client_id, client_secret: client_secret as string, audience: `${origin}/api/v2/` }),
    });
    adminToken = (await res.json() as { access_token: string }).access_token;
    return adminToken;
  }
  return {
    /** The Management API as an administrator's script would call it. */
    async mgmt(path: string, init: RequestInit = {}): Promise<{ status: number; body: any }> {
      const res = await fetch(`${live().origin}/api/v2${path}`, { ...init, headers: { authorization: `Bearer ${await token()}`, 'content-type': 'application/json', ...init.headers } });
      return { status: res.status, body: res.status === 204 ? undefined : await res.json() };
    },
    go: (page: Page, path: string) => page.goto(`${live().origin}/console${path}`),
    async submit(page: Page, selector = 'main form.form button[type=submit]') {
      await Promise.all([page.waitForLoadState('load'), page.click(selector)]);
    },
    /** Signs in on Gatehouse's sign-in page, where the console sent the browser, and waits for the console. */
    async signIn(page: Page, who: { email: string; password: string }) {
      await page.waitForURL(/\/u\/login/);
      await page.fill('#email', who.email);
      await page.fill('#password', who.password);
      await Promise.all([page.waitForURL(/\/console\//), page.click('button[type=submit]')]);
    },
  };
}
