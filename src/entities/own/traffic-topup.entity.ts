import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

export enum TopUpKind {
  CYCLE = 'CYCLE',
  ADDON = 'ADDON',
  ADJUSTMENT = 'ADJUSTMENT',
}

/** One credit (or admin adjustment) to an account's traffic balance: the ledger behind "traffic added history". */
@Entity({ name: 'mod_mikrotikvpn_traffic_topups' })
export class TrafficTopUpEntity {
  @PrimaryGeneratedColumn({ type: 'int', unsigned: true }) id!: number;
  @Column({ name: 'account_id', type: 'int', unsigned: true }) accountId!: number;
  @Column({ type: 'datetime', precision: 3 }) at!: Date;
  @Column({ type: 'enum', enum: TopUpKind }) kind!: TopUpKind;
  @Column({ type: 'bigint' }) bytes!: string;
  @Column({ name: 'balance_before_bytes', type: 'bigint' }) balanceBeforeBytes!: string;
  @Column({ name: 'balance_after_bytes', type: 'bigint' }) balanceAfterBytes!: string;
  @Column({ name: 'idempotency_key', type: 'varchar', length: 191 }) idempotencyKey!: string;
  @Column({ name: 'invoice_id', type: 'int', nullable: true }) invoiceId!: number | null;
  @Column({ type: 'varchar', length: 500 }) description!: string;
  @Column({ type: 'varchar', length: 128 }) actor!: string;
}
