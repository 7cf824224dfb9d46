import { Module } from '@nestjs/common';
import { AwsModule } from '../aws/aws.module';
import { SetupService } from './setup.service';

/** The setup command (SPEC §9): queues, rules and the queue policy events need, in every region. */
@Module({ imports: [AwsModule], providers: [SetupService], exports: [SetupService] })
export class SetupModule {}
