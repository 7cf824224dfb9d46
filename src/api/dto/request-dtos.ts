import { WorkerTypePolicyBodyDto } from '../fleet/policy.dto';
import {
  CreditSpecificationDto,
  FleetCandidateDto,
  FleetLaunchSpecificationDto,
  LaunchFleetDto,
  MetadataOptionsDto,
} from '../fleet/fleet.dto';
import { PriceRestrictionsDto, RestrictionDto } from './prices.dto';
import {
  BlockDeviceMappingDto,
  EbsDto,
  GroupIdentifierDto,
  IamInstanceProfileDto,
  LaunchSpecificationDto,
  MonitoringDto,
  NetworkInterfaceDto,
  PlacementDto,
  RequestSpotInstanceDto,
  RunInstanceDto,
} from './launch.dto';

/** Every class a request body is validated against: their rules go into the OpenAPI document as well. */
export const REQUEST_DTOS = [
  RequestSpotInstanceDto,
  RunInstanceDto,
  LaunchSpecificationDto,
  EbsDto,
  BlockDeviceMappingDto,
  IamInstanceProfileDto,
  MonitoringDto,
  GroupIdentifierDto,
  NetworkInterfaceDto,
  PlacementDto,
  RestrictionDto,
  PriceRestrictionsDto,
  WorkerTypePolicyBodyDto,
  LaunchFleetDto,
  FleetCandidateDto,
  FleetLaunchSpecificationDto,
  MetadataOptionsDto,
  CreditSpecificationDto,
] as const;
