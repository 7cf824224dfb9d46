import { Module } from '@nestjs/common';
import { AwsClients } from './aws-clients.service';

@Module({ providers: [AwsClients], exports: [AwsClients] })
export class AwsModule {}
