import { AppHarness } from '../app-harness';
import { api, bearer, createApiHarness, TOKENS } from './support';

type Method = 'get' | 'put' | 'post' | 'delete';

/** Every protected endpoint of SPEC §8, with the scope it needs. */
const PROTECTED: [string, Method, string, string][] = [
  ['requestSpotInstance', 'put', '/v1/worker-types/builder/spot-request', 'ec2-manager:manage-resources:builder'],
  ['runInstance', 'put', '/v1/worker-types/builder/instance', 'ec2-manager:manage-resources:builder'],
  ['terminateWorkerType', 'delete', '/v1/worker-types/builder/resources', 'ec2-manager:manage-resources:builder'],
  ['ensureKeyPair', 'get', '/v1/worker-types/builder/key-pair', 'ec2-manager:manage-resources:builder'],
  ['removeKeyPair', 'delete', '/v1/worker-types/builder/key-pair', 'ec2-manager:manage-resources:builder'],
  [
    'terminateInstance',
    'delete',
    '/v1/region/us-east-1/instance/i-0123456789abcdef0',
    'ec2-manager:manage-instances:us-east-1:i-0123456789abcdef0',
  ],
  [
    'cancelSpotInstanceRequest',
    'delete',
    '/v1/region/us-east-1/spot-instance-request/sir-abcd1234',
    'ec2-manager:manage-spot-requests:us-east-1:sir-abcd1234',
  ],
  ['regions', 'get', '/v1/internal/regions', 'ec2-manager:internals'],
  ['spotRequestsToPoll', 'get', '/v1/internal/spot-requests-to-poll', 'ec2-manager:internals'],
  ['amiUsage', 'get', '/v1/internal/ami-usage', 'ec2-manager:internals'],
  ['ebsUsage', 'get', '/v1/internal/ebs-usage', 'ec2-manager:internals'],
  ['dbpoolStats', 'get', '/v1/internal/db-pool-stats', 'ec2-manager:internals'],
  ['allState', 'get', '/v1/internal/all-state', 'ec2-manager:internals'],
  ['sqsStats', 'get', '/v1/internal/sqs-stats', 'ec2-manager:internals'],
  ['purgeQueues', 'post', '/v1/internal/purge-queues', 'ec2-manager:internals'],
];

const PUBLIC: [string, string][] = [
  ['ping', '/v1/ping'],
  ['listWorkerTypes', '/v1/worker-types'],
  ['workerTypeStats', '/v1/worker-types/builder/stats'],
  ['workerTypeState', '/v1/worker-types/builder/state'],
  ['workerTypeHealth', '/v1/worker-types/builder/health'],
];

describe('API authentication and scopes', () => {
  let h: AppHarness;
  beforeAll(async () => {
    h = await createApiHarness();
  });
  afterAll(() => h.close());

  const call = (method: Method, path: string) => api(h)[method](path);

  describe.each(PROTECTED)('%s', (_name, method, path, scope) => {
    it('answers 401 without a token, with another scheme, or with an unknown token', async () => {
      for (const headers of [{}, { Authorization: `Basic ${TOKENS.admin}` }, bearer('not-a-known-token')]) {
        // A body that would be invalid: authentication comes first, the caller learns nothing of the rules.
        const res = await call(method, path).set(headers).send({ junk: true });
        expect(res.status).toBe(401);
        expect(res.body).toMatchObject({ code: 'AuthenticationFailed', requestId: expect.any(String) });
      }
    });

    it(`answers 403 naming ${scope} to a client without it`, async () => {
      for (const token of [TOKENS.none, path.includes('/internal/') ? TOKENS.builder : TOKENS.internals]) {
        const res = await call(method, path).set(bearer(token)).send({});
        expect(res.status).toBe(403);
        expect(res.body).toMatchObject({ code: 'InsufficientScopes', details: { requiredScope: scope } });
        expect(res.body.message).toContain(scope);
      }
    });
  });

  it('limits a worker-type scope to its worker type', async () => {
    const res = await api(h).get('/v1/worker-types/other/key-pair').set(bearer(TOKENS.builder)).expect(403);
    expect(res.body.details.requiredScope).toBe('ec2-manager:manage-resources:other');
    await api(h).get('/v1/worker-types/builder/key-pair').set(bearer(TOKENS.builder)).expect(200);
  });

  it.each(PUBLIC)('%s needs no token', async (_name, path) => {
    await api(h).get(path).expect(200);
  });
});
