import type { RetryErrorInfo, SdkError } from '@smithy/types';
import { Ec2RetryStrategy } from './retry-strategy';

const error = (name: string) => ({ name, message: name, $metadata: {} }) as unknown as SdkError;
const throttle: RetryErrorInfo = { errorType: 'THROTTLING', error: error('RequestLimitExceeded') };

describe('EC2 retry strategy (the one place that backs off)', () => {
  it('retries a throttle with full jitter under a doubling ceiling, up to maxAttempts attempts', async () => {
    const strategy = new Ec2RetryStrategy(4, () => 0.999);
    let token = await strategy.acquireInitialRetryToken();
    const delays: number[] = [];
    for (let i = 0; i < 3; i++) {
      token = await strategy.refreshRetryTokenForRetry(token, throttle);
      delays.push(token.getRetryDelay());
    }
    expect(delays).toEqual([249, 499, 999]);
    await expect(strategy.refreshRetryTokenForRetry(token, throttle)).rejects.toThrow();
  });

  it('waits at least what a Retry-After hint asks, never beyond the cap', async () => {
    let now = 1_000_000;
    const strategy = new Ec2RetryStrategy(
      5,
      () => 0,
      () => now,
    );
    const token = await strategy.acquireInitialRetryToken();
    const hinted = await strategy.refreshRetryTokenForRetry(token, {
      ...throttle,
      retryAfterHint: new Date(now + 3000),
    });
    expect(hinted.getRetryDelay()).toBe(3000);
    now = 0;
    const capped = await strategy.refreshRetryTokenForRetry(token, { ...throttle, retryAfterHint: new Date(60_000) });
    expect(capped.getRetryDelay()).toBe(10_000);
  });

  it('never retries the caller’s own mistakes, nor capacity EC2 does not have', async () => {
    const strategy = new Ec2RetryStrategy(5);
    const token = await strategy.acquireInitialRetryToken();
    await expect(
      strategy.refreshRetryTokenForRetry(token, { errorType: 'CLIENT_ERROR', error: error('InvalidParameterValue') }),
    ).rejects.toThrow();
    await expect(
      strategy.refreshRetryTokenForRetry(token, {
        errorType: 'SERVER_ERROR',
        error: error('InsufficientInstanceCapacity'),
      }),
    ).rejects.toThrow();
    const transient = await strategy.refreshRetryTokenForRetry(token, {
      errorType: 'TRANSIENT',
      error: error('Error'),
    });
    expect(transient.getRetryCount()).toBe(1);
  });
});
