/**
 * A readiness check that a feature offers the health probes (SPEC §9) without either module importing
 * the other: the feature provides it under its token, the application's root hands that feature's
 * module to `HealthModule.register`, and readiness runs the check when it is there.
 */
export interface ReadinessCheck {
  /** One line per thing not ready; empty when all is. */
  problems(): Promise<string[]>;
}

/** The queues this replica consumes (provided only while it consumes any). */
export const QUEUE_READINESS = Symbol('queue readiness');
