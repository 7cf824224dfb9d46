import { Module } from '@nestjs/common';
import { Ec2Module } from '../ec2/ec2.module';
import { PricesModule } from '../prices/prices.module';
import { StateModule } from '../state/state.module';
import { OnDemandPrices } from './on-demand-prices.service';
import { PricingPoller } from './pricing-poller.service';

/**
 * The pricing jobs: spot price history from EC2 (SPEC §7) and on-demand prices from the Price List
 * Query API (SPEC §12), into Postgres, where every replica's PriceSync finds them.
 */
@Module({
  imports: [StateModule, Ec2Module, PricesModule],
  providers: [PricingPoller, OnDemandPrices],
  exports: [PricingPoller, OnDemandPrices],
})
export class PricingModule {}
