import type { _InstanceType, Tenancy, VolumeType } from '@aws-sdk/client-ec2';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsBase64,
  IsBoolean,
  IsDefined,
  IsIn,
  IsInt,
  IsNumber,
  IsObject,
  IsPositive,
  IsString,
  Length,
  Matches,
  Max,
  MaxLength,
  Min,
  ValidateNested,
} from 'class-validator';
import { IsOmittable } from './omittable';

/** The keys a launch specification must have (SPEC §8). */
export const MANDATORY_LAUNCH_KEYS = ['ImageId', 'InstanceType', 'KeyName'] as const;
/** Every key a launch specification may have (SPEC §8). */
export const ALLOWED_LAUNCH_KEYS = [
  ...MANDATORY_LAUNCH_KEYS,
  'SecurityGroups',
  'SecurityGroupIds',
  'AddressingType',
  'BlockDeviceMappings',
  'EbsOptimized',
  'IamInstanceProfile',
  'KernelId',
  'Monitoring',
  'NetworkInterfaces',
  'Placement',
  'RamdiskId',
  'SubnetId',
  'UserData',
] as const;

const ID = (prefix: string) => new RegExp(`^${prefix}-[0-9a-f]{8,17}$`);
const INSTANCE_TYPE = /^[a-z0-9-]+\.[a-z0-9-]+$/;
const mandatory = { message: (a: { property: string }) => `${a.property} is mandatory` };

export class EbsDto {
  @ApiPropertyOptional({ example: 50 }) @IsOmittable() @IsInt() @Min(1) @Max(65536) VolumeSize?: number;
  @ApiPropertyOptional({ enum: ['standard', 'gp2', 'gp3', 'io1', 'io2', 'st1', 'sc1'], example: 'gp3' })
  @IsOmittable()
  @IsIn(['standard', 'gp2', 'gp3', 'io1', 'io2', 'st1', 'sc1'])
  VolumeType?: VolumeType;
  @ApiPropertyOptional() @IsOmittable() @IsBoolean() DeleteOnTermination?: boolean;
  @ApiPropertyOptional() @IsOmittable() @IsInt() @Min(100) Iops?: number;
  @ApiPropertyOptional() @IsOmittable() @IsInt() @Min(125) Throughput?: number;
  @ApiPropertyOptional() @IsOmittable() @IsBoolean() Encrypted?: boolean;
  @ApiPropertyOptional() @IsOmittable() @IsString() @MaxLength(2048) KmsKeyId?: string;
  @ApiPropertyOptional() @IsOmittable() @Matches(ID('snap')) SnapshotId?: string;
}

export class BlockDeviceMappingDto {
  @ApiProperty({ example: '/dev/xvda' }) @IsString() @Length(1, 64) DeviceName!: string;
  @ApiPropertyOptional({ type: EbsDto }) @IsOmittable() @IsObject() @ValidateNested() @Type(() => EbsDto) Ebs?: EbsDto;
  @ApiPropertyOptional() @IsOmittable() @IsString() @MaxLength(64) NoDevice?: string;
  @ApiPropertyOptional({ example: 'ephemeral0' }) @IsOmittable() @IsString() @MaxLength(64) VirtualName?: string;
}

export class IamInstanceProfileDto {
  @ApiPropertyOptional() @IsOmittable() @IsString() @MaxLength(2048) Arn?: string;
  @ApiPropertyOptional() @IsOmittable() @IsString() @MaxLength(128) Name?: string;
}

export class MonitoringDto {
  @ApiProperty() @IsBoolean() Enabled!: boolean;
}

export class GroupIdentifierDto {
  @ApiPropertyOptional() @IsOmittable() @Matches(ID('sg')) GroupId?: string;
  @ApiPropertyOptional() @IsOmittable() @IsString() @MaxLength(255) GroupName?: string;
}

