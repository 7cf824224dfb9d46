import { Module } from '@nestjs/common';
import { Ec2Module } from '../ec2/ec2.module';
import { StateModule } from '../state/state.module';
import { PriceCache } from './price-cache.service';
import { PriceSync } from './price-sync.service';
import { PricingPoller } from './pricing-poller.service';
import { PricingJob } from './pricing.job';

/** Spot prices (SPEC §7): the cache the API reads, the poller that fills it and the job that runs it. */
@Module({
  imports: [StateModule, Ec2Module],
  providers: [PriceCache, PriceSync, PricingPoller, PricingJob],
  exports: [PriceCache, PriceSync, PricingPoller, PricingJob],
})
export class PricingModule {}
