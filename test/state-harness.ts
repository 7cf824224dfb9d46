import { Test, TestingModule } from '@nestjs/testing';
import { DataSource } from 'typeorm';
import { AppConfig } from '../src/config/app-config';
import { ConfigModule } from '../src/config/config.module';
import { StateModule } from '../src/state/state.module';
import { createTestDatabase, TestDatabase } from './db';
import { emptyTables } from './support/tables';

export interface StateHarness {
  module: TestingModule;
  db: TestDatabase;
  dataSource: DataSource;
  get<T>(type: new (...args: never[]) => T): T;
  /** Empties every state table (`emptyTables`). */
  truncate(): Promise<void>;
  close(): Promise<void>;
}

/** The real StateModule on this test file's own database. */
export async function createStateHarness(): Promise<StateHarness> {
  const db = await createTestDatabase();
  const module = await Test.createTestingModule({
    imports: [ConfigModule.forRoot(AppConfig.forTest({ DATABASE_URL: db.url, RUN_MIGRATIONS: false })), StateModule],
  }).compile();
  await module.init();
  const dataSource = module.get(DataSource);
  return {
    module,
    db,
    dataSource,
    get: (type) => module.get(type),
    truncate: () => emptyTables(dataSource),
    close: async () => {
      await module.close();
      await db.drop();
    },
  };
}
