import { DynamicModule, Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { StateModule } from '../state/state.module';
import { HealthController } from './health.controller';

/**
 * Kubernetes probes (SPEC §9). `checks`: the modules whose readiness checks the probe runs (a feature
 * offers one under its token, see common/readiness.ts); given by the application's root, so that health
 * imports no feature.
 */
@Module({})
export class HealthModule {
  static register(checks: DynamicModule[] = []): DynamicModule {
    return {
      module: HealthModule,
      imports: [TerminusModule.forRoot({ errorLogStyle: 'json' }), StateModule, ...checks],
      controllers: [HealthController],
    };
  }
}
