import type { LoggerService } from '@nestjs/common';
import pino, { Logger as PinoLogger, LoggerOptions } from 'pino';
import type { Options as PinoHttpOptions } from 'pino-http';
import { assignRequestId, requestIdOf } from '../common/request-id';
import { AppConfig } from '../config/app-config';

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
    genReqId: assignRequestId,
    customProps: (req) => ({ requestId: requestIdOf(req) }),
    autoLogging: { ignore: (req) => /^\/(health|metrics)(\/|$)/.test(req.url ?? '') },
    customLogLevel: (_req, res, err) =>
      err || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info',
    // For a 5xx pino-http makes up an Error just to say "failed with status code"; its stack says nothing.
    // The error filter logs the real error, with its stack, on its own line.
    customErrorMessage: (_req, res) => `request failed with status ${res.statusCode}`,
    serializers: {
      err: (err: Error) => ({ type: err.name, message: err.message }),
      req: (req: { method: string; url: string }) => ({ method: req.method, url: req.url }),
      res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
    },
  };
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
      if (typeof message === 'object' && message !== null && !(message instanceof Error)) {
        logger[level]({ context, ...(message as Record<string, unknown>) });
      } else {
        logger[level]({ context }, message instanceof Error ? message.message : String(message));
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
