import { createConfig, lintFromString } from '@redocly/openapi-core';
import { AppHarness } from '../app-harness';
import { launchExamples, launchExamplesPatch, PLACEHOLDER_IMAGE_ID } from '../../src/api/launch/launch-examples';
import { AppConfig } from '../../src/config/app-config';
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
  'lastHousekeeping',
];

// Its dependencies are ESM-only, which jest's own loader cannot follow (see requireEsm).
const SwaggerParser = requireEsm<{ validate(doc: object): Promise<object> }>(
  '@apidevtools/swagger-parser',
  'lib/index.js',
);

interface Schema {
  properties: Record<string, { type?: string; pattern?: string; minimum?: number; items?: object }>;
  required?: string[];
  additionalProperties?: boolean;
}

interface Response {
  description: string;
  headers?: Record<string, unknown>;
  content?: Record<string, { example?: { code?: string; details?: object } }>;
}

interface Operation {
  operationId: string;
  description?: string;
  security?: Record<string, string[]>[];
  parameters?: { name: string; schema?: { pattern?: string } }[];
  requestBody?: { content: Record<string, { examples?: Record<string, { summary?: string; value: unknown }> }> };
  responses: Record<string, Response>;
}

describe('OpenAPI document', () => {
  let h: AppHarness;
  let doc: {
    openapi: string;
    paths: Record<string, Record<string, Operation>>;
    components: { securitySchemes: Record<string, { bearerFormat?: string }>; schemas: Record<string, Schema> };
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
      if (o.security?.length) expect(o.description).toMatch(/`ec2-manager:[a-z-]+(:<\w+>)*`/);
    }
    expect(op('requestSpotInstance').security).toEqual([{ bearer: [] }]);
    expect(op('requestSpotInstance').description).toContain('ec2-manager:manage-resources:<workerType>');
    expect(op('terminateInstance').description).toContain('ec2-manager:manage-instances:<region>:<id>');
    expect(op('sqsStats').description).toContain('ec2-manager:internals');
    expect(op('workerTypeStats').security).toEqual([]);
  });

  it('carries launch examples made from this configuration', () => {
    const examples = launchExamples(h.config);
    const spot = op('requestSpotInstance').requestBody!.content['application/json'].examples!;
    expect(spot.spot.value).toEqual(examples.spot);
    const run = op('runInstance').requestBody!.content['application/json'].examples!;
    expect(run.onDemand.value).toEqual(examples.onDemand);
    expect(run.spot.value).toEqual(examples.spotInstance);
  });

  it('serves Swagger UI at /api, and sends a visitor of / there', async () => {
    const res = await api(h).get('/api').redirects(1).expect(200);
    expect(res.text).toContain('swagger-ui');
    expect((await api(h).get('/').expect(302)).headers.location).toBe('/api');
  });

  it('passes Redocly lint (recommended rules) with no problem, examples included', async () => {
    const config = await createConfig({
      extends: ['recommended'],
      rules: {
        'info-license': 'off',
        // ping, listWorkerTypes and getPrices take no input: they have no 4xx answer to document.
        'operation-4xx-response': 'off',
      },
    });
    const problems = await lintFromString({ source: JSON.stringify(doc), absoluteRef: 'api.json', config });
    expect(problems.map((p) => `${p.ruleId}: ${p.message} at ${p.location[0]?.pointer}`)).toEqual([]);
  });

  it('types every field as the service takes it: InstanceType a string, the validation rules in the schema', () => {
    const spec = doc.components.schemas.LaunchSpecificationDto;
    expect(spec.properties.InstanceType).toMatchObject({ type: 'string', pattern: expect.any(String) });
    expect(spec.properties.ImageId.pattern).toBe('^ami-[0-9a-f]{8,17}$');
    expect(spec.additionalProperties).toBe(false);
    expect(doc.components.schemas.RequestSpotInstanceDto.properties.ClientToken.pattern).toBe('^[a-zA-Z0-9_-]{1,64}$');
    expect(doc.components.schemas.RequestSpotInstanceDto.properties.SpotPrice).toMatchObject({
      minimum: 0,
      not: { enum: [0] },
    });
    expect(doc.components.schemas.EbsDto.properties.VolumeSize).toMatchObject({ type: 'integer', minimum: 1 });
    expect(op('workerTypeStats').parameters![0].schema!.pattern).toBe('^[a-zA-Z0-9_-]{1,64}$');
    expect(doc.components.schemas.ErrorDetailsDto.properties.reasons).toMatchObject({
      type: 'array',
      items: { $ref: '#/components/schemas/ReasonDto' },
    });
    expect(doc.components.schemas.KeyPairDto.required).toEqual(['keyName', 'regions']);
  });

  it('documents each error answer with an example of its own code, and X-Request-Id on every answer', () => {
    const expected: Record<string, string> = {
      '400': 'InputError',
      '401': 'AuthenticationFailed',
      '403': 'InsufficientScopes',
      '404': 'ResourceNotFound',
      '500': 'InternalError',
      '503': 'ServiceUnavailable',
    };
    for (const o of operations()) {
      expect(Object.keys(o.responses)).toEqual(expect.arrayContaining(['500', '503']));
      for (const [status, response] of Object.entries(o.responses)) {
        expect(response.headers).toHaveProperty('X-Request-Id');
        if (expected[status]) expect(response.content!['application/json'].example!.code).toBe(expected[status]);
      }
      // A 400 only where the caller sends a parameter or a body.
      expect('400' in o.responses).toBe(Boolean(o.parameters?.length || o.requestBody));
      expect('401' in o.responses).toBe(Boolean(o.security?.length));
    }
    expect(op('ping').responses).not.toHaveProperty('400');
    expect(op('terminateInstance').responses['403'].content!['application/json'].example).toMatchObject({
      details: { requiredScope: 'ec2-manager:manage-instances:us-east-1:i-0123456789abcdef0' },
    });
  });

  it('calls the bearer token what it is: opaque, not a JWT', () => {
    expect(doc.components.securitySchemes.bearer.bearerFormat).toBeUndefined();
  });

  it("in aws mode, says the example's ImageId is a placeholder to replace", () => {
    const aws = AppConfig.forTest({
      AWS_MODE: 'aws',
      MANAGER_ID: 'prod',
      REGIONS: 'eu-west-1',
      INSTANCE_PUBKEY: h.config.instancePubkey,
    });
    const patched = structuredClone(doc);
    launchExamplesPatch(aws)(patched as unknown as Parameters<ReturnType<typeof launchExamplesPatch>>[0]);
    const spot = patched.paths['/v1/worker-types/{workerType}/spot-request'].put.requestBody!.content[
      'application/json'
    ].examples!.spot as { summary: string; value: { LaunchSpecification: { ImageId: string } } };
    expect(spot.value.LaunchSpecification.ImageId).toBe(PLACEHOLDER_IMAGE_ID);
    expect(spot.summary).toContain(
      `replace ImageId ${PLACEHOLDER_IMAGE_ID}, a placeholder, with an image (AMI) of your account in eu-west-1`,
    );
    expect(launchExamples(h.config).spot.LaunchSpecification.ImageId).not.toBe(PLACEHOLDER_IMAGE_ID);
  });
});
