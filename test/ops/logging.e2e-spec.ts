import { Writable } from 'node:stream';
import pino from 'pino';
import pinoHttp from 'pino-http';
import { createServer } from 'node:http';
import request from 'supertest';
import { AppConfig } from '../../src/config/app-config';
import * as Sentry from '@sentry/nestjs';
import { nestLoggerOver, pinoHttpOptions, pinoOptions } from '../../src/logging/logging';
import { AppHarness } from '../app-harness';
import { api, bearer, createApiHarness, TOKENS } from '../api/support';
import { captureSentryEvents } from '../event-listener/support';

/** Runs the service's request logging over a bare HTTP server and captures the JSON lines. */
function capture(config: AppConfig) {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  const { transport: _t, ...options } = pinoHttpOptions(config) as ReturnType<typeof pinoHttpOptions> & {
    transport?: unknown;
  };
  const middleware = pinoHttp({ ...options, logger: pino(options as pino.LoggerOptions, sink) });
  const server = createServer((req, res) => {
    middleware(req, res);
    req.log.info({ region: 'us-east-1', instanceId: 'i-1' }, 'handled');
    res.statusCode = req.url === '/fail' ? 503 : 204;
    res.end();
  });
  return { server, lines };
}

describe('structured logs', () => {
  const json = AppConfig.forTest({ LOG_FORMAT: 'json', LOG_LEVEL: 'info' });

  it('give every line of a request its request id, echo it back, and never log the token', async () => {
    const { server, lines } = capture(json);
    const res = await request(server)
      .get('/v1/ping')
      .set('X-Request-Id', 'req-42')
      .set('Authorization', 'Bearer s3cret');
    expect(res.headers['x-request-id']).toBe('req-42');
    expect(lines.length).toBeGreaterThanOrEqual(2);
    for (const line of lines) expect(line.requestId).toBe('req-42');
    expect(lines.find((l) => l.msg === 'handled')).toMatchObject({
      region: 'us-east-1',
      instanceId: 'i-1',
      level: 'info',
    });
    expect(JSON.stringify(lines)).not.toContain('s3cret');
  });

  it('make up a request id when the caller sends none or a strange one', async () => {
    const { server, lines } = capture(json);
    const res = await request(server).get('/v1/ping').set('X-Request-Id', 'bad id with spaces');
    expect(res.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(lines[0].requestId).toBe(res.headers['x-request-id']);
  });

  it('log a failed request as an error without a made-up stack', async () => {
    const { server, lines } = capture(json);
    await request(server).get('/fail');
    const failed = lines.find((l) => l.msg === 'request failed with status 503');
    expect(failed).toMatchObject({ level: 'error', res: { statusCode: 503 } });
    expect(JSON.stringify(failed)).not.toContain('stack');
  });

  it('do not log probes and scrapes', async () => {
    const { server, lines } = capture(json);
    await request(server).get('/health/live');
    await request(server).get('/metrics');
    expect(lines.filter((l) => l.msg === 'request completed')).toEqual([]);
  });

  it('are JSON with ISO times in production and pretty for people in development', () => {
    expect(pinoOptions(AppConfig.forTest({ NODE_ENV: 'production' }))).not.toHaveProperty('transport');
    expect(pinoOptions(AppConfig.forTest({}))).toHaveProperty('transport.target', 'pino-pretty');
    expect(pinoOptions(AppConfig.forTest({ LOG_LEVEL: 'debug' })).level).toBe('debug');
  });

  it('carry Nest log calls of the commands as the same JSON lines', () => {
    const lines: Record<string, unknown>[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(JSON.parse(chunk.toString()));
        done();
      },
    });
    const options = pinoOptions(json);
    const logger = nestLoggerOver(pino(options, sink));
    logger.log({ msg: 'created queue', region: 'us-east-1', queue: 'ec2-events' }, 'SetupService');
    logger.warn('left alone: not ours', 'SetupService');
    logger.error(new Error('boom'), 'SetupService');
    expect(lines).toEqual([
      expect.objectContaining({ level: 'info', context: 'SetupService', msg: 'created queue', region: 'us-east-1' }),
      expect.objectContaining({ level: 'warn', context: 'SetupService', msg: 'left alone: not ours' }),
      expect.objectContaining({
        level: 'error',
        context: 'SetupService',
        msg: 'boom',
        err: expect.objectContaining({ name: 'Error', message: 'boom' }),
      }),
    ]);
  });
});

