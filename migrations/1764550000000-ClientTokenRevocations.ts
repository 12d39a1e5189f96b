import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Client tokens revoked one at a time (`revokeClientToken`), by their id, without rotating the
 * encryption key that signs every token. A row matters only until the token would have expired
 * anyway (at most an hour); revoking prunes the rows past that.
 */
export class ClientTokenRevocations1764550000000 implements MigrationInterface {
  name = 'ClientTokenRevocations1764550000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE mod_mikrotikvpn_client_token_revocations (
        token_id CHAR(22) CHARACTER SET ascii COLLATE ascii_bin NOT NULL COMMENT 'the token id (jti), base64url',
        client_id INT NULL COMMENT 'tblclients.id, when the revoked token was presented',
        expires_at DATETIME(3) NOT NULL COMMENT 'when the token expires anyway; the row may go after',
        revoked_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
        revoked_by VARCHAR(128) NOT NULL,
        PRIMARY KEY (token_id),
        KEY idx_client_token_revocations_expires (expires_at)
      ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE mod_mikrotikvpn_client_token_revocations`);
  }
}
