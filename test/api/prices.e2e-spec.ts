import { Tx } from '../../src/state/tx.service';
import { AppHarness } from '../app-harness';
import { PriceCache, PriceEntry } from '../../src/prices/price-cache.service';
import { SpotPriceRepository } from '../../src/state/spot-price.repository';
import { api, createApiHarness } from './support';

const entry = (region: string, zone: string, instanceType: string, price: number): PriceEntry => ({
  region,
  zone,
  instanceType,
  price,
  type: 'spot',
});

const PRICES = [
  entry('us-west-2', 'us-west-2a', 'm5.large', 0.04),
  entry('us-east-1', 'us-east-1a', 'm5.large', 0.03),
  entry('us-east-1', 'us-east-1b', 'c5.large', 0.02),
  entry('us-east-1', 'us-east-1a', 'c5.large', 0.05),
];

describe('prices API', () => {
  let h: AppHarness;
  beforeAll(async () => {
    h = await createApiHarness();
  });
  afterAll(() => h.close());

  it('answers 503 with a clear message before the first poll', async () => {
    for (const res of [await api(h).get('/v1/prices'), await api(h).post('/v1/prices').send({ restrictions: [] })]) {
      expect(res.status).toBe(503);
      expect(res.body).toMatchObject({ code: 'ServiceUnavailable', message: expect.stringMatching(/pricing poll/) });
    }
  });

  describe('once filled', () => {
    beforeAll(() => h.get(PriceCache).set(PRICES));

    it('lists every price, cheapest first', async () => {
      const res = await api(h).get('/v1/prices').expect(200);
      expect(res.body.map((p: PriceEntry) => p.price)).toEqual([0.02, 0.03, 0.04, 0.05]);
      expect(res.body[0]).toEqual(entry('us-east-1', 'us-east-1b', 'c5.large', 0.02));
    });

    it.each([
      [[], [0.02, 0.03, 0.04, 0.05]],
      [[{ key: 'region', restriction: 'us-east-1' }], [0.02, 0.03, 0.05]],
      [[{ key: 'instanceType', restriction: ['m5.large', 'x1.huge'] }], [0.03, 0.04]],
      [[{ key: 'zone', restriction: ['us-east-1a'] }], [0.03, 0.05]],
      [[{ key: 'type', restriction: 'spot' }], [0.02, 0.03, 0.04, 0.05]],
      [[{ key: 'price', restriction: 0.04 }], [0.04]],
      [[{ key: 'minPrice', restriction: '0.03' }], [0.03, 0.04, 0.05]],
      [[{ key: 'maxPrice', restriction: 0.03 }], [0.02, 0.03]],
      [
        [
          { key: 'region', restriction: 'us-east-1' },
          { key: 'instanceType', restriction: 'c5.large' },
          { key: 'maxPrice', restriction: '0.04' },
        ],
        [0.02],
      ],
    ])('filters by %j', async (restrictions, prices) => {
      // SPEC §7's form, a bare list, and the object form answer alike.
      const asList = await api(h).post('/v1/prices').send(restrictions).expect(200);
      expect(asList.body.map((p: PriceEntry) => p.price)).toEqual(prices);
      const res = await api(h).post('/v1/prices').send({ restrictions }).expect(200);
      expect(res.body).toEqual(asList.body);
    });

    it.each([
      [[{ key: 'colour', restriction: 'red' }], '[0].key'],
      [
        [
          { key: 'region', restriction: 'us-east-1' },
          { key: 'maxPrice', restriction: 'cheap' },
        ],
        '[1].restriction',
      ],
      [[{ key: 'region', restriction: 'x', extra: 1 }], '[0].extra'],
      [['region'], '[0]'],
    ])('refuses the list %j naming %s', async (body, path) => {
      const res = await api(h).post('/v1/prices').send(body).expect(400);
      expect(res.body.code).toBe('InputError');
      expect(res.body.details.reasons.map((r: { path: string }) => r.path)).toContain(path);
    });

    it.each([
      [{ restrictions: [{ key: 'colour', restriction: 'red' }] }, 'restrictions[0].key'],
      [{ restrictions: [{ key: 'maxPrice', restriction: 'cheap' }] }, 'restrictions[0].restriction'],
      [{ restrictions: [{ key: 'maxPrice', restriction: -1 }] }, 'restrictions[0].restriction'],
      [{ restrictions: [{ key: 'region', restriction: [] }] }, 'restrictions[0].restriction'],
      [{ restrictions: [{ key: 'region', restriction: 5 }] }, 'restrictions[0].restriction'],
      [{ restrictions: [{ key: 'region', restriction: 'x', extra: 1 }] }, 'restrictions[0].extra'],
      [{ restrictions: 'all' }, 'restrictions'],
      [{}, 'restrictions'],
      [{ restrictions: [], more: true }, 'more'],
    ])('refuses %j naming %s', async (body, path) => {
      const res = await api(h).post('/v1/prices').send(body).expect(400);
      expect(res.body.code).toBe('InputError');
      expect(res.body.details.reasons.map((r: { path: string }) => r.path)).toContain(path);
    });
  });
});

describe('prices API on a replica that does not poll', () => {
  let h: AppHarness;
  beforeAll(async () => {
    // Like a replica started a moment ago, or one with PRICING_ENABLED=false: its own cache is empty.
    h = await createApiHarness({ env: { PRICING_ENABLED: false } });
  });
  afterAll(() => h.close());

  it('answers at once from what the leader stored in Postgres', async () => {
    await api(h).get('/v1/prices').expect(503);
    await h
      .get(Tx)
      .run((m) =>
        h
          .get(SpotPriceRepository)
          .replaceRegion(
            'us-east-1',
            [{ region: 'us-east-1', zone: 'us-east-1a', instanceType: 'm5.large', price: 0.03 }],
            new Date(),
            m,
          ),
      );
    const res = await api(h).get('/v1/prices').expect(200);
    expect(res.body).toEqual([entry('us-east-1', 'us-east-1a', 'm5.large', 0.03)]);
    await api(h)
      .post('/v1/prices')
      .send([{ key: 'instanceType', restriction: 'm5.large' }])
      .expect(200);
  });
});
