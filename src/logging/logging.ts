import type { LoggerService } from '@nestjs/common';
import pino, { Logger as PinoLogger, LoggerOptions } from 'pino';
import type { Options as PinoHttpOptions } from 'pino-http';
import { assignRequestId, requestIdOf } from '../common/request-id';
import { AppConfig } from '../config/app-config';
import { serializeError } from './serialize-error';

/** Base pino settings: JSON lines in production, pretty lines for people in development. */
export function pinoOptions(config: AppConfig): LoggerOptions {
  return {
    level: config.logLevel,
    base: { service: 'ec2-manager', managerId: config.managerId },
    redact: {
      paths: ['req.headers.authorization', 'req.headers.cookie', '*.token', '*.tokenSha256'],
      censor: '[redacted]',
    },
    // Every logger of the service (requests, boot, commands) shows an error the same way.
    serializers: { err: serializeError },
    ...(config.logFormat === 'pretty'
      ? {
          transport: {
            target: 'pino-pretty',
            options: {
              singleLine: true,
              translateTime: 'SYS:HH:MM:ss.l',
              ignore: 'pid,hostname,service,managerId',
              // Only `err` holds an error; a field such as an outcome's `error: null` is data, on the line.
              errorLikeObjectKeys: ['err'],
            },
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
    genReqId: assignRequestId,
    customProps: (req) => ({ requestId: requestIdOf(req) }),
    autoLogging: { ignore: (req) => /^\/(health|metrics)(\/|$)/.test(req.url ?? '') },
    customLogLevel: (_req, res, err) =>
      err || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info',
    // For a 5xx pino-http makes up an Error just to say "failed with status code": it says nothing the
    // status does not, so it is left out. The error filter logs the real error on its own line.
    customErrorMessage: (_req, res) => `request failed with status ${res.statusCode}`,
    customErrorObject: (_req, _res, err, line: Record<string, unknown>) => {
      if (!isMadeUp(err)) return line;
      const { err: _madeUp, ...rest } = line;
      return rest;
    },
    serializers: {
      err: serializeError,
      req: (req: { method: string; url: string }) => ({ method: req.method, url: req.url }),
      res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
    },
  };
}

/** pino-http's stand-in for a 5xx that threw nothing it could see. */
function isMadeUp(err: Error): boolean {
  return /^failed with status code \d+$/.test(err.message);
}

/** A logger for before the Nest application exists (database and sandbox start-up, CLI commands). */
export function createBootLogger(config: AppConfig): PinoLogger {
  return pino(pinoOptions(config));
}

/**
 * Nest's `Logger` over a pino logger, for commands that log through Nest without an application
 * (`npm run setup`): the same JSON lines in production as the service writes.
 */
export function nestLoggerOver(logger: PinoLogger): LoggerService {
  const write =
    (level: 'info' | 'error' | 'warn' | 'debug' | 'trace' | 'fatal') =>
    (message: unknown, ...rest: unknown[]): void => {
      const last = rest[rest.length - 1];
      const context = typeof last === 'string' ? last : undefined;
      if (message instanceof Error) {
        logger[level]({ context, err: message }, message.message);
      } else if (typeof message === 'object' && message !== null) {
        logger[level]({ context, ...(message as Record<string, unknown>) });
      } else {
        logger[level]({ context }, String(message));
      }
    };
  return {
    log: write('info'),
    error: write('error'),
    warn: write('warn'),
    debug: write('debug'),
    verbose: write('trace'),
    fatal: write('fatal'),
  };
}
