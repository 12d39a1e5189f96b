import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Session bytes without a write per open session per collection. Each account keeps a running
 * total of the bytes read from its own queue (`metered_*_bytes`, raised by the same statement that
 * debits the balance); a session stores that total when it opens (`*_base_bytes`), so an open
 * session's bytes are `*_bytes + metered − base`, and closing one freezes that sum into `*_bytes`.
 * Sessions open at upgrade keep what they had counted: their base and the new totals start at 0.
 */
export class SessionRunningTotals1764750000000 implements MigrationInterface {
  name = 'SessionRunningTotals1764750000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE mod_mikrotikvpn_accounts
        ADD COLUMN metered_download_bytes BIGINT UNSIGNED NOT NULL DEFAULT 0
          COMMENT 'every byte read from the account''s own queue, ever (the session log''s running total)',
        ADD COLUMN metered_upload_bytes BIGINT UNSIGNED NOT NULL DEFAULT 0
          COMMENT 'every byte read from the account''s own queue, ever (the session log''s running total)'`);
    await q.query(`
      ALTER TABLE mod_mikrotikvpn_sessions
        ADD COLUMN download_base_bytes BIGINT UNSIGNED NOT NULL DEFAULT 0
          COMMENT 'the account''s metered_download_bytes when the session opened (open sessions only)',
        ADD COLUMN upload_base_bytes BIGINT UNSIGNED NOT NULL DEFAULT 0
          COMMENT 'the account''s metered_upload_bytes when the session opened (open sessions only)'`);
  }

  async down(q: QueryRunner): Promise<void> {
    // Open sessions keep their bytes so far.
    await q.query(`
      UPDATE mod_mikrotikvpn_sessions s JOIN mod_mikrotikvpn_accounts a ON a.id = s.account_id
         SET s.download_bytes = s.download_bytes + a.metered_download_bytes - s.download_base_bytes,
             s.upload_bytes = s.upload_bytes + a.metered_upload_bytes - s.upload_base_bytes
       WHERE s.ended_at IS NULL`);
    await q.query(
      'ALTER TABLE mod_mikrotikvpn_sessions DROP COLUMN download_base_bytes, DROP COLUMN upload_base_bytes',
    );
    await q.query(
      'ALTER TABLE mod_mikrotikvpn_accounts DROP COLUMN metered_download_bytes, DROP COLUMN metered_upload_bytes',
    );
  }
}
