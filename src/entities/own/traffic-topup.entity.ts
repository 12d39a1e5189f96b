import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

export enum TopUpKind {
  CYCLE = 'CYCLE',
  ADDON = 'ADDON',
  ADJUSTMENT = 'ADJUSTMENT',
  /** A 0-byte line of the history (e.g. the account moved to another server). */
  NOTE = 'NOTE',
}

/**
 * Why the server wrote a history line. Screens word it in the customer's language (with `cycle`),
 * so the server stores no sentence of its own; `description` holds only what a person or WHMCS
 * named (an addon's name, an adjustment's reason).
 */
export enum TopUpReason {
  FIRST_CYCLE = 'FIRST_CYCLE',
  RENEWAL = 'RENEWAL',
  PACKAGE_CHANGE = 'PACKAGE_CHANGE',
  ADDON = 'ADDON',
  ADJUSTMENT = 'ADJUSTMENT',
  MOVED = 'MOVED',
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
  /** The billing cycle credited (CYCLE rows). */
  @Column({ type: 'varchar', length: 32, nullable: true }) cycle!: string | null;
  /** Null on rows written before reasons existed (their description is an English sentence). */
  @Column({ type: 'varchar', length: 32, nullable: true }) reason!: TopUpReason | null;
}
