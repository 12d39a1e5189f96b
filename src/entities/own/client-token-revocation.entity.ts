import { Column, Entity, PrimaryColumn } from 'typeorm';

/** A client token revoked before its expiry (migration ClientTokenRevocations1764550000000). */
@Entity({ name: 'mod_mikrotikvpn_client_token_revocations' })
export class ClientTokenRevocationEntity {
  @PrimaryColumn({ name: 'token_id', type: 'char', length: 22 }) tokenId!: string;
  @Column({ name: 'client_id', type: 'int', nullable: true }) clientId!: number | null;
  @Column({ name: 'expires_at', type: 'datetime', precision: 3 }) expiresAt!: Date;
  @Column({ name: 'revoked_at', type: 'datetime', precision: 3 }) revokedAt!: Date;
  @Column({ name: 'revoked_by', type: 'varchar', length: 128 }) revokedBy!: string;
}
