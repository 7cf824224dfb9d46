import { createHash } from 'node:crypto';
import { hash32 } from '../random';
import { INSTANCE_TYPES } from '../ec2/catalog';
import { onDemandPrice } from '../ec2/prices';

export interface PricingReply {
  status: number;
  body: Record<string, unknown>;
  code?: string;
}

class PricingError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

/** The regions whose endpoint serves the Price List Query API (AWS: us-east-1, eu-central-1, ap-south-1). */
export const PRICING_API_REGIONS = ['us-east-1', 'eu-central-1', 'ap-south-1'] as const;

const LOCATIONS: Record<string, string> = {
  'us-east-1': 'US East (N. Virginia)',
  'us-east-2': 'US East (Ohio)',
  'us-west-1': 'US West (N. California)',
  'us-west-2': 'US West (Oregon)',
  'eu-central-1': 'EU (Frankfurt)',
  'eu-west-1': 'EU (Ireland)',
  'ap-south-1': 'Asia Pacific (Mumbai)',
};

/** The variants the Price List holds per instance type and region; only one is what we run (Linux, Shared, Used). */
const OPERATING_SYSTEMS = [
  { os: 'Linux', extra: (p: number) => p, license: 'No License required', operation: 'RunInstances' },
  { os: 'Windows', extra: (p: number) => p * 1.8, license: 'No License required', operation: 'RunInstances:0002' },
  { os: 'RHEL', extra: (p: number) => p + 0.06, license: 'No License required', operation: 'RunInstances:0010' },
] as const;
const TENANCIES = [
  { tenancy: 'Shared', factor: 1, usage: 'BoxUsage' },
  { tenancy: 'Dedicated', factor: 1.1, usage: 'DedicatedUsage' },
] as const;
const CAPACITY_STATUSES = ['Used', 'UnusedCapacityReservation', 'AllocatedCapacityReservation'] as const;

const ON_DEMAND_TERM = 'JRTCKXETXF';
const HOURLY_RATE = '6YS6EN2CT7';
const PUBLICATION = '2026-01-01T00:00:00Z';

type Attributes = Record<string, string>;
interface Product {
  attributes: Attributes;
  json: string;
}

/**
 * The AWS Price List Query API (`X-Amz-Target: AWSPriceListService.<Operation>`, JSON 1.1), answering
 * `GetProducts` for `AmazonEC2` as AWS does: one JSON string per product (SKU) in `PriceList`, with its
 * attributes and its OnDemand and Reserved terms, filtered by attribute (`TERM_MATCH`, `EQUALS`,
 * `CONTAINS`, `ANY_OF`, `NONE_OF`) and paged (`MaxResults` ≤ 100, `NextToken`). Prices come from the
 * sandbox's catalog, the same ones the spot market moves under.
 */
export class PricingApi {
  private readonly products: Product[];

  constructor(regions: readonly string[]) {
    this.products = regions.flatMap((region) => Object.keys(INSTANCE_TYPES).flatMap((type) => variants(region, type)));
  }

  handle(target: string, rawBody: string, region: string): PricingReply {
    try {
      if (!(PRICING_API_REGIONS as readonly string[]).includes(region)) {
        throw new PricingError(
          'UnrecognizedClientException',
          `The Price List Query API has no endpoint in ${region}: use ${PRICING_API_REGIONS.join(', ')}`,
        );
      }
      const operation = target.replace(/^AWSPriceListService\./, '');
      let input: Record<string, unknown>;
      try {
        const parsed: unknown = rawBody ? JSON.parse(rawBody) : {};
        if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not an object');
        input = parsed as Record<string, unknown>;
      } catch {
        throw new PricingError('SerializationException', 'Request body must be a JSON object');
      }
      if (operation !== 'GetProducts')
        throw new PricingError('UnknownOperationException', `Unknown operation ${operation}`);
      return { status: 200, body: this.getProducts(input) };
    } catch (err) {
      if (err instanceof PricingError) {
        return { status: err.status, body: { __type: err.code, Message: err.message }, code: err.code };
      }
      throw err;
    }
  }

  private getProducts(input: Record<string, unknown>): Record<string, unknown> {
    if (input.ServiceCode !== 'AmazonEC2') {
      throw new PricingError(
        'InvalidParameterException',
        `Input parameters ServiceCode is invalid: ${String(input.ServiceCode)}`,
      );
    }
    const filters = parseFilters(input.Filters);
    const max = input.MaxResults === undefined ? 100 : input.MaxResults;
    if (typeof max !== 'number' || !Number.isInteger(max) || max < 1 || max > 100) {
      throw new PricingError('InvalidParameterException', 'MaxResults must be between 1 and 100');
    }
    const matching = this.products.filter((p) => filters.every((f) => f(p.attributes)));
    const start = input.NextToken === undefined ? 0 : decodeToken(input.NextToken);
    const end = start + max;
    return {
      FormatVersion: 'aws_v1',
      PriceList: matching.slice(start, end).map((p) => p.json),
      ...(end < matching.length ? { NextToken: Buffer.from(`offset:${end}`).toString('base64') } : {}),
    };
  }
}

