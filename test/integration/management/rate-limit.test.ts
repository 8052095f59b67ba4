import { describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { adminToken, startGatehouse } from '../../support/harness.ts';

describe('Management API rate limit', () => {
  it('answers 429 in Auth0 shape, with X-RateLimit headers, once a client passes its limit', async () => {
    const test = await startGatehouse({ config: { management: { rate_limit_per_second: 3 } } });
    const token = await adminToken(test);
    const statuses: number[] = [];
    let last: request.Response | undefined;
    for (let i = 0; i < 4; i += 1) {
      last = await request(test.app).get('/api/v2/tenants/settings').set('Authorization', `Bearer ${token}`);
      statuses.push(last.status);
    }
    expect(statuses).toEqual([200, 200, 200, 429]);
    expect(last!.body).toEqual({ statusCode: 429, error: 'Too Many Requests', message: 'Global limit has been reached', errorCode: 'too_many_requests' });
    expect(last!.headers['x-ratelimit-limit']).toBe('3');
    expect(last!.headers['x-ratelimit-remaining']).toBe('0');
    expect(Number(last!.headers['retry-after'])).toBeGreaterThan(0);
    await test.close();
  });
});
