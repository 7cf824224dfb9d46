import pino from 'pino';
import { serializeError } from './serialize-error';

describe('serializeError', () => {
  it('keeps name, code, message and stack of an Error, and names a subclass by its class', () => {
    class PollError extends Error {}
    const err = Object.assign(new PollError('poll failed in us-east-1'), { code: 'E_POLL' });
    expect(serializeError(err)).toEqual({
      name: 'PollError',
      code: 'E_POLL',
      message: 'poll failed in us-east-1',
      stack: expect.stringContaining('poll failed in us-east-1'),
    });
  });

  it("puts AWS's request id under awsRequestId, with the region, operation and EC2's code", () => {
    const err = Object.assign(new Error('us-east-1 TerminateInstances: not found'), {
      name: 'InvalidInstanceID.NotFound',
      region: 'us-east-1',
      operation: 'TerminateInstances',
      $metadata: { requestId: 'aws-req-1', httpStatusCode: 400 },
    });
    expect(serializeError(err)).toMatchObject({
      name: 'InvalidInstanceID.NotFound',
      code: 'InvalidInstanceID.NotFound',
      awsRequestId: 'aws-req-1',
      region: 'us-east-1',
      operation: 'TerminateInstances',
      httpStatusCode: 400,
    });
    expect(serializeError(err)).not.toHaveProperty('requestId');
  });

  it('explains an AggregateError with an empty message by its inner errors (a refused connection)', () => {
    const inner = [
      Object.assign(new Error('connect ECONNREFUSED ::1:5432'), { code: 'ECONNREFUSED' }),
      Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }),
    ];
    const err = Object.assign(new AggregateError(inner, ''), { code: 'ECONNREFUSED' });
    expect(serializeError(err)).toMatchObject({
      name: 'AggregateError',
      code: 'ECONNREFUSED',
      message: 'connect ECONNREFUSED ::1:5432; connect ECONNREFUSED 127.0.0.1:5432',
      errors: [{ code: 'ECONNREFUSED' }, { code: 'ECONNREFUSED' }],
    });
  });

  it('follows causes, and never gives an empty object for what is not an Error', () => {
    const err = new Error('outer', { cause: new TypeError('inner') });
    expect(serializeError(err).cause).toMatchObject({ name: 'TypeError', message: 'inner' });
    expect(serializeError('a string')).toEqual({ name: 'NonError', message: 'a string' });
    expect(serializeError(undefined)).toEqual({ name: 'NonError', message: 'undefined' });
    expect(serializeError({ message: 'shaped like one', code: 'X' })).toEqual({
      name: 'NonError',
      code: 'X',
      message: 'shaped like one',
    });
    expect(serializeError(new Error(''))).toMatchObject({ name: 'Error', message: '(no message)' });
  });

  it("reads the original error through what pino's own serializer made of it", () => {
    const original = Object.assign(new Error('boom'), { $metadata: { requestId: 'r-9' } });
    const wrapped: unknown = pino.stdSerializers.err(original);
    expect(serializeError(wrapped)).toMatchObject({ message: 'boom', awsRequestId: 'r-9' });
  });
});
