import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

export const LIVE_INSTANCE_STATES = ['pending', 'running'] as const;
export type InstanceState = (typeof LIVE_INSTANCE_STATES)[number];

export function isLiveInstanceState(state: string): state is InstanceState {
  return (LIVE_INSTANCE_STATES as readonly string[]).includes(state);
}

/**
 * An instance's lifecycle, in the only order its states can follow one another within one second
 * (SPEC §3): EventBridge times have one-second precision, so two events of one instance with the same
 * time are ordered by this. A stop and a start cannot both happen within a second.
 */
export const LIFECYCLE = ['pending', 'running', 'stopping', 'stopped', 'shutting-down', 'terminated'] as const;

/** 1-based position in LIFECYCLE; 0 for a state outside it. */
export function lifecycleRank(state: string): number {
  return (LIFECYCLE as readonly string[]).indexOf(state) + 1;
}

/** `array_position` over LIFECYCLE for a SQL expression; an unknown state ranks below all (NULL → 0). */
export function lifecycleRankSql(expr: string): string {
  return `coalesce(array_position(ARRAY[${LIFECYCLE.map((s) => `'${s}'`).join(', ')}]::text[], ${expr}), 0)`;
}

/** An instance of ours that is pending or running. EC2 ids are unique only within a region. */
@Entity({ name: 'instances' })
@Index('instances_worker_type_idx', ['workerType'])
@Index('instances_spot_request_idx', ['region', 'spotRequestId'])
export class Instance {
  @PrimaryColumn({ type: 'text' }) region!: string;
  @PrimaryColumn({ type: 'text' }) id!: string;
  @Column({ name: 'worker_type', type: 'text' }) workerType!: string;
  @Column({ type: 'text' }) az!: string;
  @Column({ name: 'instance_type', type: 'text' }) instanceType!: string;
  @Column({ type: 'text' }) state!: InstanceState;
  @Column({ name: 'spot_request_id', type: 'text', nullable: true }) spotRequestId!: string | null;
  @Column({ name: 'image_id', type: 'text' }) imageId!: string;
  @Column({ type: 'timestamptz' }) launched!: Date;
  /** Time of the newest event applied to this row: older or equal events change nothing. */
  @Column({ name: 'last_event', type: 'timestamptz' }) lastEvent!: Date;
  @Column({ type: 'timestamptz', default: () => 'now()' }) touched!: Date;
}
