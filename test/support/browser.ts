import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createRequire } from 'node:module';
import path from 'node:path';
import { expect } from '@jest/globals';
import type { AxeResults } from 'axe-core';
import express, { type Express } from 'express';
import { chromium, type Browser, type Page } from 'playwright-core';
import { createGatehouse, type Gatehouse } from '../../src/gatehouse.ts';
import type { GatehouseConfig } from '../../src/config/schema.ts';
import { memoryStores } from './harness.ts';

export const CHROMIUM = '/usr/bin/chromium';
/** Browser tests need Debian's Chromium (.ci/run installs it); without it they are skipped, and say so. */
export const chromiumMissing = existsSync(CHROMIUM) ? undefined : `${CHROMIUM} is not installed (apt-get install chromium)`;

export const ARTIFACTS = path.resolve(import.meta.dirname, '../../test-results');

export function launchChromium(extraArgs: string[] = []): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync', ...extraArgs],
  });
}

/** A self-signed certificate for the loopback names, made for one test run (Chromium then runs with --ignore-certificate-errors). */
export async function loopbackCertificate(): Promise<{ key: string; cert: string }> {
  const { generate } = await import('selfsigned');
  const pems = await generate([{ name: 'commonName', value: 'localhost' }], {
    keySize: 2048, extensions: [{ name: 'subjectAltName', altNames: [{ type: 2, value: 'localhost' }, { type: 7, ip: '127.0.0.1' }] }],
  });
  return { key: pems.private, cert: pems.cert };
}

/** What Chromium refused on each page because of its Content-Security-Policy (it says so on the console). */
const cspRefusals = new WeakMap<Page, string[]>();

/**
 * A phone-sized page (the pages must read well there); fails the test on any dialog, i.e. any script a third party
 * smuggled in, and records what the CSP refused (checkPage fails on it).
 */
export async function phonePage(browser: Browser): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 1 });
  const page = await context.newPage();
  page.on('dialog', (dialog) => {
    throw new Error(`a page opened a dialog: ${dialog.message()}`);
  });
  const refusals: string[] = [];
  cspRefusals.set(page, refusals);
  page.on('console', (message) => {
    if (message.text().includes('Content Security Policy')) refusals.push(`CSP: ${message.text()}`);
  });
  return page;
}

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });
}

/** The widths every page must work at: a desktop window and a phone. */
export const VIEWPORTS = { desktop: { width: 1280, height: 800 }, phone: { width: 390, height: 844 } };

const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/**
 * axe-core's serious and critical findings on the page as it is now. axe is evaluated through the DevTools protocol,
 * which the page's Content-Security-Policy does not govern: the page keeps its real CSP (no inline script is allowed
 * into it, and none is needed).
 */
export async function accessibilityProblems(page: Page): Promise<string[]> {
  await page.evaluate(AXE_SOURCE);
  const results = await page.evaluate(() => (globalThis as unknown as { axe: { run(): Promise<AxeResults> } }).axe.run());
  return results.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => `${n.target.join(' ')}: ${n.failureSummary ?? ''}`).join('; ')}`);
}

/**
 * Screenshots the page at desktop and phone widths (`<name>-desktop.png`, `<name>-phone.png`) and checks each with
 * axe-core: no serious or critical accessibility problem, and nothing the CSP refused since the page was opened. The
 * page keeps the size it had.
 */
export async function checkPage(page: Page, name: string): Promise<void> {
  const size = page.viewportSize();
  for (const [width, viewport] of Object.entries(VIEWPORTS)) {
    await page.setViewportSize(viewport);
    await screenshot(page, `${name}-${width}`);
    const problems = [...await accessibilityProblems(page), ...cspRefusals.get(page) ?? []];
    expect({ page: `${name} (${width})`, problems }).toEqual({ page: `${name} (${width})`, problems: [] });
  }
  if (size) await page.setViewportSize(size);
}

export interface LiveGatehouse {
  origin: string;
  gatehouse: Gatehouse;
  /** What the server serves: Gatehouse behind the test's own routes (`before`). */
  app: Express;
  close(): Promise<void>;
}

export interface LiveOptions {
  /** Serve https with this key and certificate (for a host name the certificate names). */
  tls?: { key: string; cert: string; hostname: string };
  /** An issuer ending with `/`, Auth0's style. */
  trailingSlash?: boolean;
  /** Mounts the test's own routes (an API, a client application) in front of Gatehouse. */
  before?: (app: Express, gatehouse: Gatehouse) => void;
}

/** Gatehouse on a real port (the browser needs one), on memory stores; over https when given a certificate. */
export async function startLiveGatehouse(config: Partial<GatehouseConfig> = {}, options: LiveOptions = {}): Promise<LiveGatehouse> {
  const server: Server = options.tls ? createHttpsServer({ key: options.tls.key, cert: options.tls.cert }) : createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  const origin = options.tls ? `https://${options.tls.hostname}:${port}` : `http://127.0.0.1:${port}`;
  const stores = memoryStores();
  const gatehouse = await createGatehouse({ config: { env: 'test', logLevel: 'silent', ...config, issuer: options.trailingSlash ? `${origin}/` : origin }, stores });
  const app = express();
  options.before?.(app, gatehouse);
  app.use(gatehouse.router);
  server.on('request', app);
  return {
    origin,
    gatehouse,
    app,
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await gatehouse.close();
      await stores.close();
    },
  };
}
