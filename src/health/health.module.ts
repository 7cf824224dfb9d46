import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { StateModule } from '../state/state.module';
import { HealthController } from './health.controller';

@Module({
  imports: [TerminusModule.forRoot({ errorLogStyle: 'json' }), StateModule],
  controllers: [HealthController],
})
export class HealthModule {}
