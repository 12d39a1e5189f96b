import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

/** Who did what to which account or router, when, and how it ended. */
@Entity({ name: 'mod_mikrotikvpn_events' })
export class EventEntity {
  @PrimaryGeneratedColumn({ type: 'bigint', unsigned: true }) id!: string;
  @Column({ type: 'datetime', precision: 3 }) at!: Date;
  @Column({ name: 'account_id', type: 'int', unsigned: true, nullable: true }) accountId!: number | null;
  @Column({ name: 'service_id', type: 'int', nullable: true }) serviceId!: number | null;
  @Column({ name: 'router_id', type: 'int', unsigned: true, nullable: true }) routerId!: number | null;
  @Column({ type: 'varchar', length: 64 }) action!: string;
  @Column({ type: 'varchar', length: 128 }) actor!: string;
  @Column({ type: 'enum', enum: ['OK', 'FAILED'] }) result!: 'OK' | 'FAILED';
  @Column({ type: 'varchar', length: 1000, nullable: true }) message!: string | null;
}
