import { Module } from '@nestjs/common';
import { Ec2Module } from '../ec2/ec2.module';
import { StateModule } from '../state/state.module';
import { PriceCache } from './price-cache.service';
import { PriceSync } from './price-sync.service';
import { PricingPoller } from './pricing-poller.service';

/** Spot prices (SPEC §7): the cache the API reads, and the poller that fills it (its `@Job`). */
@Module({
  imports: [StateModule, Ec2Module],
  providers: [PriceCache, PriceSync, PricingPoller],
  exports: [PriceCache, PriceSync, PricingPoller],
})
export class PricingModule {}
