import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Rollover of unused cycle traffic (issue #18, item 3).
 *
 * A balance is made of parts used in this order: carried-over traffic (oldest first), the current
 * cycle's allowance, and what never expires (bought traffic, and what a `keep` renewal left). The
 * collector keeps debiting the one balance; the parts are told apart from three columns the
 * credits and renewals keep (never the collector):
 * - `kept_bytes`: what never expires;
 * - `cycle_credited_bytes`: the allowance credited in the current cycle (renewal, package change);
 * - `carried_bytes`: the carried-over traffic the cycle started with.
 * The carry-overs themselves (where from, how many cycles left, when they expire) are rows of
 * `mod_mikrotikvpn_carryovers`, closed when they expire or stop counting.
 *
 * Upgrade: an account's current cycle allowance is taken as used first (what the balance holds
 * beyond what is left of it is kept), so switching a product to `carry` never expires traffic
 * an account had before.
 */
export class Rollover1765000000000 implements MigrationInterface {
  name = 'Rollover1765000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(
      `ALTER TABLE mod_mikrotikvpn_product_policies
         ADD COLUMN rollover VARCHAR(8) NOT NULL DEFAULT 'keep' COMMENT 'keep or carry: unused cycle traffic at renewal',
         ADD COLUMN rollover_max_bytes BIGINT UNSIGNED NULL COMMENT 'carry: the most carried-over traffic at once (NULL = no cap)',
         ADD COLUMN rollover_cycles TINYINT UNSIGNED NOT NULL DEFAULT 1 COMMENT 'carry: further cycles carried traffic lasts'`,
    );
    await q.query(
      `ALTER TABLE mod_mikrotikvpn_accounts
         ADD COLUMN kept_bytes BIGINT NOT NULL DEFAULT 0 COMMENT 'the part of the balance that never expires (used last)',
         ADD COLUMN cycle_credited_bytes BIGINT NOT NULL DEFAULT 0 COMMENT 'allowance credited in the current cycle',
         ADD COLUMN carried_bytes BIGINT NOT NULL DEFAULT 0 COMMENT 'carried-over traffic the current cycle started with (used first)'`,
    );
    await q.query(
      `UPDATE mod_mikrotikvpn_accounts
          SET cycle_credited_bytes = cycle_allowance_bytes,
              kept_bytes = GREATEST(0, CAST(balance_bytes AS SIGNED)
                - GREATEST(0, CAST(cycle_allowance_bytes AS SIGNED) - CAST(cycle_used_bytes AS SIGNED)))
        WHERE unlimited = 0`,
    );
    await q.query(
      `ALTER TABLE mod_mikrotikvpn_traffic_topups
         MODIFY COLUMN kind ENUM('CYCLE','ADDON','ADJUSTMENT','NOTE','ROLLOVER') NOT NULL,
         ADD COLUMN period VARCHAR(21) NULL COMMENT 'ROLLOVER lines: the cycle the traffic came from, YYYY-MM-DD/YYYY-MM-DD'`,
    );
    await q.query(`
      CREATE TABLE mod_mikrotikvpn_carryovers (
        id INT UNSIGNED NOT NULL AUTO_INCREMENT,
        account_id INT UNSIGNED NOT NULL,
        topup_id INT UNSIGNED NOT NULL COMMENT 'the CARRIED_OVER line',
        period VARCHAR(21) NOT NULL COMMENT 'the cycle it came from, YYYY-MM-DD/YYYY-MM-DD',
        carried_bytes BIGINT UNSIGNED NOT NULL,
        left_bytes BIGINT UNSIGNED NOT NULL COMMENT 'what was left of it when the current cycle started',
        cycles_left TINYINT UNSIGNED NOT NULL COMMENT 'renewals until it expires',
        expires_at DATETIME(3) NULL COMMENT 'expected: the due date ending its last cycle (WHMCS time zone)',
        closed_at DATETIME(3) NULL COMMENT 'expired, used up, or kept (policy back to keep)',
        PRIMARY KEY (id),
        KEY ix_carryovers_open (account_id, closed_at),
        CONSTRAINT fk_carryovers_account FOREIGN KEY (account_id) REFERENCES mod_mikrotikvpn_accounts (id)
      ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`);
  }

  async down(q: QueryRunner): Promise<void> {
    // Without rollover a balance is one amount again; the history keeps its lines, as adjustments.
    await q.query('DROP TABLE mod_mikrotikvpn_carryovers');
    await q.query("UPDATE mod_mikrotikvpn_traffic_topups SET kind = 'ADJUSTMENT' WHERE kind = 'ROLLOVER'");
    await q.query(
      `ALTER TABLE mod_mikrotikvpn_traffic_topups
         MODIFY COLUMN kind ENUM('CYCLE','ADDON','ADJUSTMENT','NOTE') NOT NULL,
         DROP COLUMN period`,
    );
    await q.query(
      'ALTER TABLE mod_mikrotikvpn_accounts DROP COLUMN kept_bytes, DROP COLUMN cycle_credited_bytes, DROP COLUMN carried_bytes',
    );
    await q.query(
      'ALTER TABLE mod_mikrotikvpn_product_policies DROP COLUMN rollover, DROP COLUMN rollover_max_bytes, DROP COLUMN rollover_cycles',
    );
  }
}