export class NetworkInterfaceDto {
  @ApiPropertyOptional() @IsOmittable() @IsInt() @Min(0) @Max(31) DeviceIndex?: number;
  @ApiPropertyOptional() @IsOmittable() @Matches(ID('eni')) NetworkInterfaceId?: string;
  @ApiPropertyOptional() @IsOmittable() @Matches(ID('subnet')) SubnetId?: string;
  @ApiPropertyOptional({ type: [String] })
  @IsOmittable()
  @IsArray()
  @ArrayMaxSize(16)
  @Matches(ID('sg'), { each: true })
  Groups?: string[];
  @ApiPropertyOptional() @IsOmittable() @IsBoolean() AssociatePublicIpAddress?: boolean;
  @ApiPropertyOptional() @IsOmittable() @IsBoolean() DeleteOnTermination?: boolean;
  @ApiPropertyOptional() @IsOmittable() @IsString() @MaxLength(255) Description?: string;
  @ApiPropertyOptional() @IsOmittable() @IsString() @MaxLength(64) PrivateIpAddress?: string;
  @ApiPropertyOptional() @IsOmittable() @IsInt() @Min(0) @Max(64) SecondaryPrivateIpAddressCount?: number;
  @ApiPropertyOptional() @IsOmittable() @IsInt() @Min(0) @Max(64) Ipv6AddressCount?: number;
}

export class PlacementDto {
  @ApiPropertyOptional({ example: 'us-east-1a', description: 'Must be a zone of the request’s Region' })
  @IsOmittable()
  @IsString()
  @Length(1, 64)
  AvailabilityZone?: string;
  @ApiPropertyOptional() @IsOmittable() @IsString() @MaxLength(255) GroupName?: string;
  @ApiPropertyOptional({ enum: ['default', 'dedicated', 'host'] })
  @IsOmittable()
  @IsIn(['default', 'dedicated', 'host'])
  Tenancy?: Tenancy;
}

/**
 * What to launch: EC2's own field names, limited to the keys of SPEC §8. `KeyName` must be the key
 * pair this service made for the worker type (see `ensureKeyPair`).
 */
export class LaunchSpecificationDto {
  @ApiProperty({ example: 'ami-0123456789abcdef0' })
  @IsDefined(mandatory)
  @Matches(ID('ami'), { message: 'ImageId must be an image id (ami-...)' })
  ImageId!: string;

  // `_InstanceType` is a type alias: without `type` here the document would say `object`.
  @ApiProperty({ type: String, example: 'm5.large', pattern: INSTANCE_TYPE.source })
  @IsDefined(mandatory)
  @Matches(INSTANCE_TYPE, { message: 'InstanceType must be an instance type such as m5.large' })
  InstanceType!: _InstanceType;

  @ApiProperty({ description: 'The key pair name `<managerId>:<workerType>:<hash>` of this worker type' })
  @IsDefined(mandatory)
  @IsString()
  @Length(1, 255)
  KeyName!: string;

  @ApiPropertyOptional({ type: [String] })
  @IsOmittable()
  @IsArray()
  @ArrayMaxSize(16)
  @IsString({ each: true })
  SecurityGroups?: string[];

  @ApiPropertyOptional({ type: [String], example: ['sg-0123456789abcdef0'] })
  @IsOmittable()
  @IsArray()
  @ArrayMaxSize(16)
  @Matches(ID('sg'), { each: true, message: 'each of SecurityGroupIds must be a security group id (sg-...)' })
  SecurityGroupIds?: string[];

  @ApiPropertyOptional({ description: 'Deprecated by EC2; accepted, and not sent with RunInstances' })
  @IsOmittable()
  @IsString()
  @MaxLength(64)
  AddressingType?: string;

  @ApiPropertyOptional({ type: [BlockDeviceMappingDto] })
  @IsOmittable()
  @IsArray()
  @ArrayMaxSize(32)
  @IsObject({ each: true })
  @ValidateNested({ each: true })
  @Type(() => BlockDeviceMappingDto)
  BlockDeviceMappings?: BlockDeviceMappingDto[];

  @ApiPropertyOptional() @IsOmittable() @IsBoolean() EbsOptimized?: boolean;

