import * as path from 'node:path';
import { AppConfig } from './config/app-config';

/** Relative data directories are taken from the project root, so `npm start` finds `.data/` from anywhere. */
const PROJECT_ROOT = path.resolve(__dirname, '..');

/**
 * The local data directory (`DATA_DIR`): the embedded Postgres cluster (`postgres/`), the sandbox
 * development token and the running service's address for one-off commands (`service.json`).
 */
export function dataDirOf(config: AppConfig): string {
  return path.resolve(PROJECT_ROOT, config.dataDir);
}
