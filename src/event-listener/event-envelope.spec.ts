import { instanceIdOf, parseEnvelope } from './event-envelope';

const REGION = 'us-east-1';
const ID = 'i-0123456789abcdef0';
const envelope = (fields: Record<string, unknown> = {}) =>
  JSON.stringify({
    version: '0',
    id: 'e-1',
    'detail-type': 'EC2 Instance State-change Notification',
    source: 'aws.ec2',
    account: '000000000000',
    time: '2026-11-24T12:00:00Z',
    region: REGION,
    resources: [`arn:aws:ec2:${REGION}:000000000000:instance/${ID}`],
    detail: { 'instance-id': ID, state: 'running' },
    ...fields,
  });

describe('parseEnvelope', () => {
  it('should read a state change', () => {
    expect(parseEnvelope(envelope(), REGION)).toEqual({
      ok: true,
      event: {
        kind: 'state-change',
        eventId: 'e-1',
        region: REGION,
        instanceId: ID,
        state: 'running',
        time: new Date('2026-11-24T12:00:00Z'),
      },
    });
  });

  it('should read the three kinds of notice', () => {
    const spot = parseEnvelope(
      envelope({
        'detail-type': 'EC2 Spot Instance Interruption Warning',
        detail: { 'instance-id': ID, 'instance-action': 'hibernate' },
      }),
      REGION,
    );
    expect(spot).toMatchObject({
      ok: true,
      event: { notice: 'spot-interruption', action: 'hibernate', notBefore: new Date('2026-11-24T12:02:00Z') },
    });
    const rebalance = parseEnvelope(
      envelope({ 'detail-type': 'EC2 Instance Rebalance Recommendation', detail: { 'instance-id': ID } }),
      REGION,
    );
    expect(rebalance).toMatchObject({ ok: true, event: { notice: 'rebalance-recommendation', action: null } });
    const health = parseEnvelope(
      envelope({
        source: 'aws.health',
        'detail-type': 'AWS Health Event',
        resources: ['i-0123456789abcdef1'],
        detail: {
          service: 'EC2',
          eventTypeCategory: 'scheduledChange',
          eventTypeCode: 'AWS_EC2_INSTANCE_RETIREMENT_SCHEDULED',
          startTime: 'Wed, 25 Nov 2026 10:00:00 GMT',
          affectedEntities: [{ entityValue: ID }],
        },
      }),
      REGION,
    );
    expect(health).toMatchObject({
      ok: true,
      event: {
        notice: 'scheduled-change',
        instanceIds: [ID, 'i-0123456789abcdef1'],
        action: 'stop',
        notBefore: new Date('2026-11-25T10:00:00Z'),
      },
    });
  });

  it.each([
    ['not JSON', '{', 'malformed', 'body is not JSON'],
    ['an array', '[]', 'malformed', 'body is not a JSON object'],
    ['without an id', envelope({ id: undefined }), 'malformed', 'envelope has no id'],
    [
      'from another region',
      envelope({ region: 'eu-west-1' }),
      'malformed',
      'envelope region eu-west-1 is not us-east-1',
    ],
    ['with a bad time', envelope({ time: 'yesterday' }), 'malformed', 'envelope time is not a timestamp'],
    [
      'with a bad instance id',
      envelope({ detail: { 'instance-id': 'x', state: 'running' } }),
      'malformed',
      'state change without a valid instance-id',
    ],
    [
      'with an unknown state',
      envelope({ detail: { 'instance-id': ID, state: 'melting' } }),
      'malformed',
      'state change with unknown state "melting"',
    ],
    [
      'of an unknown kind',
      envelope({ 'detail-type': 'EC2 AMI State Change' }),
      'unknown',
      'unknown event aws.ec2 / EC2 AMI State Change',
    ],
    [
      'of AWS Health for another service',
      envelope({
        source: 'aws.health',
        'detail-type': 'AWS Health Event',
        detail: { service: 'S3', eventTypeCategory: 'issue' },
      }),
      'unknown',
      'AWS Health event for S3/issue',
    ],
  ])('should refuse a body %s, naming why', (_what, body, reason, message) => {
    expect(parseEnvelope(body, REGION)).toEqual({ ok: false, reason, message });
  });
});

describe('instanceIdOf', () => {
  it('should find the instance of a body from its detail or its resources, and nothing in junk', () => {
    expect(instanceIdOf(envelope())).toBe(ID);
    expect(instanceIdOf(envelope({ detail: {} }))).toBe(ID);
    expect(instanceIdOf('junk')).toBeUndefined();
  });
});
