import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * What a PENDING account was going to become. Most actions converge to the status the account's
 * own columns describe (suspended, balance), but a terminate that failed half-way must be finished,
 * never undone: `pending_action = 'terminate'` tells reconcile and the next call to remove the rest.
 */
export class PendingAction1764200000000 implements MigrationInterface {
  name = 'PendingAction1764200000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE mod_mikrotikvpn_accounts
        ADD COLUMN pending_action VARCHAR(16) NULL AFTER status_reason`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE mod_mikrotikvpn_accounts DROP COLUMN pending_action`);
  }
}
