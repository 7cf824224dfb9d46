import { PricingClient, GetProductsCommand } from '@aws-sdk/client-pricing';
import { SANDBOX_CREDENTIALS } from '../../src/aws/aws-clients.service';
import { AppConfig } from '../../src/config/app-config';
import { Metrics } from '../../src/metrics/metrics.service';
import { OnDemandPrices, OnDemandPricingError } from '../../src/pricing/on-demand-prices.service';
import { PricingPoller } from '../../src/pricing/pricing-poller.service';
import { PriceSync } from '../../src/prices/price-sync.service';
import { INSTANCE_TYPES } from '../../src/sandbox/ec2/catalog';
import { onDemandPrice } from '../../src/sandbox/ec2/prices';
import { OnDemandPriceRepository } from '../../src/state/on-demand-price.repository';
import { Tx } from '../../src/state/tx.service';
import { AppHarness } from '../app-harness';
import { api, createApiHarness } from '../api/support';

const REGIONS = ['us-east-1', 'us-west-2'];
const TYPES = Object.keys(INSTANCE_TYPES).length;

/** SPEC §12: on-demand prices from the AWS Price List Query API (the sandbox's), beside the spot prices. */
describe('on-demand prices', () => {
  let h: AppHarness;

  beforeAll(async () => {
    h = await createApiHarness({ env: { AWS_MAX_ATTEMPTS: 2 }, sandbox: { clockSpeed: 0 } });
  });
  afterAll(() => h.close());

  it('the sandbox answers GetProducts as AWS does: JSON strings, filtered, paged, only in the pricing regions', async () => {
    const client = (region: string) =>
      new PricingClient({ region, endpoint: h.sandbox.endpoints.pricing, credentials: SANDBOX_CREDENTIALS });
    const linux = [
      { Type: 'TERM_MATCH' as const, Field: 'regionCode', Value: 'us-west-2' },
      { Type: 'TERM_MATCH' as const, Field: 'operatingSystem', Value: 'Linux' },
      { Type: 'TERM_MATCH' as const, Field: 'tenancy', Value: 'Shared' },
      { Type: 'TERM_MATCH' as const, Field: 'capacitystatus', Value: 'Used' },
      { Type: 'TERM_MATCH' as const, Field: 'instanceType', Value: 'm5.large' },
    ];
    const us = client('us-east-1');
    const one = await us.send(new GetProductsCommand({ ServiceCode: 'AmazonEC2', Filters: linux }));
    expect(one.PriceList).toHaveLength(1);
    const doc = JSON.parse(String(one.PriceList![0])) as {
      product: { attributes: Record<string, string> };
      terms: { OnDemand: Record<string, { priceDimensions: Record<string, { pricePerUnit: { USD: string } }> }> };
    };
    expect(doc.product.attributes).toMatchObject({ instanceType: 'm5.large', regionCode: 'us-west-2' });
    const [dimension] = Object.values(Object.values(doc.terms.OnDemand)[0].priceDimensions);
    expect(Number(dimension.pricePerUnit.USD)).toBe(onDemandPrice('us-west-2', 'm5.large'));

    const page = await us.send(
      new GetProductsCommand({ ServiceCode: 'AmazonEC2', Filters: linux.slice(0, 2), MaxResults: 7 }),
    );
    expect(page.PriceList).toHaveLength(7);
    expect(page.NextToken).toBeDefined();
    await expect(client('us-west-2').send(new GetProductsCommand({ ServiceCode: 'AmazonEC2' }))).rejects.toThrow(
      /no endpoint in us-west-2/,
    );
    us.destroy();
  });

  it('fetches every type of every region, lists an on-demand entry beside each spot pool, and restrictions apply', async () => {
    const outcome = await h.get(OnDemandPrices).fetchOnce();
    expect(outcome.regions).toEqual(REGIONS.map((region) => ({ region, instanceTypes: TYPES })));
    await h.get(PricingPoller).pollOnce();

    const all = (await api(h).get('/v1/prices').expect(200)).body as { type: string; price: number }[];
    expect(all.filter((e) => e.type === 'spot')).toHaveLength(REGIONS.length * 3 * TYPES);
    expect(all.filter((e) => e.type === 'on-demand')).toHaveLength(REGIONS.length * 3 * TYPES);

    const res = await api(h)
      .post('/v1/prices')
      .send([
        { key: 'type', restriction: 'on-demand' },
        { key: 'region', restriction: 'us-west-2' },
        { key: 'instanceType', restriction: 'c5.large' },
      ])
      .expect(200);
    expect(res.body).toEqual(
      ['a', 'b', 'c'].map((z) => ({
        region: 'us-west-2',
        zone: `us-west-2${z}`,
        instanceType: 'c5.large',
        price: onDemandPrice('us-west-2', 'c5.large'),
        type: 'on-demand',
      })),
    );
  });

  it('a failed fetch keeps the last good prices', async () => {
    const repo = h.get(OnDemandPriceRepository);
    const before = await repo.list(REGIONS);
    expect(before).toHaveLength(REGIONS.length * TYPES);
    // No Price List endpoint in us-west-2: every region's fetch fails.
    const wrong = new OnDemandPrices(
      AppConfig.forTest({
        PRICING_REGION: 'us-west-2',
        AWS_MODE: 'sandbox',
        REGIONS: REGIONS.join(','),
        PRICING_ENDPOINT: h.sandbox.endpoints.pricing,
        AWS_MAX_ATTEMPTS: 1,
      }),
      h.get(Metrics),
      repo,
      h.get(PriceSync),
      h.get(Tx),
    );
    await expect(wrong.fetchOnce()).rejects.toThrow(OnDemandPricingError);
    wrong.onApplicationShutdown();
    expect(await repo.list(REGIONS)).toEqual(before);
  });
});
