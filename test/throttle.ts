import { Metrics } from '../src/metrics/metrics.service';
import { Sandbox } from '../src/sandbox';

/**
 * Lifts the sandbox's throttle fault as soon as one EC2 attempt in `region` has been answered
 * RequestLimitExceeded, so that a test sees exactly "throttled, then retried" whatever the machine's load.
 */
export async function clearThrottleAfterFirstHit(sandbox: Sandbox, metrics: Metrics, region: string): Promise<void> {
  const throttled = async () =>
    (await metrics.ec2Throttled.get()).values
      .filter((v) => v.labels.region === region)
      .reduce((n, v) => n + v.value, 0);
  const before = await throttled();
  const until = Date.now() + 30_000;
  while ((await throttled()) === before) {
    if (Date.now() > until) throw new Error('no throttled attempt seen');
    await new Promise((r) => setTimeout(r, 2));
  }
  sandbox.control.clearFaults();
}
