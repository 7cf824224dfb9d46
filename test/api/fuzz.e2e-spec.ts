import fc from 'fast-check';
import { AppHarness } from '../app-harness';
import { api, bearer, createApiHarness, TOKENS } from './support';

/** Whatever a caller sends, the answer is a 4xx in the error shape, never a 500, and nothing launches. */
describe('API under arbitrary input', () => {
  let h: AppHarness;
  beforeAll(async () => {
    h = await createApiHarness();
  });
  afterAll(() => h.close());

  const launches = () =>
    Object.values(h.sandbox.control.state().regions).reduce(
      (n, r) => n + (r.instances?.length ?? 0) + (r.spotRequests?.length ?? 0),
      0,
    );

  const expectRefused = (res: { status: number; body: { code?: string; requestId?: string; stack?: unknown } }) => {
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
    expect(res.body.code).toEqual(expect.any(String));
    expect(res.body.requestId).toEqual(expect.any(String));
    expect(res.body.stack).toBeUndefined();
  };

  // Shapes close to a launch body, so that the deeper rules are reached, plus arbitrary JSON.
  const nearLaunch = fc.record(
    {
      ClientToken: fc.oneof(fc.string(), fc.integer(), fc.constant(null)),
      Region: fc.oneof(fc.constantFrom('us-east-1', 'us-west-2', 'eu-west-1'), fc.string(), fc.double()),
      SpotPrice: fc.oneof(fc.double(), fc.string(), fc.constant(null)),
      RequestType: fc.oneof(fc.constantFrom('spot', 'on-demand'), fc.anything()),
      LaunchSpecification: fc.oneof(
        fc.dictionary(
          fc.constantFrom(
            'ImageId',
            'InstanceType',
            'KeyName',
            'Placement',
            'BlockDeviceMappings',
            'UserData',
            'Other',
          ),
          fc.anything(),
        ),
        fc.anything(),
      ),
      LaunchInfo: fc.dictionary(fc.string(), fc.jsonValue()),
    },
    { requiredKeys: [] },
  );

  it.each([
    ['put', '/v1/worker-types/builder/spot-request'],
    ['put', '/v1/worker-types/builder/instance'],
    ['post', '/v1/prices'],
  ] as const)('%s %s', async (method, path) => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(nearLaunch, fc.jsonValue()), async (body) => {
        const res = await api(h)
          [method](path)
          .set(bearer(TOKENS.admin))
          .set('Content-Type', 'application/json')
          .send(JSON.stringify(body));
        if (path === '/v1/prices' && [200, 503].includes(res.status)) return; // a valid filter (prices known or not yet)
        expectRefused(res);
      }),
      { numRuns: 60 },
    );
    expect(launches()).toBe(0);
  });

  it.each([
    ['undecodable path', () => api(h).get('/v1/worker-types/%E0%A4%A/stats')],
    [
      'unsupported charset',
      () => api(h).post('/v1/prices').set('Content-Type', 'application/json; charset=klingon').send('{}'),
    ],
    ['wrong content type', () => api(h).post('/v1/prices').set('Content-Type', 'text/plain').send('hello')],
    ['unknown method', () => api(h).patch('/v1/prices').send({})],
  ])('%s', async (_name, send) => {
    expectRefused(await send());
  });
});
