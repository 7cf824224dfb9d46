import { INestApplication } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { Test } from '@nestjs/testing';
import { Client } from 'pg';
import request from 'supertest';
import { AppModule } from '../../src/app.module';
import { AppConfig } from '../../src/config/app-config';
import { configureApp, HTTP_APP_OPTIONS } from '../../src/configure-app';
import { createTestDatabase, TestDatabase } from '../db';

async function startApp(databaseUrl: string): Promise<INestApplication> {
  const config = AppConfig.forTest({ DATABASE_URL: databaseUrl, RUN_MIGRATIONS: false });
  const module = await Test.createTestingModule({ imports: [AppModule.forRoot(config)] }).compile();
  const app = configureApp(
    module.createNestApplication<NestExpressApplication>({ ...HTTP_APP_OPTIONS, logger: false }),
  );
  await app.init();
  return app;
}

describe('health probes', () => {
  let db: TestDatabase;
  let app: INestApplication;

  beforeAll(async () => {
    db = await createTestDatabase();
    app = await startApp(db.url);
  });
  afterAll(async () => {
    await app.close();
    await db.drop();
  });

  it('live answers 200', async () => {
    await request(app.getHttpServer())
      .get('/health/live')
      .expect(200, { status: 'ok', info: {}, error: {}, details: {} });
  });

  it('ready answers 200 when the database answers and every migration is applied', async () => {
    const res = await request(app.getHttpServer()).get('/health/ready').expect(200);
    expect(res.body.info).toEqual({ database: { status: 'up' }, migrations: { status: 'up' } });
  });

  it('ready answers 503 naming the migrations check while one is pending; live stays 200', async () => {
    const admin = new Client(db.url);
    await admin.connect();
    try {
      await admin.query(
        `UPDATE migrations SET name = 'renamed', timestamp = 1 WHERE id = (SELECT max(id) FROM migrations)`,
      );
      const res = await request(app.getHttpServer()).get('/health/ready').expect(503);
      expect(res.body.error).toEqual({ migrations: { status: 'down', message: 'migrations are pending' } });
      await request(app.getHttpServer()).get('/health/live').expect(200);
    } finally {
      await admin.query(`DELETE FROM migrations WHERE name = 'renamed'`);
      await admin.end();
    }
  });
});

describe('health probes without a database', () => {
  it('live answers 200 and ready 503 naming the database when Postgres is gone', async () => {
    const db = await createTestDatabase();
    const app = await startApp(db.url);
    try {
      await db.drop();
      await request(app.getHttpServer()).get('/health/live').expect(200);
      const res = await request(app.getHttpServer()).get('/health/ready');
      expect(res.status).toBe(503);
      expect(res.body.error.database.status).toBe('down');
    } finally {
      await app.close();
    }
  });
});