describe('error lines of the service', () => {
  let h: AppHarness;
  const sentry = captureSentryEvents();
  beforeAll(async () => {
    h = await createApiHarness({ env: { AWS_MAX_ATTEMPTS: 2 } });
  });
  afterAll(() => h.close());
  beforeEach(() => (sentry.length = 0));

  it("keep the caller's request id on a 500's line and name the error; Sentry hears of the cause once", async () => {
    const mark = h.logs.mark();
    await h.dataSource.query('ALTER TABLE instances RENAME TO instances_away');
    const ids: string[] = [];
    try {
      for (let i = 0; i < 3; i++) {
        const res = await api(h).get('/v1/worker-types').set('X-Request-Id', `caller-${i}`).expect(500);
        ids.push(res.body.requestId);
      }
    } finally {
      await h.dataSource.query('ALTER TABLE instances_away RENAME TO instances');
    }
    expect(ids).toEqual(['caller-0', 'caller-1', 'caller-2']);
    const lines = h.logs.find('unhandled error', mark);
    expect(lines.map((l) => l.requestId)).toEqual(ids);
    expect(lines[0]).toMatchObject({
      level: 'error',
      context: 'ErrorFilter',
      path: '/v1/worker-types',
      err: { name: 'QueryFailedError', code: '42P01', message: expect.stringContaining('instances') },
    });
    // The access line of a 500 carries no made-up error; the line above explains it.
    const access = h.logs.find('request failed with status 500', mark);
    expect(access).toHaveLength(3);
    for (const line of access) expect(line).not.toHaveProperty('err');
    await Sentry.flush(1000);
    expect(sentry).toHaveLength(1);
  });

  it("put AWS's request id under err.awsRequestId, never over the line's requestId", async () => {
    const mark = h.logs.mark();
    h.sandbox.control.setFaults({ throttle: { fraction: 1, actions: ['DescribeKeyPairs'] } });
    try {
      await api(h).get('/v1/worker-types/builder/key-pair').set(bearer(TOKENS.admin)).set('X-Request-Id', 'mine-1');
    } finally {
      h.sandbox.control.clearFaults();
    }
    const [line] = h.logs.find('AWS unavailable after retries', mark);
    expect(line).toMatchObject({
      requestId: 'mine-1',
      err: {
        name: 'RequestLimitExceeded',
        code: 'RequestLimitExceeded',
        region: expect.any(String),
        operation: 'DescribeKeyPairs',
        awsRequestId: expect.any(String),
      },
    });
    expect(line.err!.awsRequestId).not.toBe('mine-1');
  });

  it('name the cause of a failed job run, and never write an empty err', async () => {
    const mark = h.logs.mark();
    await h.dataSource.query('ALTER TABLE spot_requests RENAME TO spot_requests_away');
    try {
      expect(await h.job('spot-poll').tick(true)).toBe('failed');
    } finally {
      await h.dataSource.query('ALTER TABLE spot_requests_away RENAME TO spot_requests');
    }
    const [line] = h.logs.find('spot-poll failed', mark);
    expect(line.err).toMatchObject({ name: expect.any(String), message: expect.stringMatching(/spot_requests/) });
    for (const l of h.logs.lines) {
      if (l.err === undefined) continue;
      expect(l.err).toEqual(expect.objectContaining({ name: expect.any(String), message: expect.any(String) }));
    }
  });
});
