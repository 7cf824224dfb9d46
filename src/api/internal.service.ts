import { Injectable } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { DatabaseStatusService } from '../state/database-status.service';
import { HousekeepingRepository } from '../state/housekeeping.repository';
import { SpotRequestRepository } from '../state/spot-request.repository';
import { UsageRepository } from '../state/usage.repository';
import {
  AmiUsageDto,
  DbPoolStatsDto,
  EbsUsageDto,
  HousekeepingOutcomeDto,
  RegionIdsDto,
  RegionsDto,
  toAmiUsageDto,
  toEbsUsageDto,
  toHousekeepingOutcomeDto,
} from './dto/internal.dto';

/** Operators' views of the service's own state (the queues' are QueuesService's). */
@Injectable()
export class InternalService {
  constructor(
    private readonly config: AppConfig,
    private readonly requests: SpotRequestRepository,
    private readonly usage: UsageRepository,
    private readonly database: DatabaseStatusService,
    private readonly housekeeping: HousekeepingRepository,
  ) {}

  regions(): RegionsDto {
    return { regions: [...this.config.regions] };
  }

  spotRequestsToPoll(): Promise<RegionIdsDto[]> {
    return this.requests.toPoll(this.config.regions);
  }

  async amiUsage(): Promise<AmiUsageDto[]> {
    return (await this.usage.listAmiUsage()).map(toAmiUsageDto);
  }

  async ebsUsage(): Promise<EbsUsageDto[]> {
    return (await this.usage.listEbsUsage()).map(toEbsUsageDto);
  }

  dbPoolStats(): DbPoolStatsDto {
    return this.database.poolStats();
  }

  async lastHousekeeping(): Promise<HousekeepingOutcomeDto[]> {
    return (await this.housekeeping.listOutcomes()).map(toHousekeepingOutcomeDto);
  }
}
