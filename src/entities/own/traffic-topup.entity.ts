import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

export enum TopUpKind {
  CYCLE = 'CYCLE',
  ADDON = 'ADDON',
  ADJUSTMENT = 'ADJUSTMENT',
  /** A 0-byte line of the history (e.g. the account moved to another server). */
  NOTE = 'NOTE',
  /** Unused allowance leaving at a renewal, the part of it carried over, carried traffic expiring. */
  ROLLOVER = 'ROLLOVER',
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
  /** ROLLOVER, negative: the unused allowance of the cycle that ended leaves the balance. */
  CYCLE_UNUSED = 'CYCLE_UNUSED',
  /** ROLLOVER, positive: the part of it carried into the new cycle. */
  CARRIED_OVER = 'CARRIED_OVER',
  /** ROLLOVER, negative: carried-over traffic whose cycles ran out. */
  CARRY_EXPIRED = 'CARRY_EXPIRED',
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
  /** ROLLOVER lines: the cycle the traffic came from, `YYYY-MM-DD/YYYY-MM-DD` (WHMCS time zone). */
  @Column({ type: 'varchar', length: 21, nullable: true }) period!: string | null;
}
