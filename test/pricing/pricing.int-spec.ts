import { INSTANCE_TYPES } from '../../src/sandbox/ec2/catalog';
import { PriceCache, PriceEntry } from '../../src/prices/price-cache.service';
import { PriceSync } from '../../src/prices/price-sync.service';
import { PricingError, PricingPoller } from '../../src/pricing/pricing-poller.service';
import { CapacityCooldownRepository } from '../../src/state/capacity-cooldown.repository';
import { AppHarness } from '../app-harness';
import { api, createApiHarness } from '../api/support';
import { waitFor } from '../jobs-support';

const REGIONS = ['us-east-1', 'us-west-2'];

describe('pricing poller (SPEC §7)', () => {
  let h: AppHarness;
  let poller: PricingPoller;

  beforeAll(async () => {
    // Prices step once in 10^9 s: no step boundary falls inside a poll's window, so each pool has one
    // price in it and the expected list can be read straight from the sandbox's market.
    h = await createApiHarness({
      env: { AWS_MAX_ATTEMPTS: 2 },
      sandbox: { clockSpeed: 0, priceIntervalSeconds: 1e9, seed: 5 },
    });
    poller = h.get(PricingPoller);
  });
  afterAll(() => h.close());

  /** Every pool of every region, priced as the sandbox's market prices it now. */
  function expectedList(): PriceEntry[] {
    const out: PriceEntry[] = [];
    for (const region of REGIONS) {
      for (const zone of ['a', 'b', 'c'].map((s) => `${region}${s}`)) {
        for (const instanceType of Object.keys(INSTANCE_TYPES)) {
          out.push({
            region,
            zone,
            instanceType,
            price: h.sandbox.control.price({ region, zone, instanceType }),
            type: 'spot',
          });
        }
      }
    }
    return out;
  }

  it('should answer 503 before the first poll, then the sandbox market, cheapest first', async () => {
    const before = await api(h).get('/v1/prices');
    expect(before.status).toBe(503);
    expect(before.body.message).toMatch(/pricing poll/);

    h.sandbox.control.setPrice({ region: 'us-east-1', zone: 'us-east-1b', instanceType: 'm5.large', price: 9.5 });
    const outcome = await poller.pollOnce();
    expect(outcome.regions).toEqual(
      REGIONS.map((region) => ({ region, pools: 3 * Object.keys(INSTANCE_TYPES).length })),
    );

    const res = await api(h).get('/v1/prices').expect(200);
    const list: PriceEntry[] = res.body;
    const sortKey = (e: PriceEntry) => `${e.region}|${e.zone}|${e.instanceType}`;
    expect([...list].sort((a, b) => sortKey(a).localeCompare(sortKey(b)))).toEqual(
      expectedList().sort((a, b) => sortKey(a).localeCompare(sortKey(b))),
    );
    expect(list.map((e) => e.price)).toEqual([...list.map((e) => e.price)].sort((a, b) => a - b));
    expect(list.find((e) => e.zone === 'us-east-1b' && e.instanceType === 'm5.large')!.price).toBe(9.5);
  });

  it('should take the highest point of the window for each pool', async () => {
    const pool = { region: 'us-west-2', zone: 'us-west-2a', instanceType: 'c5.large' };
    const base = h.sandbox.control.price(pool);
    h.sandbox.control.setPrice({ ...pool, price: base * 3 });
    h.sandbox.control.setClock({ advanceSeconds: 1 });
    h.sandbox.control.setPrice({ ...pool, price: base / 2 });
    await poller.pollOnce();
    expect(
      h
        .get(PriceCache)
        .list()
        .find((e) => e.zone === pool.zone && e.instanceType === pool.instanceType)!.price,
    ).toBe(Math.round(base * 3 * 1e6) / 1e6);
  });

  it.each([
    [[{ key: 'region', restriction: 'us-west-2' }], (e: PriceEntry) => e.region === 'us-west-2'],
    [
      [{ key: 'instanceType', restriction: ['m5.large', 'c5.large'] }],
      (e: PriceEntry) => ['m5.large', 'c5.large'].includes(e.instanceType),
    ],
    [[{ key: 'zone', restriction: 'us-east-1c' }], (e: PriceEntry) => e.zone === 'us-east-1c'],
    [[{ key: 'type', restriction: ['spot'] }], () => true],
    [[{ key: 'minPrice', restriction: '0.05' }], (e: PriceEntry) => e.price >= 0.05],
    [[{ key: 'maxPrice', restriction: 0.05 }], (e: PriceEntry) => e.price <= 0.05],
    [
      [
        { key: 'region', restriction: ['us-east-1'] },
        { key: 'instanceType', restriction: 'm5.large' },
        { key: 'maxPrice', restriction: '1' },
      ],
      (e: PriceEntry) => e.region === 'us-east-1' && e.instanceType === 'm5.large' && e.price <= 1,
    ],
  ])('should filter the polled list by %j', async (restrictions, keep) => {
    const all: PriceEntry[] = (await api(h).get('/v1/prices').expect(200)).body;
    const res = await api(h).post('/v1/prices').send({ restrictions }).expect(200);
    expect(res.body).toEqual(all.filter(keep));
    expect(res.body.length).toBeGreaterThan(0);
  });

  it('should filter by exact price', async () => {
    const all: PriceEntry[] = (await api(h).get('/v1/prices').expect(200)).body;
    const res = await api(h)
      .post('/v1/prices')
      .send({ restrictions: [{ key: 'price', restriction: all[3].price }] })
      .expect(200);
    expect(res.body).toEqual(all.filter((e) => e.price === all[3].price));
  });

  it('should keep the last good list when a poll fails', async () => {
    const good = h.get(PriceCache).list();
    h.sandbox.control.setPrice({ region: 'us-east-1', zone: 'us-east-1a', instanceType: 'm5.large', price: 7 });
    h.sandbox.control.setFaults({ throttle: { fraction: 1, actions: ['DescribeSpotPriceHistory'] } });
    try {
      await expect(poller.pollOnce()).rejects.toBeInstanceOf(PricingError);
      await expect(h.job('pricing').tick(true)).resolves.toBe('failed');
    } finally {
      h.sandbox.control.clearFaults();
    }
    expect(h.get(PriceCache).list()).toEqual(good);
    await api(h)
      .get('/v1/prices')
      .expect(200, JSON.parse(JSON.stringify(good)));
  });

  it('should attach capacity cooldowns to matching pools, zone or whole region', async () => {
    await h.get(CapacityCooldownRepository).record(
      [
        {
          region: 'us-east-1',
          az: 'us-east-1a',
          instanceType: 'c5.large',
          lifecycle: 'spot',
          reason: 'capacity-not-available',
          workerType: 'wt',
          spotRequestId: 'sir-00000001',
        },
        {
          region: 'us-west-2',
          az: '*',
          instanceType: 'm5.large',
          lifecycle: 'spot',
          reason: 'capacity-oversubscribed',
          workerType: 'wt',
          spotRequestId: 'sir-00000002',
        },
      ],
      600,
    );
    await h.get(PriceSync).syncOnce();
    const list: PriceEntry[] = (await api(h).get('/v1/prices').expect(200)).body;
    const cooled = list
      .filter((e) => e.capacityCooldown)
      .map((e) => [e.zone, e.instanceType, e.capacityCooldown!.reason]);
    expect(cooled.sort()).toEqual(
      [
        ['us-east-1a', 'c5.large', 'capacity-not-available'],
        ['us-west-2a', 'm5.large', 'capacity-oversubscribed'],
        ['us-west-2b', 'm5.large', 'capacity-oversubscribed'],
        ['us-west-2c', 'm5.large', 'capacity-oversubscribed'],
      ].sort(),
    );
  });
});

describe('pricing across replicas', () => {
  let a: AppHarness;
  afterAll(() => a?.close());

  it('should fill the cache on its own when scheduled', async () => {
    a = await createApiHarness({
      env: { PRICING_ENABLED: true, PRICING_POLL_SECONDS: 60 },
      sandbox: { clockSpeed: 0 },
    });
    await waitFor(async () => (await api(a).get('/v1/prices')).status === 200, 10000);
    // Prices are read from Postgres as soon as a region's are stored, a moment before the run is recorded.
    await waitFor(() => a.job('pricing').history.length === 1, 10000);
  });
});
