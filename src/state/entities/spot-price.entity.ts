import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * The last good spot price of each pool (SPEC §7), written by the replica that polls and read by
 * every replica, so that all of them answer the price endpoints alike.
 */
@Entity({ name: 'spot_prices' })
export class SpotPrice {
  @PrimaryColumn({ type: 'text' }) region!: string;
  @PrimaryColumn({ type: 'text' }) zone!: string;
  @PrimaryColumn({ name: 'instance_type', type: 'text' }) instanceType!: string;
  /** USD per hour: the highest Linux/UNIX price of the window. */
  @Column({ type: 'double precision' }) price!: number;
  /** When the poll that found it completed. */
  @Column({ type: 'timestamptz' }) polled!: Date;
}
