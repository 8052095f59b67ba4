import { createHash, randomBytes } from 'node:crypto';
import { Agent, request } from 'node:http';
import type { ProtocolServerReady, Credentials } from '../servers/fixtures.ts';
import { API_SCOPES, BENCH_USER, CALLBACK } from '../servers/fixtures.ts';

export interface HttpResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** A small keep-alive HTTP client for loopback servers (lighter than fetch, so the load generator takes less CPU). */
export class HttpClient {
  private readonly origin: URL;
  private readonly agent: Agent;
  constructor(origin: string, maxSockets: number) {
    this.origin = new URL(origin);
    if (this.origin.hostname !== '127.0.0.1') throw new Error(`the benchmark only talks to 127.0.0.1, not ${this.origin.hostname}`);
    this.agent = new Agent({ keepAlive: true, maxSockets });
  }

  /** `form` is sent URL-encoded; `body` as given (set its content-type in `headers`). */
  send(method: 'GET' | 'POST', path: string, options: { headers?: Record<string, string>; form?: Record<string, string>; body?: string } = {}): Promise<HttpResponse> {
    const body = options.form ? new URLSearchParams(options.form).toString() : options.body;
    const headers = {
      ...(options.form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
      ...options.headers,
      ...(body === undefined ? {} : { 'content-length': String(Buffer.byteLength(body)) }),
    };
    return new Promise((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: this.origin.port, method, path, headers, agent: this.agent }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
        res.on('error', reject);
      });
      req.setTimeout(30_000, () => req.destroy(new Error(`${method} ${path} timed out`)));
      req.on('error', reject);
      req.end(body);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

/** One browser's cookies on one host (paths ignored, as every cookie Gatehouse sets is for its own pages). */
class CookieJar {
  private readonly cookies = new Map<string, string>();
  store(setCookie: string | string[] | undefined): void {
    for (const line of [setCookie ?? []].flat()) {
      const pair = line.split(';', 1)[0] ?? '';
      const index = pair.indexOf('=');
      if (index < 0) continue;
      const value = pair.slice(index + 1);
      if (value === '' || /expires=Thu, 01 Jan 1970/i.test(line)) this.cookies.delete(pair.slice(0, index));
      else this.cookies.set(pair.slice(0, index), value);
    }
  }
  header(): string {
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
  }
}

/** The action, hidden inputs and first option of each select of the first form on a page. */
function formOf(html: string): { action: string; fields: Record<string, string> } {
  const action = (/<form[^>]*action="([^"]*)"/.exec(html)?.[1] ?? '').replaceAll('&amp;', '&');
  const fields: Record<string, string> = {};
  for (const match of html.matchAll(/<input[^>]*type="hidden"[^>]*name="([^"]+)"[^>]*value="([^"]*)"/g)) fields[match[1] as string] = match[2] as string;
  for (const match of html.matchAll(/<select[^>]*name="([^"]+)"[^>]*>\s*<option value="([^"]*)"/g)) fields[match[1] as string] ??= match[2] as string;
  return { action, fields };
}

const pathOf = (location: string) => {
  const url = new URL(location, 'http://127.0.0.1');
  return `${url.pathname}${url.search}`;
};

export interface FlowOptions {
  client: Credentials;
  audience: string;
  offlineAccess?: boolean;
  /** Stop once the code is issued (the session exists), without redeeming it. */
  skipTokenRequest?: boolean;
}

export interface FlowResult {
  tokens: { access_token?: string; refresh_token?: string; id_token?: string } | undefined;
  /** The session cookie, for later requests of the same browser. */
  cookies: string;
}

const MAX_STEPS = 12;

/**
 * One authorization code + PKCE flow as a browser and its application run it: /authorize, the login page, the
 * consent page when shown, the callback, then the code exchanged at the token endpoint.
 */
export async function authorizationCodeFlow(http: HttpClient, server: ProtocolServerReady, options: FlowOptions): Promise<FlowResult> {
  const jar = new CookieJar();
  const verifier = randomBytes(32).toString('base64url');
  const scope = ['openid', 'email', ...API_SCOPES, ...(options.offlineAccess ? ['offline_access'] : [])].join(' ');
  const query = new URLSearchParams({
    client_id: options.client.client_id, response_type: 'code', redirect_uri: CALLBACK, scope, state: randomBytes(8).toString('hex'),
    code_challenge: createHash('sha256').update(verifier).digest('base64url'), code_challenge_method: 'S256',
    [server.audienceParameter]: options.audience,
    ...(options.offlineAccess && server.offlineNeedsConsentPrompt ? { prompt: 'consent' } : {}),
  });
  let res = await http.send('GET', `/authorize?${query}`);
  let code: string | null = null;
  for (let step = 0; step < MAX_STEPS && code === null; step += 1) {
    jar.store(res.headers['set-cookie']);
    const location = res.headers.location;
    if (res.status >= 300 && res.status < 400 && typeof location === 'string') {
      if (location.startsWith(CALLBACK)) {
        const callback = new URL(location);
        code = callback.searchParams.get('code');
        if (!code) throw new Error(`the flow ended with ${callback.searchParams.get('error')}: ${callback.searchParams.get('error_description')}`);
        break;
      }
      res = await http.send('GET', pathOf(location), { headers: { cookie: jar.header() } });
    } else if (res.status === 200 && res.body.includes('<form')) {
      const { action, fields } = formOf(res.body);
      const answers: Record<string, string> = res.body.includes('name="password"') ? { email: BENCH_USER.email, password: BENCH_USER.password } : { action: 'accept' };
      res = await http.send('POST', pathOf(action), { headers: { cookie: jar.header() }, form: { ...fields, ...answers } });
    } else {
      throw new Error(`unexpected answer in the flow: ${res.status} ${res.body.slice(0, 300)}`);
    }
  }
  if (code === null) throw new Error(`the flow did not reach the callback in ${MAX_STEPS} steps`);
  if (options.skipTokenRequest) return { tokens: undefined, cookies: jar.header() };
  const token = await http.send('POST', '/oauth/token', {
    form: { grant_type: 'authorization_code', code, redirect_uri: CALLBACK, code_verifier: verifier, ...options.client },
  });
  if (token.status !== 200) throw new Error(`token request: ${token.status} ${token.body.slice(0, 300)}`);
  return { tokens: JSON.parse(token.body) as FlowResult['tokens'], cookies: jar.header() };
}
