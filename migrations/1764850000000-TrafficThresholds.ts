import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Several notification thresholds per product (issue #18): one row per account, billing cycle and
 * threshold, written under the account's lock in the transaction of the debit that reached it
 * (reached_at set, times + 1, the notice queued with it) and re-armed (reached_at NULL) by a
 * credit that lifts the balance back to bound_bytes or above. The cycle is named by its credit
 * (the last CYCLE top-up; 0 = an account without one), so a renewal starts with no row at all.
 *
 * Upgrade: an account that already had this cycle's low-traffic notice (the single "less than X GB"
 * threshold, deduplicated as `low:<account>:cycle-<credit>`) gets that threshold's row as reached,
 * so the upgrade sends no second notice for it.
 */
export class TrafficThresholds1764850000000 implements MigrationInterface {
  name = 'TrafficThresholds1764850000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE mod_mikrotikvpn_threshold_states (
        id INT UNSIGNED NOT NULL AUTO_INCREMENT,
        account_id INT UNSIGNED NOT NULL,
        cycle_topup_id INT UNSIGNED NOT NULL COMMENT 'the cycle credit (last CYCLE top-up); 0 = none',
        threshold VARCHAR(48) NOT NULL COMMENT 'remaining:<bytes> or used:<hundredths of a percent>',
        label VARCHAR(32) NOT NULL COMMENT 'as the product setting writes it: 80%, 1 GB',
        bound_bytes BIGINT NOT NULL COMMENT 'reached while the balance is below this',
        reached_at DATETIME(3) NULL COMMENT 'database clock; NULL = re-armed by a credit',
        first_reached_at DATETIME(3) NOT NULL,
        times INT UNSIGNED NOT NULL COMMENT 'how often reached this cycle (each time one notice)',
        PRIMARY KEY (id),
        UNIQUE KEY uq_threshold_states (account_id, cycle_topup_id, threshold),
        CONSTRAINT fk_threshold_states_account FOREIGN KEY (account_id) REFERENCES mod_mikrotikvpn_accounts (id)
      ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`);

    const [{ n }] = await q.query(
      "SELECT COUNT(*) AS n FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = 'tblproducts'",
    );
    if (!Number(n)) return;
    // configoption14 = lowTrafficThresholdGb (the manifest's slot, never reordered); its only
    // form until now was a GB amount, empty = the default 10.
    const rows: { account_id: number; dedupe_key: string; created_at: Date; value: string | null }[] =
      await q.query(`
        SELECT n.account_id, n.dedupe_key, n.created_at, p.configoption14 AS value
          FROM mod_mikrotikvpn_notifications n
          JOIN mod_mikrotikvpn_accounts a ON a.id = n.account_id
          LEFT JOIN tblproducts p ON p.id = a.product_id
         WHERE n.kind = 'LOW_TRAFFIC'`);
    for (const row of rows) {
      const key = /^low:(\d+):cycle-(\d+)$/.exec(row.dedupe_key);
      const value = (row.value ?? '').trim() || '10';
      const gb = /^(\d+)(?:\.(\d{1,9}))?$/.exec(value);
      if (!key || !gb) continue;
      const bytes = BigInt(gb[1]) * 1_000_000_000n + BigInt((gb[2] ?? '').padEnd(9, '0'));
      if (bytes === 0n) continue;
      const fraction = (gb[2] ?? '').replace(/0+$/, '');
      const label = `${gb[1].replace(/^0+(?=\d)/, '')}${fraction ? `.${fraction}` : ''} GB`;
      await q.query(
        `INSERT IGNORE INTO mod_mikrotikvpn_threshold_states
           (account_id, cycle_topup_id, threshold, label, bound_bytes, reached_at, first_reached_at, times)
         VALUES (?, ?, ?, ?, ?, ?, ?, 1)`,
        [
          row.account_id,
          Number(key[2]),
          `remaining:${bytes}`,
          label,
          bytes.toString(),
          row.created_at,
          row.created_at,
        ],
      );
    }
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE mod_mikrotikvpn_threshold_states');
  }
}
