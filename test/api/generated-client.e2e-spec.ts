import * as fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import ts from 'typescript';
import { requireEsm } from '../../src/common/esm';
import { AppHarness } from '../app-harness';
import { api, createApiHarness, TOKENS } from './support';

// Its dependencies are ESM-only, which jest's own loader cannot follow (see requireEsm).
const { default: openapiTS, astToString } = requireEsm<typeof import('openapi-typescript')>(
  'openapi-typescript',
  'dist/index.mjs',
);

/** Git-ignored: the generated types and the program using them, remade by every run. */
const DIR = path.resolve(__dirname, '..', '.generated', `client-${process.pid}`);

/** What a provisioner author writes against the generated types (openapi-typescript + openapi-fetch). */
const PROGRAM = `
import createClient from 'openapi-fetch';
import type { paths } from './api';

export async function run(baseUrl: string, token: string): Promise<{ workerTypes: string[]; keyName: string; pending: number }> {
  const client = createClient<paths>({ baseUrl, headers: { Authorization: \`Bearer \${token}\` } });
  const ping = await client.GET('/v1/ping');
  if (ping.data?.alive !== true) throw new Error('ping');
  const path = { workerType: 'builder' };
  const key = await client.GET('/v1/worker-types/{workerType}/key-pair', { params: { path } });
  if (!key.data) throw new Error(\`ensureKeyPair: \${key.response.status}\`);
  const keyName: string = key.data.keyName;
  const launched = await client.PUT('/v1/worker-types/{workerType}/spot-request', {
    params: { path },
    body: {
      ClientToken: 'generated-client-0001',
      Region: 'us-east-1',
      SpotPrice: 0.5,
      LaunchSpecification: { ImageId: 'ami-0123456789abcdef0', InstanceType: 'm5.large', KeyName: keyName },
    },
  });
  if (launched.response.status !== 204) throw new Error(\`requestSpotInstance: \${JSON.stringify(launched.error)}\`);
  const list = await client.GET('/v1/worker-types');
  const stats = await client.GET('/v1/worker-types/{workerType}/stats', { params: { path } });
  if (!list.data || !stats.data) throw new Error('reads');
  const pending: number = stats.data.pending.reduce((n, e) => n + e.count, 0);
  return { workerTypes: list.data, keyName, pending };
}
`;

/** The same call with a value the schema refuses: must not compile. */
const WRONG = `
import createClient from 'openapi-fetch';
import type { paths } from './api';
export const call = () =>
  createClient<paths>({ baseUrl: '' }).PUT('/v1/worker-types/{workerType}/spot-request', {
    params: { path: { workerType: 'builder' } },
    body: { ClientToken: 't', Region: 'us-east-1', SpotPrice: 0.5, LaunchSpecification: { ImageId: 'ami-0123456789abcdef0', InstanceType: 42, KeyName: 'k' } },
  });
`;

function typeErrors(file: string): string[] {
  const program = ts.createProgram([file], {
    strict: true,
    noEmit: true,
    module: ts.ModuleKind.Node16,
    moduleResolution: ts.ModuleResolutionKind.Node16,
    target: ts.ScriptTarget.ES2022,
    lib: ['lib.es2023.d.ts', 'lib.dom.d.ts'],
    types: [],
    skipLibCheck: true,
  });
  return ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
}

describe('a TypeScript client generated from /api-json', () => {
  let h: AppHarness;
  let baseUrl: string;
  beforeAll(async () => {
    h = await createApiHarness();
    await h.app.listen(0, '127.0.0.1');
    baseUrl = `http://127.0.0.1:${(h.app.getHttpServer().address() as AddressInfo).port}`;
    const doc = (await api(h).get('/api-json').expect(200)).body;
    fs.mkdirSync(DIR, { recursive: true });
    fs.writeFileSync(path.join(DIR, 'api.ts'), astToString(await openapiTS(doc)));
    fs.writeFileSync(path.join(DIR, 'program.ts'), PROGRAM);
    fs.writeFileSync(path.join(DIR, 'wrong.ts'), WRONG);
  });
  afterAll(async () => {
    await h.close();
    fs.rmSync(DIR, { recursive: true, force: true });
  });

  it('type-checks a program calling ping, ensureKeyPair, requestSpotInstance, listWorkerTypes and workerTypeStats', () => {
    expect(typeErrors(path.join(DIR, 'program.ts'))).toEqual([]);
  });

  it('refuses at compile time what the service would refuse (InstanceType is a string)', () => {
    expect(typeErrors(path.join(DIR, 'wrong.ts')).join('\n')).toMatch(/number.*not assignable to type 'string'/s);
  });

  it('runs that program against the service', async () => {
    const program = (await import(path.join(DIR, 'program.ts'))) as {
      run(baseUrl: string, token: string): Promise<{ workerTypes: string[]; keyName: string; pending: number }>;
    };
    const result = await program.run(baseUrl, TOKENS.admin);
    expect(result).toEqual({
      workerTypes: ['builder'],
      keyName: expect.stringMatching(/:builder:[0-9a-f]{7}$/),
      pending: 1,
    });
  });
});
