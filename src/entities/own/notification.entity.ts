import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

export enum NotificationKind {
  LOW_TRAFFIC = 'LOW_TRAFFIC',
  LIMITED = 'LIMITED',
  THROTTLED = 'THROTTLED',
}

/** An email to send through WHMCS (outbox): kept until the bridge acknowledges it was accepted. */
@Entity({ name: 'mod_mikrotikvpn_notifications' })
export class NotificationEntity {
  @PrimaryGeneratedColumn({ type: 'int', unsigned: true }) id!: number;
  @Column({ name: 'account_id', type: 'int', unsigned: true }) accountId!: number;
  @Column({ name: 'service_id', type: 'int' }) serviceId!: number;
  @Column({ type: 'enum', enum: NotificationKind }) kind!: NotificationKind;
  @Column({ name: 'dedupe_key', type: 'varchar', length: 191 }) dedupeKey!: string;
  @Column({ type: 'varchar', length: 255 }) template!: string;
  @Column({ name: 'merge_fields', type: 'text' }) mergeFields!: string;
  @Column({ name: 'created_at', type: 'datetime', precision: 3 }) createdAt!: Date;
  @Column({ type: 'int', unsigned: true }) attempts!: number;
  @Column({ name: 'last_error', type: 'varchar', length: 500, nullable: true }) lastError!: string | null;
  @Column({ name: 'acknowledged_at', type: 'datetime', precision: 3, nullable: true })
  acknowledgedAt!: Date | null;
}
