import { Global, Module } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import type { DestinationStream } from 'pino';
import { AppConfig } from '../config/app-config';
import { pinoHttpOptions } from './logging';

/**
 * Where the service's log lines go: stdout, unless a stream is provided here (the tests read the JSON
 * lines a run produces this way). A provided stream always gets JSON lines.
 */
export const LOG_DESTINATION = Symbol('LOG_DESTINATION');

@Global()
@Module({ providers: [{ provide: LOG_DESTINATION, useValue: null }], exports: [LOG_DESTINATION] })
class LogDestinationModule {}

@Module({
  imports: [
    LoggerModule.forRootAsync({
      imports: [LogDestinationModule],
      inject: [AppConfig, LOG_DESTINATION],
      useFactory: (config: AppConfig, destination: DestinationStream | null) => {
        if (!destination) return { pinoHttp: pinoHttpOptions(config) };
        return { pinoHttp: [pinoHttpOptions(config.withLogFormat('json')), destination] };
      },
    }),
  ],
})
export class LoggingModule {}
