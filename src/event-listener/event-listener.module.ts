import { DynamicModule, Module, Provider } from '@nestjs/common';
import { SqsModule } from '@ssut/nestjs-sqs';
import { AwsClients } from '../aws/aws-clients.service';
import { AwsModule } from '../aws/aws.module';
import { QUEUE_READINESS } from '../common/readiness';
import { AppConfig } from '../config/app-config';
import { ResourcesModule } from '../resources/resources.module';
import { SetupModule } from '../setup/setup.module';
import { SetupService } from '../setup/setup.service';
import { DatabaseStatusService } from '../state/database-status.service';
import { StateModule } from '../state/state.module';
import { ConsumerDrain } from './consumer-drain.service';
import { EventBatchProcessor } from './event-batch.processor';
import { EventCounters } from './event-counters.service';
import { EventHandlerService } from './event-handler.service';
import { QueueHealth } from './queue-health.service';
import { regionConsumers } from './region-consumer.handler';
import { ReceiveGates } from './receive-gates.service';
import { ReceiveGatesModule } from './receive-gates.module';
import { sqsConsumersOptions } from './sqs-consumers.options';

/**
 * Consumes EC2 events from each region's queue and its dead-letter queue into state (SPEC §4). Where this
 * replica consumes, it offers readiness the queues' health under QUEUE_READINESS (the root hands this
 * module to HealthModule.register).
 */
@Module({})
export class EventListenerModule {
  static register(config: AppConfig): DynamicModule {
    const base = {
      module: EventListenerModule,
      imports: [StateModule, AwsModule, ResourcesModule],
      providers: [EventCounters, EventHandlerService, EventBatchProcessor] as Provider[],
      exports: [EventCounters, EventHandlerService] as (Provider | symbol)[],
    };
    // A sandbox not started yet is no cloud at all (main.ts always starts it first): nothing to consume.
    if (!config.eventListenerEnabled || config.inProcessSandbox) return base;
    return {
      ...base,
      imports: [
        ...base.imports,
        ReceiveGatesModule,
        SqsModule.registerAsync({
          imports: [StateModule, AwsModule, SetupModule, ReceiveGatesModule],
          inject: [AppConfig, AwsClients, SetupService, DatabaseStatusService, ReceiveGates],
          useFactory: sqsConsumersOptions,
        }),
      ],
      providers: [
        ...base.providers,
        ...config.regions.flatMap((region) => regionConsumers(region, config.sqsConsumersPerQueue)),
        ConsumerDrain,
        QueueHealth,
        { provide: QUEUE_READINESS, useExisting: QueueHealth },
      ],
      exports: [...base.exports, QUEUE_READINESS],
    };
  }
}
