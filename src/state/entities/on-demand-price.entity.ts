import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * The on-demand price of an instance type in a region (Linux, shared tenancy), from the AWS Price List
 * Query API (SPEC §12), refreshed daily by the leader and read by every replica.
 */
@Entity({ name: 'on_demand_prices' })
export class OnDemandPrice {
  @PrimaryColumn({ type: 'text' }) region!: string;
  @PrimaryColumn({ name: 'instance_type', type: 'text' }) instanceType!: string;
  /** USD per hour. */
  @Column({ type: 'double precision' }) price!: number;
  @Column({ type: 'timestamptz' }) polled!: Date;
}
