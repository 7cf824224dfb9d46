import { ChildProcess, spawn } from 'node:child_process';
import * as path from 'node:path';
import { Readable } from 'node:stream';

const ROOT = path.resolve(__dirname, '..', '..');

/** Variables of the test process a service child must not inherit: it is configured only by `env`. */
const NOT_INHERITED = /^(DATABASE_URL|TEST_PG_|JEST|FAULTS_)/;

export type ServiceProcess = ChildProcess & { stdout: Readable; stderr: Readable };

/**
 * Starts the service (`node <args>` in the project's root) as a child of this test process, tied to
 * its life: the child gets an IPC channel, and `src/main.ts` shuts the service down when that channel
 * closes. The channel closes when this process exits however it exits (a jest run killed by a timeout
 * or SIGKILL too), so a test run leaves no orphan service behind. stdout and stderr are piped.
 */
export function spawnService(args: string[], env: Record<string, string>): ServiceProcess {
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([k]) => !NOT_INHERITED.test(k)));
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { ...inherited, ...env },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  const { stdout, stderr } = child;
  if (!stdout || !stderr) throw new Error('spawn gave no stdout/stderr pipes');
  return Object.assign(child, { stdout, stderr });
}
