import { QueryRunnerProviderAlreadyReleasedError } from 'typeorm';
import { Ec2UnavailableError } from '../ec2/ec2-errors';
import { asDatabaseUnavailable, DatabaseUnavailableError, isDatabaseUnavailable } from './database-errors';

const withCode = (message: string, code: string, extra: object = {}) =>
  Object.assign(new Error(message), { code }, extra);

describe('isDatabaseUnavailable', () => {
  it.each([
    ['connection refused', withCode('connect ECONNREFUSED 127.0.0.1:5432', 'ECONNREFUSED')],
    ['connect timeout of the pool', new Error('timeout exceeded when trying to connect')],
    ['connection lost under a query', new Error('Connection terminated unexpectedly')],
    ['client query timeout', new Error('Query read timeout')],
    [
      'statement_timeout, wrapped by TypeORM',
      Object.assign(new Error('canceling statement'), {
        driverError: withCode('canceling statement due to statement timeout', '57014'),
      }),
    ],
    ['server shutting down', withCode('terminating connection due to administrator command', '57P01')],
    ['every address refused', Object.assign(new AggregateError([withCode('refused', 'ECONNREFUSED')]), {})],
    ['the next statement of a transaction whose connection broke', new QueryRunnerProviderAlreadyReleasedError()],
  ])('is true for %s', (_, err) => {
    expect(isDatabaseUnavailable(err)).toBe(true);
    expect(asDatabaseUnavailable(err)).toBeInstanceOf(DatabaseUnavailableError);
  });

  it.each([
    ['a syntax error', withCode('syntax error at or near "SELEC"', '42601')],
    [
      'a unique violation',
      Object.assign(new Error('duplicate key'), { driverError: withCode('duplicate key', '23505') }),
    ],
    ['EC2 unreachable', new Ec2UnavailableError('us-east-1', 'DescribeKeyPairs', withCode('timeout', 'ETIMEDOUT'))],
    ['an AWS call refused', withCode('connect ECONNREFUSED 127.0.0.1:4566', 'ECONNREFUSED', { $metadata: {} })],
    [
      'an AWS call annotated by our clients',
      withCode('read ECONNRESET', 'ECONNRESET', { operation: 'ReceiveMessage' }),
    ],
    ['not an error', 'ECONNREFUSED'],
  ])('is false for %s', (_, err) => {
    expect(isDatabaseUnavailable(err)).toBe(false);
    expect(asDatabaseUnavailable(err)).toBeUndefined();
  });
});
