import { Module } from '@nestjs/common';
import { StateModule } from '../state/state.module';
import { ReceiveGates } from './receive-gates.service';

/** Shared by the consumers' options (SqsModule's factory) and their event handlers. */
@Module({ imports: [StateModule], providers: [ReceiveGates], exports: [ReceiveGates] })
export class ReceiveGatesModule {}
