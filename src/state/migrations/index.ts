import { CreateStateTables1764000000000 } from './1764000000000-CreateStateTables';

/** Every migration, in order. A merged migration is never edited: add a new one. */
export const MIGRATIONS = [CreateStateTables1764000000000];
