import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

export enum ApiKeyScope {
  ADMIN = 'admin',
  READ = 'read',
}

/** An API key. Only its SHA-256 is stored; the key itself is shown once, when created. */
@Entity({ name: 'mod_mikrotikvpn_api_keys' })
export class ApiKeyEntity {
  @PrimaryGeneratedColumn({ type: 'int', unsigned: true }) id!: number;
  @Column({ type: 'varchar', length: 64 }) name!: string;
  @Column({ type: 'enum', enum: ApiKeyScope }) scope!: ApiKeyScope;
  @Column({ name: 'key_prefix', type: 'varchar', length: 16 }) keyPrefix!: string;
  @Column({ name: 'key_hash', type: 'char', length: 64 }) keyHash!: string;
  @Column({ name: 'created_at', type: 'datetime', precision: 3 }) createdAt!: Date;
  @Column({ name: 'last_used_at', type: 'datetime', precision: 3, nullable: true }) lastUsedAt!: Date | null;
  @Column({ name: 'revoked_at', type: 'datetime', precision: 3, nullable: true }) revokedAt!: Date | null;
}
