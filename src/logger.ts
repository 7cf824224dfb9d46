import { ConsoleLogger, LogLevel } from '@nestjs/common';
import { AppConfig } from './config/app-config';

const LEVELS: Record<string, LogLevel[]> = {
  fatal: ['fatal'],
  error: ['fatal', 'error'],
  warn: ['fatal', 'error', 'warn'],
  info: ['fatal', 'error', 'warn', 'log'],
  debug: ['fatal', 'error', 'warn', 'log', 'debug'],
  trace: ['fatal', 'error', 'warn', 'log', 'debug', 'verbose'],
};

export function createLogger(config: AppConfig): ConsoleLogger {
  return new ConsoleLogger({ json: config.logFormat === 'json', logLevels: LEVELS[config.logLevel] ?? LEVELS.info });
}
