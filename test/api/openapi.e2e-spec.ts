import { AppHarness } from '../app-harness';
import { launchExamples } from '../../src/api/launch/launch-examples';
import { requireEsm } from '../../src/common/esm';
import { api, createApiHarness } from './support';

/** The operations of SPEC §8 this service documents (lastHousekeeping comes with the housekeeping job). */
const OPERATIONS = [
  'ping',
  'listWorkerTypes',
  'requestSpotInstance',
  'runInstance',
  'terminateWorkerType',
  'workerTypeStats',
  'workerTypeState',
  'workerTypeHealth',
  'ensureKeyPair',
  'removeKeyPair',
  'terminateInstance',
  'cancelSpotInstanceRequest',
  'getPrices',
  'getSpecificPrices',
  'regions',
  'spotRequestsToPoll',
  'amiUsage',
  'ebsUsage',
  'dbpoolStats',
  'allState',
  'sqsStats',
  'purgeQueues',
];

// Its dependencies are ESM-only, which jest's own loader cannot follow (see requireEsm).
const SwaggerParser = requireEsm<{ validate(doc: object): Promise<object> }>(
  '@apidevtools/swagger-parser',
  'lib/index.js',
);

interface Operation {
  operationId: string;
  description?: string;
  security?: Record<string, string[]>[];
  requestBody?: { content: Record<string, { examples?: Record<string, { value: unknown }> }> };
}

describe('OpenAPI document', () => {
  let h: AppHarness;
  let doc: {
    openapi: string;
    paths: Record<string, Record<string, Operation>>;
    components: { securitySchemes: object };
  };
  const operations = () => Object.values(doc.paths).flatMap((p) => Object.values(p));
  const op = (id: string) => operations().find((o) => o.operationId === id)!;

  beforeAll(async () => {
    h = await createApiHarness();
    doc = (await api(h).get('/api-json').expect(200)).body;
  });
  afterAll(() => h.close());

  it('is a valid OpenAPI 3 document', async () => {
    expect(doc.openapi).toMatch(/^3\./);
    await expect(SwaggerParser.validate(structuredClone(doc))).resolves.toBeDefined();
    // The validator does look: a document without its info block is refused.
    const broken: Partial<typeof doc> & { info?: unknown } = structuredClone(doc);
    delete broken.info;
    await expect(SwaggerParser.validate(broken)).rejects.toThrow();
  });

  it('lists every operation of SPEC §8 under its name', () => {
    const ids = operations().map((o) => o.operationId);
    expect(ids).toEqual(expect.arrayContaining(OPERATIONS));
  });

  it('declares the bearer scheme and names the scope of every protected operation', () => {
    expect(doc.components.securitySchemes).toEqual({
      bearer: expect.objectContaining({ type: 'http', scheme: 'bearer' }),
    });
    for (const o of operations()) {
      expect(o.description).toMatch(/\*\*Scope:\*\*/);
      if (o.security) expect(o.description).toMatch(/`ec2-manager:[a-z-]+(:<\w+>)*`/);
    }
    expect(op('requestSpotInstance').security).toEqual([{ bearer: [] }]);
    expect(op('requestSpotInstance').description).toContain('ec2-manager:manage-resources:<workerType>');
    expect(op('terminateInstance').description).toContain('ec2-manager:manage-instances:<region>:<id>');
    expect(op('sqsStats').description).toContain('ec2-manager:internals');
    expect(op('workerTypeStats').security).toBeUndefined();
  });

  it('carries launch examples made from this configuration', () => {
    const examples = launchExamples(h.config);
    const spot = op('requestSpotInstance').requestBody!.content['application/json'].examples!;
    expect(spot.spot.value).toEqual(examples.spot);
    const run = op('runInstance').requestBody!.content['application/json'].examples!;
    expect(run.onDemand.value).toEqual(examples.onDemand);
    expect(run.spot.value).toEqual(examples.spotInstance);
  });

  it('serves Swagger UI at /api', async () => {
    const res = await api(h).get('/api').redirects(1).expect(200);
    expect(res.text).toContain('swagger-ui');
  });
});
