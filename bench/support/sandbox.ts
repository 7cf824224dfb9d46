import * as path from 'node:path';
import type { SandboxEndpoints } from '../../src/sandbox';
import { compiledService } from '../../test/support/compiled-service';
import { ServiceProcess, spawnService } from '../../test/support/service-process';

export interface SpawnedSandbox {
  child: ServiceProcess;
  endpoints: Pick<SandboxEndpoints, 'ec2' | 'events' | 'sqs' | 'control'>;
  /** POSTs `body` to a control route (`/instances`, `/clock`, `/events/flush` ...) and returns its JSON answer. */
  control<T = unknown>(route: string, body?: unknown): Promise<T>;
  stop(): Promise<void>;
}

/**
 * The sandbox (simulated EC2 + EventBridge + SQS emulator) in its own process, as production has AWS:
 * `npm run sandbox`'s script, compiled (src/cli/sandbox.ts), on free ports. The child stops when this
 * process goes (its IPC channel closes). `args` are the CLI's flags, e.g. `['--clock-speed', '0']`.
 */
export async function spawnSandbox(regions: string[], args: string[] = []): Promise<SpawnedSandbox> {
  const script = path.join(path.dirname(compiledService()), 'cli', 'sandbox.js');
  const child = spawnService(
    [script, '--port', '0', '--sqs-port', '0', '--ec2-port', '0', '--regions', regions.join(','), ...args],
    {},
  );
  let output = '';
  let errors = '';
  child.stderr.on('data', (chunk: Buffer) => (errors = (errors + chunk.toString()).slice(-4000)));
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const endpoints = await new Promise<SpawnedSandbox['endpoints']>((resolve, reject) => {
    const endpoint = (name: string) => new RegExp(`sandbox ${name} endpoint:\\s+(\\S+)`).exec(output)?.[1];
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (!output.includes('sandbox ready')) return;
      const control = /sandbox control API:\s+(\S+?)\/?\n/.exec(output)?.[1];
      resolve({ ec2: endpoint('EC2')!, events: endpoint('EventBridge')!, sqs: endpoint('SQS')!, control: control! });
    });
    void exited.then((code) => reject(new Error(`the sandbox exited (${code}) before it was ready:\n${errors}`)));
  });
  const control = async <T>(route: string, body: unknown = {}): Promise<T> => {
    const res = await fetch(`${endpoints.control}${route}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`sandbox ${route}: ${res.status} ${text}`);
    return JSON.parse(text) as T;
  };
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  };
  return { child, endpoints, control, stop };
}
