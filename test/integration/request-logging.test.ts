import { describe, expect, it } from '@jest/globals';
import { once } from 'node:events';
import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import express from 'express';
import request from 'supertest';
import { createLogger, requestLogging } from '../../src/http/logging.ts';

/** An app behind the request logger whose log lines are kept, parsed. */
function loggedApp() {
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger('info', { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
  const app = express();
  app.use(requestLogging(logger));
  app.get('/ok', (_req, res) => void res.json({ ok: true }));
  app.post('/oauth/token', (req, res) => {
    req.log.warn({ details: { client_secret: 'not-for-logs', refresh_token: 'nor-this' } }, 'a handler says something');
    res.status(503).json({ error: 'temporarily_unavailable' });
  });
  app.get('/slow', () => undefined); // never answers: the client gives up
  return { app, lines };
}

describe('request logging', () => {
  it('writes one line per answered request: its id (echoed), method, path without the query, status, time', async () => {
    const { app, lines } = loggedApp();
    const res = await request(app).get('/ok?code=secret-code&state=s').set('X-Request-Id', 'abc-123').expect(200);
    expect(res.headers['x-request-id']).toBe('abc-123');
    const generated = await request(app).get('/ok').set('X-Request-Id', 'not valid!').expect(200);
    expect(generated.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(lines).toEqual([
      expect.objectContaining({ level: 30, msg: 'request completed', reqId: 'abc-123', req: { method: 'GET', path: '/ok', remoteAddress: expect.any(String) }, res: { statusCode: 200 }, responseTime: expect.any(Number) }),
      expect.objectContaining({ reqId: generated.headers['x-request-id'] }),
    ]);
    expect(JSON.stringify(lines)).not.toContain('secret-code');
  });

  it("gives handlers a logger bound to the request id that still redacts credentials, and a 503 is a warning", async () => {
    const { app, lines } = loggedApp();
    await request(app).post('/oauth/token').set('X-Request-Id', 'r-1').expect(503);
    expect(lines).toEqual([
      expect.objectContaining({ level: 40, reqId: 'r-1', msg: 'a handler says something', details: { client_secret: '[redacted]', refresh_token: '[redacted]' } }),
      expect.objectContaining({ level: 40, reqId: 'r-1', msg: 'request completed', res: { statusCode: 503 } }),
    ]);
  });

  it('gives every request the same req.log getter, so that request objects keep one shape (a getter per request makes V8 turn each into a dictionary)', async () => {
    const logger = createLogger('info', { write: () => undefined });
    const getters: unknown[] = [];
    const app = express();
    app.use(requestLogging(logger));
    app.get('/', (req, res) => {
      getters.push(Object.getOwnPropertyDescriptor(req, 'log')?.get);
      res.json({ id: (req.log.bindings() as { reqId: string }).reqId });
    });
    const ids = [(await request(app).get('/').set('X-Request-Id', 'one')).body.id, (await request(app).get('/').set('X-Request-Id', 'two')).body.id];
    expect(ids).toEqual(['one', 'two']);
    expect(getters[0]).toBeInstanceOf(Function);
    expect(getters[1]).toBe(getters[0]);
  });

  it('writes a line when the client goes away before the answer', async () => {
    const { app, lines } = loggedApp();
    const server = app.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const socket = connect((server.address() as AddressInfo).port, '127.0.0.1');
    socket.write('GET /slow HTTP/1.1\r\nHost: x\r\nX-Request-Id: gone-1\r\n\r\n');
    await new Promise((resolve) => setTimeout(resolve, 100));
    socket.destroy();
    for (let i = 0; i < 50 && !lines.length; i++) await new Promise((resolve) => setTimeout(resolve, 20));
    server.close();
    expect(lines).toEqual([expect.objectContaining({ reqId: 'gone-1', msg: 'request aborted', req: expect.objectContaining({ path: '/slow' }) })]);
  });
});
