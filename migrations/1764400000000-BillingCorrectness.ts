import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * What billing needs to be right under real operations (issue: billing correctness):
 * - routers: a boot epoch (bumped at every restart any run notices) and the last uptime reading
 *   with the database's own time and the reading's window, so restarts are judged without any
 *   server process's clock;
 * - accounts: the boot epoch of their last counters (a restart seen while they were skipped is not
 *   forgotten), the traffic of the current cycle and its key, every comment prefix their router
 *   objects have carried and the objects' RouterOS ids (ownership survives product changes), and
 *   what could not be applied on the router;
 * - top-ups: the billing cycle credited and why (so screens write it in the customer's language),
 *   and NOTE rows (0 bytes, e.g. a move to another server);
 * - daily totals: when their balance was written, to order it against that day's top-ups;
 * - removals left on a router that was down when its account moved to another server.
 */
export class BillingCorrectness1764400000000 implements MigrationInterface {
  name = 'BillingCorrectness1764400000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE mod_mikrotikvpn_routers
        ADD COLUMN boot_epoch INT UNSIGNED NOT NULL DEFAULT 0 AFTER last_boot_at,
        ADD COLUMN last_read_at DATETIME(3) NULL COMMENT 'database clock at the last uptime read' AFTER boot_epoch,
        ADD COLUMN last_read_window_ms INT UNSIGNED NULL AFTER last_read_at`);
    await q.query(`
      ALTER TABLE mod_mikrotikvpn_accounts
        ADD COLUMN counter_boot_epoch INT UNSIGNED NULL AFTER counter_queue_id,
        ADD COLUMN cycle_used_bytes BIGINT UNSIGNED NOT NULL DEFAULT 0 AFTER cycle_allowance_bytes,
        ADD COLUMN cycle_key VARCHAR(120) NULL AFTER cycle_used_bytes,
        ADD COLUMN comment_prefixes VARCHAR(1000) NOT NULL DEFAULT '[]' COMMENT 'JSON: every prefix its router objects carried',
        ADD COLUMN secret_ros_id VARCHAR(20) NULL,
        ADD COLUMN queue_ros_id VARCHAR(20) NULL,
        ADD COLUMN router_problem VARCHAR(500) NULL COMMENT 'what could not be applied on the router; retried by reconcile'`);
    await q.query(
      `UPDATE mod_mikrotikvpn_accounts SET counter_boot_epoch = 0, queue_ros_id = counter_queue_id
        WHERE counter_queue_id IS NOT NULL`,
    );
    // The cycle so far, as the old daily-based figure had it (the new column is exact from now on).
    await q.query(`
      UPDATE mod_mikrotikvpn_accounts a
         SET a.cycle_used_bytes = (
           SELECT COALESCE(SUM(d.download_bytes + d.upload_bytes), 0) FROM mod_mikrotikvpn_traffic_daily d
            WHERE d.account_id = a.id
              AND d.day >= COALESCE((SELECT DATE(MAX(t.at)) FROM mod_mikrotikvpn_traffic_topups t
                                      WHERE t.account_id = a.id AND t.kind = 'CYCLE'), '1970-01-01'))`);
    const [products] = await q.query(
      `SELECT COUNT(*) AS n FROM information_schema.tables
        WHERE table_schema = DATABASE() AND table_name = 'tblproducts'`,
    );
    if (Number(products.n) > 0) {
      await q.query(`
        UPDATE mod_mikrotikvpn_accounts a LEFT JOIN tblproducts p ON p.id = a.product_id
           SET a.comment_prefixes = JSON_ARRAY(COALESCE(NULLIF(TRIM(p.configoption1), ''), 'WHMCS'))`);
    } else {
      await q.query(`UPDATE mod_mikrotikvpn_accounts SET comment_prefixes = JSON_ARRAY('WHMCS')`);
    }
    await q.query(`
      ALTER TABLE mod_mikrotikvpn_traffic_topups
        MODIFY COLUMN kind ENUM('CYCLE','ADDON','ADJUSTMENT','NOTE') NOT NULL,
        ADD COLUMN cycle VARCHAR(32) NULL COMMENT 'the billing cycle credited (CYCLE)',
        ADD COLUMN reason VARCHAR(32) NULL COMMENT 'what the server wrote the row for; screens word it'`);
    await q.query(`
      ALTER TABLE mod_mikrotikvpn_traffic_daily
        ADD COLUMN balance_at DATETIME(3) NULL COMMENT 'when balance_after_bytes was written (database clock)'`);
    await q.query(`
      CREATE TABLE mod_mikrotikvpn_router_removals (
        id INT UNSIGNED NOT NULL AUTO_INCREMENT,
        router_id INT UNSIGNED NOT NULL,
        account_id INT UNSIGNED NOT NULL,
        service_id INT NOT NULL,
        username VARCHAR(64) NOT NULL,
        address VARCHAR(45) NOT NULL,
        secret_ros_id VARCHAR(20) NULL,
        queue_ros_id VARCHAR(20) NULL,
        comment_prefixes VARCHAR(1000) NOT NULL DEFAULT '[]',
        last_download_counter BIGINT UNSIGNED NOT NULL DEFAULT 0,
        last_upload_counter BIGINT UNSIGNED NOT NULL DEFAULT 0,
        counter_queue_id VARCHAR(20) NULL,
        counter_boot_epoch INT UNSIGNED NULL,
        reason VARCHAR(255) NOT NULL,
        created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
        attempts INT UNSIGNED NOT NULL DEFAULT 0,
        last_error VARCHAR(500) NULL,
        PRIMARY KEY (id),
        UNIQUE KEY uq_removals_router_service (router_id, service_id),
        KEY ix_removals_account (account_id),
        CONSTRAINT fk_removals_account FOREIGN KEY (account_id) REFERENCES mod_mikrotikvpn_accounts (id)
      ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE mod_mikrotikvpn_router_removals`);
    await q.query(`ALTER TABLE mod_mikrotikvpn_traffic_daily DROP COLUMN balance_at`);
    await q.query(`DELETE FROM mod_mikrotikvpn_traffic_topups WHERE kind = 'NOTE'`);
    await q.query(`
      ALTER TABLE mod_mikrotikvpn_traffic_topups
        MODIFY COLUMN kind ENUM('CYCLE','ADDON','ADJUSTMENT') NOT NULL,
        DROP COLUMN cycle,
        DROP COLUMN reason`);
    await q.query(`
      ALTER TABLE mod_mikrotikvpn_accounts
        DROP COLUMN counter_boot_epoch,
        DROP COLUMN cycle_used_bytes,
        DROP COLUMN cycle_key,
        DROP COLUMN comment_prefixes,
        DROP COLUMN secret_ros_id,
        DROP COLUMN queue_ros_id,
        DROP COLUMN router_problem`);
    await q.query(`
      ALTER TABLE mod_mikrotikvpn_routers
        DROP COLUMN boot_epoch,
        DROP COLUMN last_read_at,
        DROP COLUMN last_read_window_ms`);
  }
}
