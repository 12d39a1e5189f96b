import { Column, Entity, PrimaryColumn, PrimaryGeneratedColumn } from 'typeorm';

/** One collection's delta for one account. Pruned after the product's history days. */
@Entity({ name: 'mod_mikrotikvpn_traffic_samples' })
export class TrafficSampleEntity {
  @PrimaryGeneratedColumn({ type: 'bigint', unsigned: true }) id!: string;
  @Column({ name: 'account_id', type: 'int', unsigned: true }) accountId!: number;
  @Column({ type: 'datetime', precision: 3 }) at!: Date;
  @Column({ name: 'download_bytes', type: 'bigint', unsigned: true }) downloadBytes!: string;
  @Column({ name: 'upload_bytes', type: 'bigint', unsigned: true }) uploadBytes!: string;
  @Column({ name: 'balance_after_bytes', type: 'bigint' }) balanceAfterBytes!: string;
}

/** Traffic of one account on one day (in the WHMCS time zone). Kept for ever. */
@Entity({ name: 'mod_mikrotikvpn_traffic_daily' })
export class TrafficDailyEntity {
  @PrimaryColumn({ name: 'account_id', type: 'int', unsigned: true }) accountId!: number;
  @PrimaryColumn({ type: 'date' }) day!: string;
  @Column({ name: 'download_bytes', type: 'bigint', unsigned: true }) downloadBytes!: string;
  @Column({ name: 'upload_bytes', type: 'bigint', unsigned: true }) uploadBytes!: string;
  @Column({ name: 'balance_after_bytes', type: 'bigint' }) balanceAfterBytes!: string;
  /** When the balance above was written (database clock): orders it against that day's top-ups. */
  @Column({ name: 'balance_at', type: 'datetime', precision: 3, nullable: true }) balanceAt!: Date | null;
}
