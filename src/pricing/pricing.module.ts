import { Module } from '@nestjs/common';
import { PriceCache } from './price-cache.service';

/** Spot prices (SPEC §7): the cache the API reads; the poller that fills it lives beside it. */
@Module({ providers: [PriceCache], exports: [PriceCache] })
export class PricingModule {}
