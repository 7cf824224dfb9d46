import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import pino, { Logger as PinoLogger, LoggerOptions } from 'pino';
import type { Options as PinoHttpOptions } from 'pino-http';
import { AppConfig } from '../config/app-config';

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Base pino settings: JSON lines in production, pretty lines for people in development. */
export function pinoOptions(config: AppConfig): LoggerOptions {
  return {
    level: config.logLevel,
    base: { service: 'ec2-manager', managerId: config.managerId },
    redact: {
      paths: ['req.headers.authorization', 'req.headers.cookie', '*.token', '*.tokenSha256'],
      censor: '[redacted]',
    },
    ...(config.logFormat === 'pretty'
      ? {
          transport: {
            target: 'pino-pretty',
            options: { singleLine: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname,service,managerId' },
          },
        }
      : { timestamp: pino.stdTimeFunctions.isoTime, formatters: { level: (label: string) => ({ level: label }) } }),
  };
}

/**
 * Per-request logging: every line of a request carries its id (a caller's `X-Request-Id` when it is
 * sane, else a new UUID), echoed back in the response; probes and scrapes are not logged.
 */
export function pinoHttpOptions(config: AppConfig): PinoHttpOptions {
  return {
    ...pinoOptions(config),
    genReqId: (req: IncomingMessage, res: ServerResponse) => {
      const given = req.headers['x-request-id'];
      const id = typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
      res.setHeader('X-Request-Id', id);
      return id;
    },
    customProps: (req) => ({ requestId: (req as IncomingMessage & { id?: string }).id }),
    autoLogging: { ignore: (req) => /^\/(health|metrics)(\/|$)/.test(req.url ?? '') },
    serializers: {
      req: (req: { method: string; url: string }) => ({ method: req.method, url: req.url }),
      res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
    },
  };
}

/** A logger for before the Nest application exists (database and sandbox start-up, CLI commands). */
export function createBootLogger(config: AppConfig): PinoLogger {
  return pino(pinoOptions(config));
}
