import fc from 'fast-check';
import { MAX_BODY_DEPTH } from '../../src/api/body-shape';
import { launchExamples } from '../../src/api/launch/launch-examples';
import { AppHarness } from '../app-harness';
import { api, bearer, createApiHarness, TOKENS } from './support';

/** Every name a JSON key can share with an inherited member of a plain object. */
const PROTOTYPE_KEYS = Object.getOwnPropertyNames(Object.prototype);

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** The objects of a JSON tree, each with how many containers enclose it counting itself (the root's is 1). */
function objectsOf(value: Json, depth = 1): { object: { [key: string]: Json }; depth: number }[] {
  if (typeof value !== 'object' || value === null) return [];
  const children = Array.isArray(value) ? value : Object.values(value);
  const own = Array.isArray(value) ? [] : [{ object: value, depth }];
  return [...own, ...children.flatMap((c) => objectsOf(c, depth + 1))];
}

/** JSON text of `levels` containers nested in each other, arrays or objects as `kinds` says. */
function nestedText(levels: number, kinds: number): string {
  let open = '';
  let close = '';
  for (let i = 0; i < levels; i++) {
    const array = ((kinds >> (i % 30)) & 1) === 1;
    open += array ? '[' : '{"n":';
    close = (array ? ']' : '}') + close;
  }
  return `${open}1${close}`;
}

/** A body endpoint of the OpenAPI document, with a path to call and a body that works as it is. */
interface BodyEndpoint {
  operationId: string;
  method: 'post' | 'put' | 'patch' | 'delete';
  path: string;
  example: Json;
}

const PATH_VALUES: Record<string, string> = { workerType: 'builder', region: 'us-east-1' };

/** Whatever a caller sends, the answer is a 4xx in the error shape, never a 500, and nothing launches. */
describe('API under arbitrary input', () => {
  let h: AppHarness;
  let bodyEndpoints: BodyEndpoint[];
  beforeAll(async () => {
    h = await createApiHarness();
    // A launch that slipped through would then really launch, so that the count below would see it.
    await api(h).get('/v1/worker-types/builder/key-pair').set(bearer(TOKENS.admin)).expect(200);
    const doc = (await api(h).get('/api-json').expect(200)).body as {
      paths: Record<
        string,
        Record<
          string,
          {
            operationId: string;
            requestBody?: { content: Record<string, { examples?: Record<string, { value: Json }> }> };
          }
        >
      >;
    };
    bodyEndpoints = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.entries(ops)
        .filter(([, op]) => op.requestBody)
        .map(([method, op]) => {
          const examples = op.requestBody!.content['application/json']?.examples ?? {};
          const first = Object.values(examples)[0];
          return {
            operationId: op.operationId,
            method: method as BodyEndpoint['method'],
            path: path.replace(/\{(\w+)\}/g, (_m, name: string) => PATH_VALUES[name] ?? 'x'),
            example: first?.value ?? {},
          };
        }),
    );
  });
  afterAll(() => h.close());

  const send = (e: BodyEndpoint, text: string) =>
    api(h)[e.method](e.path).set(bearer(TOKENS.admin)).set('Content-Type', 'application/json').send(text);

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

  it('finds every endpoint that takes a body, each with a working example', () => {
    expect(bodyEndpoints.map((e) => e.operationId)).toEqual(
      expect.arrayContaining(['requestSpotInstance', 'runInstance', 'getSpecificPrices']),
    );
  });

  // The inputs of issue #11 that reached the inside as a 500 or launched; `where` is the path named.
  interface BadInput {
    name: string;
    method: 'post' | 'put';
    path: string;
    text: () => string;
    where?: string;
  }
  const examples = () => launchExamples(h.config);
  const run = '/v1/worker-types/builder/instance';
  const badInputs: BadInput[] = [
    {
      name: 'a nested constructor key in a price filter',
      method: 'post',
      path: '/v1/prices',
      text: () => '[{"key":"region","restriction":{"constructor":1}}]',
      where: '[0].restriction.constructor',
    },
    {
      name: 'a price filter nested 2,000 deep',
      method: 'post',
      path: '/v1/prices',
      text: () => '['.repeat(2000) + ']'.repeat(2000),
    },
    ...['constructor', '__proto__', 'hasOwnProperty', 'toString'].map((key): BadInput => ({
      name: `launch-spec key ${key}`,
      method: 'put',
      path: run,
      text: () => JSON.stringify(examples().onDemand).replace('"ImageId"', `"${key}":"x","ImageId"`),
      where: `LaunchInfo.${key}`,
    })),
    {
      name: 'SpotPrice null with RequestType spot',
      method: 'put',
      path: run,
      text: () => JSON.stringify({ ...examples().spotInstance, SpotPrice: null }),
      where: 'SpotPrice',
    },
    {
      name: 'SpotPrice null in a spot request',
      method: 'put',
      path: '/v1/worker-types/builder/spot-request',
      text: () => JSON.stringify({ ...examples().spot, SpotPrice: null }),
      where: 'SpotPrice',
    },
    {
      name: 'Placement null',
      method: 'put',
      path: run,
      text: () =>
        JSON.stringify({ ...examples().onDemand, LaunchInfo: { ...examples().onDemand.LaunchInfo, Placement: null } }),
      where: 'LaunchInfo.Placement',
    },
  ];
  it.each(badInputs)('refuses $name with a 400 naming it, launching nothing', async ({ method, path, text, where }) => {
    const res = await api(h)
      [method](path)
      .set(bearer(TOKENS.admin))
      .set('Content-Type', 'application/json')
      .send(text());
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('InputError');
    expect(res.body.details.reasons).toEqual([
      where === undefined
        ? expect.objectContaining({ message: `nested deeper than ${MAX_BODY_DEPTH} levels` })
        : expect.objectContaining({ path: where }),
    ]);
    expect(launches()).toBe(0);
  });

  it('refuses a key named after an Object.prototype member anywhere in any body', async () => {
    for (const e of bodyEndpoints) {
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom(...PROTOTYPE_KEYS),
          fc.nat(),
          fc.jsonValue({ maxDepth: 2 }),
          async (key, at, value) => {
            const body = structuredClone(e.example);
            const objects = objectsOf(body);
            const { object } = objects[at % objects.length];
            // Defined, not assigned: assigning __proto__ would change the prototype instead of adding a key.
            Object.defineProperty(object, key, { value, enumerable: true, configurable: true, writable: true });
            const res = await send(e, JSON.stringify(body));
            expect(res.status).toBe(400);
            expect(res.body.details.reasons).toContainEqual(
              expect.objectContaining({ path: expect.stringMatching(new RegExp(`(^|\\.)${key}$`)) }),
            );
          },
        ),
        { numRuns: 25 },
      );
    }
    expect(launches()).toBe(0);
  });

  it(`refuses nesting deeper than ${MAX_BODY_DEPTH} levels in any body, and only that`, async () => {
    for (const e of bodyEndpoints) {
      await fc.assert(
        fc.asyncProperty(
          fc.oneof(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 3000 })),
          fc.nat(),
          fc.nat(),
          async (levels, kinds, at) => {
            const body = structuredClone(e.example);
            const objects = objectsOf(body);
            const { object, depth } = objects[at % objects.length];
            object.Nested = 'NESTED';
            const res = await send(e, JSON.stringify(body).replace('"NESTED"', nestedText(levels, kinds)));
            expect(res.status).toBeGreaterThanOrEqual(400);
            expect(res.status).toBeLessThan(500);
            const tooDeep = (res.body.details?.reasons ?? []).some((r: { message: string }) =>
              r.message.startsWith('nested deeper'),
            );
            expect(tooDeep).toBe(depth + levels > MAX_BODY_DEPTH);
          },
        ),
        { numRuns: 25 },
      );
    }
    expect(launches()).toBe(0);
  });

  it('takes JSON bodies only: a launch sent as a form is refused, launching nothing', async () => {
    const res = await api(h)
      .put('/v1/worker-types/builder/instance')
      .set(bearer(TOKENS.admin))
      .type('form')
      .send(examples().onDemand);
    expectRefused(res);
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
