import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { AppConfig } from './config/app-config';
import { dataDirOf } from './data-dir';

/** A running service of this data directory, as one-off commands (`npm run job`) find it. */
export interface RunningService {
  pid: number;
  /** Where its API answers on this machine. */
  url: string;
}

const FILE = 'service.json';

function fileOf(config: AppConfig): string {
  return path.join(dataDirOf(config), FILE);
}

/**
 * Written once the API listens, by a service that holds the data directory's embedded Postgres or runs
 * the sandbox in its process: a second process cannot start those again, so it asks this one instead.
 */
export async function writeServiceFile(config: AppConfig, service: RunningService): Promise<void> {
  await fs.mkdir(dataDirOf(config), { recursive: true });
  await fs.writeFile(fileOf(config), `${JSON.stringify(service)}\n`, { mode: 0o600 });
}

/** Removes the file if it is this process's. */
export async function removeServiceFile(config: AppConfig): Promise<void> {
  const running = await findRunningService(config);
  if (running?.pid === process.pid) await fs.rm(fileOf(config), { force: true });
}

/** The service running on this data directory, or null (no file, or its process is gone). */
export async function findRunningService(config: AppConfig): Promise<RunningService | null> {
  let service: RunningService;
  try {
    service = JSON.parse(await fs.readFile(fileOf(config), 'utf8')) as RunningService;
  } catch {
    return null;
  }
  if (typeof service.pid !== 'number' || typeof service.url !== 'string') return null;
  try {
    process.kill(service.pid, 0);
  } catch (err) {
    // EPERM: alive, under another user.
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return null;
  }
  return service;
}
