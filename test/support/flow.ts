import type { Express } from 'express';
import request from 'supertest';
import { hashPassword } from '../../src/services/passwords.ts';
import type { Stores } from '../../src/store/index.ts';
import { newHexId } from '../../src/domain/ids.ts';
import type { User } from '../../src/domain/model.ts';
import { draftUser } from '../../src/domain/user-rules.ts';
import { CookieJar, pathOf } from './harness.ts';

type Res = request.Response;

/** Hidden inputs and the action of the first form on a page. */
export function formOf(html: string): { action: string; fields: Record<string, string> } {
  const action = /<form[^>]*action="([^"]*)"/.exec(html)?.[1] ?? '';
  const fields: Record<string, string> = {};
  for (const match of html.matchAll(/<input[^>]*type="hidden"[^>]*name="([^"]+)"[^>]*value="([^"]*)"/g)) fields[match[1] as string] = match[2] as string;
  return { action: action.replaceAll('&amp;', '&'), fields };
}

/** Where a flow ended: at the application's callback (a redirect out of Gatehouse), or on one of Gatehouse's pages. */
export type Outcome = { callback: URL } | { page: Res };

/** A browser on one host: one cookie jar, following Gatehouse's own redirects. */
export class Browser {
  readonly jar = new CookieJar();
  /** The Express app, or the origin of a Gatehouse listening on loopback. */
  private readonly app: Express | string;
  /** Sent with every request (a proxy's X-Forwarded-For, a User-Agent…). */
  private readonly headers: Record<string, string>;
  constructor(app: Express | string, headers: Record<string, string> = {}) {
    this.app = app;
    this.headers = headers;
  }

  private async settle(res: Res): Promise<Outcome> {
    this.jar.store(res.headers['set-cookie']);
    const location = res.headers.location;
    if (res.status >= 300 && res.status < 400 && location) {
      // Gatehouse redirects to itself with relative paths, or absolute ones on its own routes; anything else is a callback.
      // oidc-provider's own redirects are absolute URLs under the issuer (the test issuer, or a live server on loopback).
      const internal = location.startsWith('/') || /^http:\/\/127\.0\.0\.1:\d+\/(authorize|u\/|activate)/.test(location)
        || /^http:\/\/gatehouse\.test\/authorize\//.test(location);
      if (!internal) return { callback: new URL(location) };
      return this.settle(await request(this.app).get(pathOf(location)).set(this.headers).set('Cookie', this.jar.header()));
    }
    return { page: res };
  }

  async open(path: string): Promise<Outcome> {
    return this.settle(await request(this.app).get(path).set(this.headers).set('Cookie', this.jar.header()));
  }

  /** A form posted to Gatehouse, from one of its pages or from an application's (a cross-site form). */
  async post(path: string, form: Record<string, string>): Promise<Outcome> {
    return this.settle(await request(this.app).post(path).type('form').set(this.headers).set('Cookie', this.jar.header()).send(form));
  }

  /** Posts the page's first form with its hidden fields and these values; a value `undefined` leaves the field out. */
  async submit(page: Res, values: Record<string, string | undefined>): Promise<Outcome> {
    const { action, fields } = formOf(page.text);
    const form = Object.fromEntries(Object.entries({ ...fields, ...values }).filter((entry): entry is [string, string] => entry[1] !== undefined));
    return this.post(pathOf(action), form);
  }
}

export const pageOf = (outcome: Outcome): Res => {
  if (!('page' in outcome)) throw new Error(`expected a page, got a redirect to ${outcome.callback}`);
  return outcome.page;
};
export const callbackOf = (outcome: Outcome): URL => {
  if (!('callback' in outcome)) throw new Error(`expected a redirect to the callback, got a page (${outcome.page.status}): ${outcome.page.text.slice(0, 400)}`);
  return outcome.callback;
};

/** A user drafted by the domain rule (its email normalised like any other), with a verified email. */
export async function createUser(stores: Stores, email: string, password: string, connection = 'Username-Password-Authentication'): Promise<User> {
  const user = draftUser({ connection, email, password, email_verified: true }, `auth0|${newHexId()}`, await hashPassword(password), new Date().toISOString());
  await stores.durable.users.insert(user);
  return user;
}

/** Signs in on the login page and, if asked, answers the consent page. */
export async function signIn(browser: Browser, start: Outcome, email: string, password: string): Promise<Outcome> {
  const login = pageOf(start);
  if (!login.text.includes('name="password"')) throw new Error(`not a login page: ${login.status} ${login.text.slice(0, 300)}`);
  return browser.submit(login, { email, password });
}

export const isConsentPage = (outcome: Outcome) => 'page' in outcome && outcome.page.text.includes('value="accept"');

/** Runs an authorization code flow through the real pages (login, consent when asked) and exchanges the code. */
export async function codeFlowTokens(app: Express, client: { client_id: string; callbacks: string[] }, options: {
  browser?: Browser; email: string; password: string; query: { path: string; verifier: string }; secret?: string;
}): Promise<request.Response> {
  const browser = options.browser ?? new Browser(app);
  let outcome = await browser.open(options.query.path);
  if ('page' in outcome && outcome.page.text.includes('name="password"')) outcome = await signIn(browser, outcome, options.email, options.password);
  if (isConsentPage(outcome)) outcome = await browser.submit(pageOf(outcome), { action: 'accept' });
  const code = callbackOf(outcome).searchParams.get('code');
  if (!code) throw new Error(`no code in ${callbackOf(outcome)}`);
  return request(app).post('/oauth/token').type('form').send({
    grant_type: 'authorization_code', code, redirect_uri: client.callbacks[0], code_verifier: options.query.verifier, client_id: client.client_id,
    ...(options.secret ? { client_secret: options.secret } : {}),
  });
}
