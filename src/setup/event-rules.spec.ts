import { parseEnvelope } from '../event-listener/event-envelope';
import { compilePattern } from '../sandbox/events/pattern';
import { EVENT_RULES } from './setup.service';

const REGION = 'us-east-1';
const ID = 'i-0123456789abcdef0';

describe('EventBridge rules of setup', () => {
  it('are the rules deployed accounts already have', () => {
    expect(EVENT_RULES.map(({ suffix, pattern }) => [suffix, pattern])).toEqual([
      ['state-change', { source: ['aws.ec2'], 'detail-type': ['EC2 Instance State-change Notification'] }],
      ['spot-interruption', { source: ['aws.ec2'], 'detail-type': ['EC2 Spot Instance Interruption Warning'] }],
      ['rebalance', { source: ['aws.ec2'], 'detail-type': ['EC2 Instance Rebalance Recommendation'] }],
      [
        'health',
        {
          source: ['aws.health'],
          'detail-type': ['AWS Health Event'],
          detail: { service: ['EC2'], eventTypeCategory: ['scheduledChange'] },
        },
      ],
    ]);
  });

  // EventBridge's matching as the sandbox implements it, over envelopes each well formed for every kind the
  // parser knows: the queue receives exactly what the parser acts on, nothing it would throw away or miss.
  const sources = ['aws.ec2', 'aws.health', 'aws.s3'];
  const detailTypes = [
    'EC2 Instance State-change Notification',
    'EC2 Spot Instance Interruption Warning',
    'EC2 Instance Rebalance Recommendation',
    'AWS Health Event',
    'EC2 Instance Launch Successful',
  ];
  const details = [
    { service: 'EC2', eventTypeCategory: 'scheduledChange' },
    { service: 'EC2', eventTypeCategory: 'issue' },
    { service: 'RDS', eventTypeCategory: 'scheduledChange' },
  ];
  const cases = sources.flatMap((source) =>
    detailTypes.flatMap((detailType) => details.map((health) => ({ source, detailType, health }))),
  );
  const rules = EVENT_RULES.map((r) => compilePattern(JSON.stringify(r.pattern)));

  it.each(cases)(
    'let through $source / $detailType / $health.service $health.eventTypeCategory iff it is parsed',
    (c) => {
      const envelope = {
        version: '0',
        id: 'e-1',
        'detail-type': c.detailType,
        source: c.source,
        account: '000000000000',
        time: '2026-11-24T12:00:00Z',
        region: REGION,
        resources: [`arn:aws:ec2:${REGION}:000000000000:instance/${ID}`],
        detail: {
          'instance-id': ID,
          state: 'running',
          'instance-action': 'terminate',
          ...c.health,
          eventTypeCode: 'AWS_EC2_INSTANCE_STOP_SCHEDULED',
          affectedEntities: [{ entityValue: ID }],
        },
      };
      const matched = rules.some((r) => r.matches(envelope));
      expect(matched).toBe(parseEnvelope(JSON.stringify(envelope), REGION).ok);
    },
  );
});
