import { Module } from '@nestjs/common';
import { Ec2Clients } from './ec2-clients.service';
import { Ec2Gateway } from './ec2-gateway.service';
import { Ec2FleetGateway } from './fleet-gateway.service';

/**
 * The EC2 gateway: the only way to EC2 outside the sandbox. Feature modules import this module and ask
 * `Ec2Gateway` for what they want; its clients stay inside.
 */
@Module({ providers: [Ec2Clients, Ec2Gateway, Ec2FleetGateway], exports: [Ec2Gateway, Ec2FleetGateway] })
export class Ec2Module {}
