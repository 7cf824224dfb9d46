export { startSandbox } from './sandbox';
export type { Sandbox, SandboxEndpoints, SandboxLog, SandboxOptions } from './sandbox';
export type { SandboxControl } from './control/control';
export type {
  ClockInput,
  ClockState,
  EmitEventInput,
  InterruptionKind,
  PoolInput,
  QuotaInput,
  QuotaState,
  ResetInput,
  SeedInstancesInput,
  SeedSpotRequestsInput,
} from './control/control';
export type { SandboxState, StateQuery } from './control/state';
export type { FaultSettings, FaultUpdate } from './faults';
export type { Ec2Timings } from './ec2/sim-ec2';
export type { EventEnvelope } from './events/envelope';