  @ApiPropertyOptional({ type: IamInstanceProfileDto })
  @IsOmittable()
  @IsObject()
  @ValidateNested()
  @Type(() => IamInstanceProfileDto)
  IamInstanceProfile?: IamInstanceProfileDto;

  @ApiPropertyOptional() @IsOmittable() @Matches(ID('aki')) KernelId?: string;

  @ApiPropertyOptional({ type: MonitoringDto })
  @IsOmittable()
  @IsObject()
  @ValidateNested()
  @Type(() => MonitoringDto)
  Monitoring?: MonitoringDto;

  @ApiPropertyOptional({ type: [NetworkInterfaceDto] })
  @IsOmittable()
  @IsArray()
  @ArrayMaxSize(8)
  @IsObject({ each: true })
  @ValidateNested({ each: true })
  @Type(() => NetworkInterfaceDto)
  NetworkInterfaces?: NetworkInterfaceDto[];

  @ApiPropertyOptional({ type: PlacementDto })
  @IsOmittable()
  @IsObject()
  @ValidateNested()
  @Type(() => PlacementDto)
  Placement?: PlacementDto;

  @ApiPropertyOptional() @IsOmittable() @Matches(ID('ari')) RamdiskId?: string;
  @ApiPropertyOptional({ example: 'subnet-0123456789abcdef0' }) @IsOmittable() @Matches(ID('subnet')) SubnetId?: string;

  @ApiPropertyOptional({ description: 'Base64, at most 16 KiB decoded' })
  @IsOmittable()
  @IsBase64(undefined, { message: 'UserData must be base64' })
  @MaxLength(21848)
  UserData?: string;
}

const CLIENT_TOKEN_RULE = { message: 'ClientToken must be 1-64 characters of [a-zA-Z0-9_-]' };

export class LaunchBase {
  @ApiProperty({
    example: 'builder-2026-11-24-0001',
    description: 'Idempotency: a retried request with the same token launches nothing new. 1-64 of [a-zA-Z0-9_-]',
  })
  @IsDefined(mandatory)
  @Matches(/^[a-zA-Z0-9_-]{1,64}$/, CLIENT_TOKEN_RULE)
  ClientToken!: string;

  @ApiProperty({ example: 'us-east-1', description: 'One of the configured regions' })
  @IsDefined(mandatory)
  @IsString()
  @Length(1, 64)
  Region!: string;
}

export class RequestSpotInstanceDto extends LaunchBase {
  @ApiProperty({ example: 0.5, description: 'Maximum price, USD per hour' })
  @IsDefined(mandatory)
  @IsNumber({ allowNaN: false, allowInfinity: false }, { message: 'SpotPrice must be a positive number' })
  @IsPositive({ message: 'SpotPrice must be a positive number' })
  SpotPrice!: number;

  @ApiProperty({ type: LaunchSpecificationDto })
  @IsDefined(mandatory)
  @IsObject()
  @ValidateNested()
  @Type(() => LaunchSpecificationDto)
  LaunchSpecification!: LaunchSpecificationDto;
}

export class RunInstanceDto extends LaunchBase {
  @ApiProperty({ enum: ['on-demand', 'spot'] })
  @IsDefined(mandatory)
  @IsIn(['on-demand', 'spot'], { message: "RequestType must be 'on-demand' or 'spot'" })
  RequestType!: 'on-demand' | 'spot';

  @ApiPropertyOptional({
    example: 0.5,
    description: 'Spot only: maximum price, USD per hour (default: on-demand price)',
  })
  @IsOmittable()
  @IsNumber({ allowNaN: false, allowInfinity: false }, { message: 'SpotPrice must be a positive number' })
  @IsPositive({ message: 'SpotPrice must be a positive number' })
  SpotPrice?: number;

  @ApiProperty({ type: LaunchSpecificationDto })
  @IsDefined(mandatory)
  @IsObject()
  @ValidateNested()
  @Type(() => LaunchSpecificationDto)
  LaunchInfo!: LaunchSpecificationDto;
}
