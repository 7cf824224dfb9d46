import { DescribeAvailabilityZonesCommand } from '@aws-sdk/client-ec2';
import { launchExamples } from '../../src/api/launch/launch-examples';
import { inBackground, withCallerWaiting } from '../../src/ec2/ec2-call-context';
import { Ec2Clients } from '../../src/ec2/ec2-clients.service';
import { Metrics } from '../../src/metrics/metrics.service';
import { AppHarness } from '../app-harness';
import { api, bearer, createApiHarness, TOKENS } from './support';

const WT = 'builder';
const auth = bearer(TOKENS.builder);
const MAX_WAIT_MS = 300;

/** A counter's value per label set, read from the registry (what /metrics would show). */
async function counter(h: AppHarness, name: string, labels: Record<string, string>): Promise<number> {
  const metric = await h.get(Metrics).registry.getSingleMetric(name)!.get();
  return metric.values
    .filter((v) => Object.entries(labels).every(([k, value]) => v.labels[k] === value))
    .reduce((sum, v) => sum + v.value, 0);
}

describe('an API request never queues long for the EC2 rate limiter (SPEC §9)', () => {
  let h: AppHarness;

  beforeAll(async () => {
    // RunInstances: 2 at once, then 10 a second; a launch (DryRun + the launch) takes 2 of them.
    h = await createApiHarness({
      env: { EC2_RATE_LIMITS: 'RunInstances=2:10,non-mutating=1:5', EC2_RATE_LIMIT_MAX_WAIT_MS: MAX_WAIT_MS },
    });
  });
  afterAll(() => h.close());

  it('answers a burst of launches beyond the bound with 503 + Retry-After at once, launching none of them; their retries launch each once', async () => {
    await api(h).get(`/v1/worker-types/${WT}/key-pair`).set(auth).expect(200);
    const example = launchExamples(h.config).onDemand;
    const body = (i: number) => ({ ...example, ClientToken: `burst-${i}` });
    const launch = (i: number) => api(h).put(`/v1/worker-types/${WT}/instance`).set(auth).send(body(i));
    const bucket = { region: example.Region, bucket: 'request:RunInstances' };

    // 30 launches at once would queue 60 tokens (6 s); each may wait 300 ms at most.
    const answers = await Promise.all(Array.from({ length: 30 }, (_, i) => launch(i)));
    const refused = answers.flatMap((res, i) => (res.status === 503 ? [i] : []));
    expect(answers.filter((r) => r.status !== 503 && r.status !== 204)).toEqual([]);
    expect(refused.length).toBeGreaterThan(15);
    for (const i of refused) {
      const res = answers[i];
      expect(res.body).toMatchObject({
        code: 'ServiceUnavailable',
        details: { cause: 'rate-limit', region: example.Region, bucket: 'request:RunInstances' },
      });
      expect(res.body.message).toMatch(/would wait [\d.]+ s .* \(at most 0.3 s\); try again in \d+ s/);
      expect(Number(res.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    }
    // Each refusal was decided up front, once per request (the SDK did not retry it), and no admitted
    // attempt waited past the bound: the limiter's whole wait is at most the bound per admitted attempt.
    expect(await counter(h, 'ec2_manager_ec2_rate_limit_refused_total', bucket)).toBe(refused.length);
    const admittedAttempts = 2 * (30 - refused.length) + refused.length; // a refused launch's DryRun may have passed
    expect(await counter(h, 'ec2_manager_ec2_rate_limit_wait_seconds_total', bucket)).toBeLessThanOrEqual(
      (admittedAttempts * MAX_WAIT_MS) / 1000,
    );

    const launchedTokens = () =>
      Object.values(h.sandbox.control.state().regions)
        .flatMap((r) => r.instances ?? [])
        .map((i) => h.sandbox.control.instance(String(i.instanceId))?.clientToken)
        .filter((t): t is string => t?.startsWith('burst-') ?? false)
        .sort();
    const tokens = (ids: number[]) => ids.map((i) => `burst-${i}`).sort();
    const admitted = answers.flatMap((res, i) => (res.status === 204 ? [i] : []));
    // Nothing a 503 answered was launched; everything a 204 answered was, once.
    expect(launchedTokens()).toEqual(tokens(admitted));

    // Provisioners retrying, each after its Retry-After, all get their launch, once each.
    const retry = async (i: number): Promise<void> => {
      for (let res = await launch(i); res.status !== 204; res = await launch(i)) {
        expect(res.status).toBe(503);
        await new Promise((resolve) => setTimeout(resolve, Number(res.headers['retry-after']) * 1000));
      }
    };
    await Promise.all(refused.map(retry));
    expect(launchedTokens()).toEqual(tokens([...Array(30).keys()]));
  });

  it('lets work nobody waits on (jobs, events) queue however long, even when started from a request', async () => {
    const client = h.get(Ec2Clients).client('us-west-2');
    const describe = () => client.send(new DescribeAvailabilityZonesCommand({}));
    // non-mutating: 1 at once, then 5 a second: the 6th call waits about 1 s, past a 0 bound.
    const calls = withCallerWaiting(0, () => inBackground(() => Promise.all(Array.from({ length: 6 }, describe))));
    await expect(calls).resolves.toHaveLength(6);
    await expect(withCallerWaiting(0, describe)).rejects.toMatchObject({ details: { cause: 'rate-limit' } });
  });
});
