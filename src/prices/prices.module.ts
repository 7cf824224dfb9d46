import { Module } from '@nestjs/common';
import { StateModule } from '../state/state.module';
import { PriceCache } from './price-cache.service';
import { PriceSync } from './price-sync.service';

/**
 * The spot prices and capacity cooldowns every replica answers from (SPEC §7): a cache kept in step
 * with what the pricing job stored in Postgres. Below the features: the API reads it, the pricing job refreshes it.
 */
@Module({
  imports: [StateModule],
  providers: [PriceCache, PriceSync],
  exports: [PriceCache, PriceSync],
})
export class PricesModule {}
