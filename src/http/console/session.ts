import { randomBytes } from 'node:crypto';
import { parse, serialize } from 'cookie';
import type { Request, Response } from 'express';
import type { Adapter } from 'oidc-provider';
import type { OperatorRole } from '../../domain/model.ts';
import type { Stores } from '../../store/index.ts';

/** A sign-in the console started: what its callback checks (state) and proves (the PKCE verifier). */
export interface PendingSignIn {
  kind: 'pending';
  state: string;
  verifier: string;
  /** The console page to show after signing in. */
  returnTo: string;
}

/** A signed-in operator: their Management API token stays here, on the server, never in the browser. */
export interface OperatorSession {
  kind: 'operator';
  token: string;
  /** Epoch seconds: the session ends with its token. */
  tokenExpiresAt: number;
  userId: string;
  email: string;
  role: OperatorRole;
  scopes: string[];
}

/** `expiresAt` (epoch seconds): the store's own expiry allows a short grace, which a session never gets. */
type SessionRecord = (PendingSignIn | OperatorSession) & { expiresAt?: number };

const COOKIE = 'gatehouse_console';
const PENDING_SECONDS = 600;

/**
 * Console sessions, kept with oidc-provider's short-lived artifacts (Redis when configured, else the embedded store):
 * shared by every process, stored under the digest of the cookie's value with the payload sealed
 * (src/store/artifacts.ts), and expiring by themselves. The cookie holds only a random id.
 */
export class ConsoleSessions {
  private readonly adapter: Adapter;
  private readonly cookiePath: string;
  private readonly secure: boolean;
  private readonly idleSeconds: number;

  constructor(stores: Stores, options: { cookiePath: string; secure: boolean; idleTimeoutMinutes: number }) {
    this.adapter = stores.oidcAdapter('ConsoleSession');
    this.cookiePath = options.cookiePath;
    this.secure = options.secure;
    this.idleSeconds = options.idleTimeoutMinutes * 60;
  }

  private idOf(req: Request): string | undefined {
    const id = parse(req.headers.cookie ?? '')[COOKIE];
    return id && /^[\w-]{43}$/.test(id) ? id : undefined;
  }

  private setCookie(res: Response, id: string, maxAgeSeconds: number): void {
    res.append('Set-Cookie', serialize(COOKIE, id, {
      httpOnly: true, secure: this.secure, sameSite: 'lax', path: this.cookiePath, maxAge: maxAgeSeconds,
    }));
  }

  /** The session this request carries, with its id (which CSRF tokens are bound to). */
  async read(req: Request): Promise<{ id: string; record: SessionRecord } | undefined> {
    const id = this.idOf(req);
    const record = id ? (await this.adapter.find(id)) as SessionRecord | undefined : undefined;
    if (!id || !record || (record.expiresAt ?? 0) * 1000 <= Date.now()) return undefined;
    return { id, record };
  }

  /** A new session id for every change of who is signed in: a fixed cookie never becomes someone's session. */
  async start(res: Response, record: SessionRecord): Promise<string> {
    const id = randomBytes(32).toString('base64url');
    await this.save(res, id, record);
    return id;
  }

  /** Saves the session and pushes its idle expiry back (never past the token's expiry). */
  async save(res: Response, id: string, record: SessionRecord): Promise<void> {
    const lifetime = record.kind === 'pending'
      ? PENDING_SECONDS
      : Math.max(1, Math.min(this.idleSeconds, record.tokenExpiresAt - Math.floor(Date.now() / 1000)));
    await this.adapter.upsert(id, { ...record, expiresAt: Math.floor(Date.now() / 1000) + lifetime } as unknown as Record<string, unknown>, lifetime);
    this.setCookie(res, id, lifetime);
  }

  async end(req: Request, res: Response): Promise<void> {
    const id = this.idOf(req);
    if (id) await this.adapter.destroy(id);
    this.setCookie(res, '', 0);
  }
}
