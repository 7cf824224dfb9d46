import { awsErrorCode, isAwsError } from '../aws/aws-error';
import { InputError, ServiceUnavailableError } from '../common/errors';

/** EC2 cannot do it now, through nobody's fault: a 503 the caller may retry later. */
const UNAVAILABLE = new Set([
  'InsufficientInstanceCapacity',
  'InsufficientCapacity',
  'InsufficientHostCapacity',
  'InsufficientReservedInstanceCapacity',
  'InstanceLimitExceeded',
  'MaxSpotInstanceCountExceeded',
  'VcpuLimitExceeded',
  'RequestLimitExceeded',
  'Unavailable',
  'ServiceUnavailable',
]);

const CALLER_CODES = new Set([
  'UnknownParameter',
  'MissingParameter',
  'SpotMaxPriceTooLow',
  'IdempotentParameterMismatch',
  'UnsupportedOperation',
  'Unsupported',
  'InvalidInput',
]);

/** True for EC2 answers caused by what the caller asked for (InvalidParameterValue, InvalidAMIID.NotFound, ...). */
export function isCallerEc2Error(code: string | undefined): boolean {
  if (!code) return false;
  if (CALLER_CODES.has(code)) return true;
  if (code === 'InvalidClientTokenId') return false; // our credentials, not the caller's request
  return code.startsWith('Invalid') || code.endsWith('.Malformed') || code.endsWith('.NotFound');
}

/**
 * Turns an EC2 error about a caller's request into the API's answer: 400 naming EC2's code and
 * message, or 503 for capacity and limits. Anything else (our credentials, EC2 itself failing) is
 * returned unchanged for the exception filter.
 */
export function translateEc2Error(err: unknown, rule: string, hint?: (code: string) => string | undefined): unknown {
  if (!isAwsError(err)) return err;
  const code = awsErrorCode(err);
  if (!code) return err;
  const ec2Message = err.message.replace(/^\S+ \S+: /, '');
  if (UNAVAILABLE.has(code)) {
    return new ServiceUnavailableError(`EC2 cannot do this now: ${code}: ${ec2Message}`, {
      ec2Code: code,
      region: err.region,
    });
  }
  if (!isCallerEc2Error(code)) return err;
  const extra = hint?.(code);
  return new InputError(
    `EC2 refused the request: ${code}: ${ec2Message}${extra ? ` (${extra})` : ''}`,
    [{ rule, message: `${code}: ${ec2Message}${extra ? ` (${extra})` : ''}` }],
    { ec2Code: code },
  );
}
