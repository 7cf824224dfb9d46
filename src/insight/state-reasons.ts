import type { TerminationReason } from '../state/entities';

/**
 * EC2's `StateReason` codes (DescribeInstances) as a termination reason (SPEC §12). EC2 documents
 * these codes in its API reference (StateReason); a code we do not know is `ec2-other`, kept with its
 * code and message.
 */
const BY_CODE: Record<string, TerminationReason> = {
  'Server.SpotInstanceTermination': 'spot-interruption',
  'Server.SpotInstanceShutdown': 'spot-interruption',
  'Client.UserInitiatedShutdown': 'user-initiated',
  'Client.UserInitiatedHibernate': 'user-initiated',
  'Client.InstanceInitiatedShutdown': 'instance-initiated',
  'Server.InsufficientInstanceCapacity': 'insufficient-capacity',
  'Server.InternalError': 'ec2-error',
  'Server.ScheduledStop': 'ec2-error',
  'Client.InternalError': 'ec2-error',
  'Client.VolumeLimitExceeded': 'ec2-error',
  'Client.InvalidSnapshot.NotFound': 'ec2-error',
};

export function reasonOfStateCode(code: string | null | undefined): TerminationReason {
  if (!code) return 'unknown';
  return BY_CODE[code] ?? 'ec2-other';
}
