import { AppHarness } from '../app-harness';
import { api, bearer, createApiHarness, TOKENS } from './support';

describe('API errors', () => {
  let h: AppHarness;
  beforeAll(async () => {
    h = await createApiHarness();
  });
  afterAll(() => h.close());

  it('refuses malformed JSON with 400 InputError', async () => {
    const res = await api(h)
      .post('/v1/prices')
      .set('Content-Type', 'application/json')
      .send('{"restrictions": [')
      .expect(400);
    expect(res.body).toMatchObject({
      code: 'InputError',
      message: expect.stringMatching(/JSON/),
      requestId: expect.any(String),
    });
    expect(res.body.stack).toBeUndefined();
  });

  it('refuses an oversized body with 400 InputError', async () => {
    const big = { restrictions: [{ key: 'region', restriction: 'x'.repeat(200_000) }] };
    const res = await api(h).post('/v1/prices').send(big).expect(400);
    expect(res.body).toMatchObject({ code: 'InputError', message: expect.stringMatching(/too large|larger/) });
  });

  it('refuses a body that is not an object', async () => {
    const res = await api(h).post('/v1/prices').set('Content-Type', 'application/json').send('[1,2]').expect(400);
    expect(res.body.code).toBe('InputError');
    await api(h).post('/v1/prices').set('Content-Type', 'application/json').send('"text"').expect(400);
    await api(h).post('/v1/prices').set('Content-Type', 'application/json').send('null').expect(400);
  });

  it('answers a failure of its own with a bare 500: no stack, no SQL, only the request id', async () => {
    await h.dataSource.query('ALTER TABLE instances RENAME TO instances_away');
    try {
      const res = await api(h).get('/v1/worker-types').expect(500);
      expect(res.body).toEqual({
        code: 'InternalError',
        message: 'Internal server error',
        requestId: expect.any(String),
      });
      expect(res.headers['x-request-id']).toBe(res.body.requestId);
    } finally {
      await h.dataSource.query('ALTER TABLE instances_away RENAME TO instances');
    }
    await api(h).get('/v1/worker-types').expect(200);
  });

  it('keeps a usable caller request id', async () => {
    const res = await api(h).get('/v1/nowhere').set('X-Request-Id', 'caller-123').expect(404);
    expect(res.body.requestId).toBe('caller-123');
    expect(res.headers['x-request-id']).toBe('caller-123');
    const other = await api(h).get('/v1/nowhere').set('X-Request-Id', 'bad id with spaces').expect(404);
    expect(other.body.requestId).not.toBe('bad id with spaces');
  });

  describe('authentication', () => {
    it('refuses a protected endpoint without a token, with a malformed header, or with an unknown token', async () => {
      for (const headers of [{}, { Authorization: 'Basic abc' }, { Authorization: 'Bearer' }, bearer('wrong-token')]) {
        const res = await api(h).get('/v1/internal/regions').set(headers).expect(401);
        expect(res.body).toMatchObject({ code: 'AuthenticationFailed', requestId: expect.any(String) });
      }
    });

    it('names the missing scope in a 403', async () => {
      const res = await api(h).get('/v1/internal/regions').set(bearer(TOKENS.builder)).expect(403);
      expect(res.body).toMatchObject({
        code: 'InsufficientScopes',
        message: expect.stringContaining('ec2-manager:internals'),
        details: { requiredScope: 'ec2-manager:internals' },
      });
    });

    it('lets the sandbox development client in with every scope', async () => {
      const { ApiClients } = await import('../../src/api/auth/api-clients.service');
      const token = h.get(ApiClients).developmentToken!;
      expect(token).toMatch(/^[A-Za-z0-9_-]{20,}$/);
      await api(h).get('/v1/internal/regions').set(bearer(token)).expect(200);
    });
  });
});

describe('API errors from EC2', () => {
  let h: AppHarness;
  beforeAll(async () => {
    h = await createApiHarness({ env: { AWS_MAX_ATTEMPTS: 2 } });
  });
  afterAll(() => h.close());

  it('answers 503 ServiceUnavailable when EC2 keeps throttling after the retries', async () => {
    h.sandbox.control.setFaults({ throttle: { fraction: 1, actions: ['DescribeKeyPairs'] } });
    const res = await api(h).get('/v1/worker-types/builder/key-pair').set(bearer(TOKENS.admin)).expect(503);
    expect(res.body).toMatchObject({ code: 'ServiceUnavailable', details: { awsCode: 'RequestLimitExceeded' } });
    h.sandbox.control.clearFaults();
    expect(Object.values(h.sandbox.control.state().regions).map((r) => r.keyPairs)).toEqual([[], []]);
  });
});
