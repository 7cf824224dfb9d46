export type Architecture = 'x86_64' | 'arm64';

export interface InstanceTypeInfo {
  /** On-demand Linux price in USD per hour; the spot market moves below it. */
  onDemand: number;
  arch: Architecture;
  /** Counts against the account's vCPU quotas. */
  vcpus: number;
}

/** The instance types the simulated EC2 knows, with us-east-1 Linux on-demand prices. */
export const INSTANCE_TYPES: Readonly<Record<string, InstanceTypeInfo>> = {
  'm1.small': { onDemand: 0.044, arch: 'x86_64', vcpus: 1 },
  't2.micro': { onDemand: 0.0116, arch: 'x86_64', vcpus: 1 },
  't2.small': { onDemand: 0.023, arch: 'x86_64', vcpus: 1 },
  't2.medium': { onDemand: 0.0464, arch: 'x86_64', vcpus: 2 },
  't3.micro': { onDemand: 0.0104, arch: 'x86_64', vcpus: 2 },
  't3.small': { onDemand: 0.0208, arch: 'x86_64', vcpus: 2 },
  't3.medium': { onDemand: 0.0416, arch: 'x86_64', vcpus: 2 },
  't3.large': { onDemand: 0.0832, arch: 'x86_64', vcpus: 2 },
  'm5.large': { onDemand: 0.096, arch: 'x86_64', vcpus: 2 },
  'm5.xlarge': { onDemand: 0.192, arch: 'x86_64', vcpus: 4 },
  'm5.2xlarge': { onDemand: 0.384, arch: 'x86_64', vcpus: 8 },
  'm5.4xlarge': { onDemand: 0.768, arch: 'x86_64', vcpus: 16 },
  'm6i.large': { onDemand: 0.096, arch: 'x86_64', vcpus: 2 },
  'c5.large': { onDemand: 0.085, arch: 'x86_64', vcpus: 2 },
  'c5.xlarge': { onDemand: 0.17, arch: 'x86_64', vcpus: 4 },
  'c5.2xlarge': { onDemand: 0.34, arch: 'x86_64', vcpus: 8 },
  'c5.4xlarge': { onDemand: 0.68, arch: 'x86_64', vcpus: 16 },
  'c6i.large': { onDemand: 0.085, arch: 'x86_64', vcpus: 2 },
  'r5.large': { onDemand: 0.126, arch: 'x86_64', vcpus: 2 },
  'r5.xlarge': { onDemand: 0.252, arch: 'x86_64', vcpus: 4 },
  'g4dn.xlarge': { onDemand: 0.526, arch: 'x86_64', vcpus: 4 },
  'p3.2xlarge': { onDemand: 3.06, arch: 'x86_64', vcpus: 8 },
  'm6g.large': { onDemand: 0.077, arch: 'arm64', vcpus: 2 },
  'c6g.large': { onDemand: 0.068, arch: 'arm64', vcpus: 2 },
  'c7g.xlarge': { onDemand: 0.145, arch: 'arm64', vcpus: 4 },
};

export const DEFAULT_INSTANCE_TYPE = 'm1.small';

export const PRODUCT_DESCRIPTIONS = [
  'Linux/UNIX',
  'Linux/UNIX (Amazon VPC)',
  'Windows',
  'Windows (Amazon VPC)',
] as const;
export type ProductDescription = (typeof PRODUCT_DESCRIPTIONS)[number];

export interface ZoneInfo {
  name: string;
  id: string;
  region: string;
}

/** `us-east-1` → `use1`, the prefix of EC2's zone ids (`use1-az1`). */
function regionAbbrev(region: string): string {
  const [area, direction, number] = region.split('-');
  return `${area}${(direction ?? '').slice(0, 1)}${number ?? ''}`;
}

export function zonesFor(region: string, count: number): ZoneInfo[] {
  return Array.from({ length: count }, (_, i) => ({
    name: `${region}${String.fromCharCode(97 + i)}`,
    id: `${regionAbbrev(region)}-az${i + 1}`,
    region,
  }));
}

export interface SeedImage {
  imageId: string;
  name: string;
  arch: Architecture;
}

/** Present in every region from the start, so a fresh sandbox can launch without registering anything. */
export const SEED_IMAGES: readonly SeedImage[] = [
  { imageId: 'ami-0123456789abcdef0', name: 'sandbox-linux-x86_64', arch: 'x86_64' },
  { imageId: 'ami-0123456789abcdef1', name: 'sandbox-linux-arm64', arch: 'arm64' },
];

export interface SubnetInfo {
  subnetId: string;
  zone: string;
  cidrBlock: string;
  defaultForAz: boolean;
}

export const DEFAULT_VPC_ID = 'vpc-0123456789abcdef0';

/** One default subnet per zone with a fixed id (`subnet-0123456789abcdef0` in the first zone), like the seed AMIs. */
export function defaultSubnetsFor(zones: ZoneInfo[]): SubnetInfo[] {
  return zones.map((zone, i) => ({
    subnetId: `subnet-0123456789abc${(0xdef0 + i).toString(16)}`,
    zone: zone.name,
    cidrBlock: `172.31.${(i * 16) % 256}.0/20`,
    defaultForAz: true,
  }));
}
