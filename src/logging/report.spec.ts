import * as Sentry from '@sentry/nestjs';
import { CauseLimiter, reportError, reportMessage } from './report';

describe('reports to Sentry', () => {
  const events: Sentry.ErrorEvent[] = [];
  beforeAll(() => {
    Sentry.init({
      dsn: 'https://public@sentry.invalid/1',
      defaultIntegrations: false,
      beforeSend(event) {
        events.push(event);
        return null;
      },
    });
  });
  beforeEach(() => (events.length = 0));

  const awsError = (region: string) =>
    Object.assign(new Error(`${region} DescribeInstances: Request limit exceeded.`), {
      name: 'RequestLimitExceeded',
      $metadata: { requestId: `aws-${Math.random()}` },
    });

  it('send one event per cause in a window, however often it happens', async () => {
    for (let i = 0; i < 50; i++)
      reportError(awsError('us-east-1'), { tags: { job: 'spot-poll', region: 'us-east-1' } });
    for (let i = 0; i < 50; i++)
      reportError(awsError('us-west-2'), { tags: { job: 'spot-poll', region: 'us-west-2' } });
    reportError(new TypeError('x is undefined'), { tags: { job: 'spot-poll', region: 'us-east-1' } });
    // Ids of one occurrence (a request's) do not make a new cause.
    for (let i = 0; i < 5; i++) reportError(new Error('db down'), { tags: { requestId: `r${i}`, stage: 'request' } });
    reportMessage('untracked instance i-1 in us-east-1');
    reportMessage('untracked instance i-1 in us-east-1');
    reportMessage('untracked instance i-2 in us-east-1');
    await Sentry.flush(1000);
    expect(events.map((e) => e.exception?.values?.[0]?.type ?? e.message)).toEqual([
      'RequestLimitExceeded',
      'RequestLimitExceeded',
      'TypeError',
      'Error',
      'untracked instance i-1 in us-east-1',
      'untracked instance i-2 in us-east-1',
    ]);
    expect(events[0].tags).toMatchObject({ job: 'spot-poll', region: 'us-east-1' });
  });

  it('say, once the window has passed, how many reports of the cause were held back', () => {
    let now = 0;
    const limiter = new CauseLimiter(() => now);
    expect(limiter.admit('a', 60_000)).toEqual({ report: true, suppressed: 0 });
    for (let i = 1; i <= 3; i++) expect(limiter.admit('a', 60_000)).toEqual({ report: false, suppressed: i });
    expect(limiter.admit('b', 60_000).report).toBe(true);
    now = 60_000;
    expect(limiter.admit('a', 60_000)).toEqual({ report: true, suppressed: 3 });
    expect(limiter.admit('a', 60_000)).toEqual({ report: false, suppressed: 1 });
  });

  it('pass the held-back count to Sentry', async () => {
    const cause = `test-${Math.random()}`;
    reportError(new Error('one'), { cause, everySeconds: 0.5 });
    reportError(new Error('two'), { cause, everySeconds: 0.5 });
    await new Promise((r) => setTimeout(r, 600));
    reportError(new Error('three'), { cause, everySeconds: 0.5 });
    await Sentry.flush(1000);
    expect(events.map((e) => [e.exception?.values?.[0]?.value, e.extra?.suppressedSinceLastReport])).toEqual([
      ['one', undefined],
      ['three', 1],
    ]);
  });
});
