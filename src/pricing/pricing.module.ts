import { Module } from '@nestjs/common';
import { Ec2Module } from '../ec2/ec2.module';
import { PricesModule } from '../prices/prices.module';
import { StateModule } from '../state/state.module';
import { PricingPoller } from './pricing-poller.service';

/** The pricing job (SPEC §7): polls EC2's spot price history into Postgres, where every replica's PriceSync finds it. */
@Module({
  imports: [StateModule, Ec2Module, PricesModule],
  providers: [PricingPoller],
  exports: [PricingPoller],
})
export class PricingModule {}
