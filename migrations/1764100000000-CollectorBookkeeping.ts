import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * What the traffic collector needs to be exact: the raw counters and queue id behind every sample
 * (an audit trail of each delta, and re-created queues detected by id), and the batch a sample
 * belongs to so a router's batch is written with a fixed number of statements.
 */
export class CollectorBookkeeping1764100000000 implements MigrationInterface {
  name = 'CollectorBookkeeping1764100000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE mod_mikrotikvpn_traffic_samples
        ADD COLUMN batch_id BIGINT UNSIGNED NOT NULL DEFAULT 0 AFTER account_id,
        ADD COLUMN download_counter BIGINT UNSIGNED NOT NULL DEFAULT 0,
        ADD COLUMN upload_counter BIGINT UNSIGNED NOT NULL DEFAULT 0,
        ADD COLUMN queue_id VARCHAR(20) NOT NULL DEFAULT '',
        ADD KEY ix_samples_batch (batch_id)`);
    await q.query(`
      ALTER TABLE mod_mikrotikvpn_accounts
        ADD COLUMN counter_queue_id VARCHAR(20) NULL AFTER last_upload_counter`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE mod_mikrotikvpn_accounts DROP COLUMN counter_queue_id`);
    await q.query(`
      ALTER TABLE mod_mikrotikvpn_traffic_samples
        DROP KEY ix_samples_batch,
        DROP COLUMN batch_id,
        DROP COLUMN download_counter,
        DROP COLUMN upload_counter,
        DROP COLUMN queue_id`);
  }
}