function variants(region: string, instanceType: string): Product[] {
  const base = onDemandPrice(region, instanceType);
  const products: Product[] = [];
  for (const os of OPERATING_SYSTEMS) {
    for (const t of TENANCIES) {
      for (const capacitystatus of CAPACITY_STATUSES) {
        const price = os.extra(base) * t.factor;
        const attributes: Attributes = {
          servicecode: 'AmazonEC2',
          location: LOCATIONS[region] ?? region,
          locationType: 'AWS Region',
          regionCode: region,
          instanceType,
          instanceFamily: 'General purpose',
          vcpu: String(INSTANCE_TYPES[instanceType].vcpus),
          operatingSystem: os.os,
          tenancy: t.tenancy,
          capacitystatus,
          preInstalledSw: 'NA',
          licenseModel: os.license,
          operation: os.operation,
          usagetype: `${regionPrefix(region)}${t.usage}:${instanceType}`,
          marketoption: 'OnDemand',
          servicename: 'Amazon Elastic Compute Cloud',
        };
        const sku = createHash('sha256').update(JSON.stringify(attributes)).digest('hex').slice(0, 16).toUpperCase();
        products.push({ attributes, json: JSON.stringify(productDocument(sku, attributes, price)) });
      }
    }
  }
  return products;
}

function productDocument(sku: string, attributes: Attributes, price: number): Record<string, unknown> {
  const usd = price.toFixed(10);
  const term = `${sku}.${ON_DEMAND_TERM}`;
  const reserved = `${sku}.${'4NA7Y494T4'}`;
  return {
    product: { productFamily: 'Compute Instance', attributes, sku },
    serviceCode: 'AmazonEC2',
    terms: {
      OnDemand: {
        [term]: {
          priceDimensions: {
            [`${term}.${HOURLY_RATE}`]: {
              unit: 'Hrs',
              endRange: 'Inf',
              description: `$${price.toFixed(4)} per On Demand ${attributes.operatingSystem} ${attributes.instanceType} Instance Hour`,
              appliesTo: [],
              rateCode: `${term}.${HOURLY_RATE}`,
              beginRange: '0',
              pricePerUnit: { USD: usd },
            },
          },
          sku,
          effectiveDate: PUBLICATION,
          offerTermCode: ON_DEMAND_TERM,
          termAttributes: {},
        },
      },
      Reserved: {
        [reserved]: {
          priceDimensions: {
            [`${reserved}.${HOURLY_RATE}`]: {
              unit: 'Hrs',
              endRange: 'Inf',
              description: `${attributes.operatingSystem} ${attributes.instanceType} reserved instance applied`,
              appliesTo: [],
              rateCode: `${reserved}.${HOURLY_RATE}`,
              beginRange: '0',
              pricePerUnit: { USD: (price * 0.62).toFixed(10) },
            },
          },
          sku,
          effectiveDate: PUBLICATION,
          offerTermCode: '4NA7Y494T4',
          termAttributes: { LeaseContractLength: '1yr', OfferingClass: 'standard', PurchaseOption: 'No Upfront' },
        },
      },
    },
    version: '20260101000000',
    publicationDate: PUBLICATION,
  };
}

/** EC2's usage-type prefix of a region (`USE1-`, none for us-east-1), derived as a stable stand-in elsewhere. */
function regionPrefix(region: string): string {
  if (region === 'us-east-1') return '';
  return `${region
    .split('-')
    .map((p) => p[0].toUpperCase())
    .join('')}${hash32(region) % 3}-`;
}

type Filter = (a: Attributes) => boolean;

function parseFilters(raw: unknown): Filter[] {
  if (raw === undefined) return [];
  if (!Array.isArray(raw)) throw new PricingError('InvalidParameterException', 'Filters must be a list');
  return raw.map((f: unknown): Filter => {
    const { Type: type, Field: field, Value: value } = (f ?? {}) as Record<string, unknown>;
    if (typeof field !== 'string' || typeof value !== 'string') {
      throw new PricingError('InvalidParameterException', 'Each filter needs a Field and a Value');
    }
    const get = (a: Attributes): string | undefined => {
      const key = Object.keys(a).find((k) => k.toLowerCase() === field.toLowerCase());
      return key === undefined ? undefined : a[key];
    };
    const values = value.split(',').map((v) => v.trim());
    switch (type) {
      case 'TERM_MATCH':
      case 'EQUALS':
        return (a) => get(a)?.toLowerCase() === value.toLowerCase();
      case 'CONTAINS':
        return (a) => get(a)?.toLowerCase().includes(value.toLowerCase()) ?? false;
      case 'ANY_OF':
        return (a) => values.some((v) => get(a)?.toLowerCase() === v.toLowerCase());
      case 'NONE_OF':
        return (a) => !values.some((v) => get(a)?.toLowerCase() === v.toLowerCase());
      default:
        throw new PricingError('InvalidParameterException', `Filter Type ${String(type)} is not supported`);
    }
  });
}

function decodeToken(raw: unknown): number {
  const match = typeof raw === 'string' ? /^offset:(\d+)$/.exec(Buffer.from(raw, 'base64').toString('utf8')) : null;
  if (!match) throw new PricingError('InvalidNextTokenException', 'The NextToken is invalid');
  return Number(match[1]);
}
