import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Quota policies (issue #18): what happens when a product's traffic is used up, kept in a table of
 * our own keyed by the WHMCS product id (WHMCS's 24 module-setting slots are nearly all taken). A
 * product without a row behaves as before (cut off). Later policies (rollover, thresholds) add their
 * columns with migrations of their own. THROTTLED becomes an account status (slowed down, not cut
 * off) and a notice kind (its own email template).
 */
export class ProductPolicies1764900000000 implements MigrationInterface {
  name = 'ProductPolicies1764900000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE mod_mikrotikvpn_product_policies (
        product_id INT NOT NULL COMMENT 'tblproducts.id (no foreign key into WHMCS tables)',
        on_exhausted VARCHAR(16) NOT NULL DEFAULT 'cutoff' COMMENT 'cutoff, throttle or overage',
        throttle_download_bps BIGINT UNSIGNED NOT NULL DEFAULT 0 COMMENT 'throttle: speed to the customer, bit/s',
        throttle_upload_bps BIGINT UNSIGNED NOT NULL DEFAULT 0 COMMENT 'throttle: speed from the customer, bit/s',
        throttled_template VARCHAR(255) NOT NULL DEFAULT '' COMMENT 'WHMCS email template sent when an account is throttled',
        overage_ceiling_bytes BIGINT UNSIGNED NULL COMMENT 'overage: cycle traffic at which the account is cut off anyway (NULL = none)',
        updated_at DATETIME(3) NOT NULL,
        PRIMARY KEY (product_id)
      ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`);
    await q.query(
      `ALTER TABLE mod_mikrotikvpn_accounts
         MODIFY COLUMN status ENUM('PENDING','ACTIVE','SUSPENDED','LIMITED','THROTTLED','TERMINATED') NOT NULL DEFAULT 'PENDING',
         MODIFY COLUMN announced_status ENUM('PENDING','ACTIVE','SUSPENDED','LIMITED','THROTTLED','TERMINATED') NULL
           COMMENT 'the last status its events announced: a change that waited in PENDING for the router is announced once, from this'`,
    );
    await q.query(
      `ALTER TABLE mod_mikrotikvpn_notifications MODIFY COLUMN kind ENUM('LOW_TRAFFIC','LIMITED','THROTTLED') NOT NULL`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    // A throttled account is a used-up one: without the policy it is limited (reconcile cuts it off).
    await q.query("UPDATE mod_mikrotikvpn_accounts SET status = 'LIMITED' WHERE status = 'THROTTLED'");
    await q.query(
      "UPDATE mod_mikrotikvpn_accounts SET announced_status = 'LIMITED' WHERE announced_status = 'THROTTLED'",
    );
    await q.query("DELETE FROM mod_mikrotikvpn_notifications WHERE kind = 'THROTTLED'");
    await q.query(
      `ALTER TABLE mod_mikrotikvpn_notifications MODIFY COLUMN kind ENUM('LOW_TRAFFIC','LIMITED') NOT NULL`,
    );
    await q.query(
      `ALTER TABLE mod_mikrotikvpn_accounts
         MODIFY COLUMN status ENUM('PENDING','ACTIVE','SUSPENDED','LIMITED','TERMINATED') NOT NULL DEFAULT 'PENDING',
         MODIFY COLUMN announced_status ENUM('PENDING','ACTIVE','SUSPENDED','LIMITED','TERMINATED') NULL
           COMMENT 'the last status its events announced: a change that waited in PENDING for the router is announced once, from this'`,
    );
    await q.query('DROP TABLE mod_mikrotikvpn_product_policies');
  }
}
