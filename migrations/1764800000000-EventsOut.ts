import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Events out (issue #20): the outbox of domain events (written in the transaction of the change that
 * causes it, read by GraphQL subscriptions and fanned out to webhook endpoints in the same
 * transaction), the webhook endpoints (signing secret encrypted with the key ring), one delivery row
 * per event and endpoint (its lease, attempts and last outcome), and the router's reachability, so
 * that `router.unreachable` / `router.recovered` are emitted once per change, by any process, and
 * the status each account's events last announced.
 */
export class EventsOut1764800000000 implements MigrationInterface {
  name = 'EventsOut1764800000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE mod_mikrotikvpn_outbox (
        id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
        type VARCHAR(48) NOT NULL,
        at DATETIME(3) NOT NULL COMMENT 'database clock',
        account_id INT UNSIGNED NULL,
        service_id INT NULL,
        router_id INT UNSIGNED NULL,
        dedupe_key VARCHAR(128) NULL COMMENT 'one event per key (threshold: once per billing cycle)',
        payload TEXT NOT NULL COMMENT 'JSON: ids and byte amounts as strings, never secrets',
        PRIMARY KEY (id),
        UNIQUE KEY uq_outbox_dedupe (dedupe_key),
        KEY ix_outbox_service (service_id, id),
        KEY ix_outbox_at (at)
      ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`);
    await q.query(`
      CREATE TABLE mod_mikrotikvpn_webhook_endpoints (
        id INT UNSIGNED NOT NULL AUTO_INCREMENT,
        url VARCHAR(2048) NOT NULL,
        event_types VARCHAR(1024) NOT NULL DEFAULT '' COMMENT 'comma-separated; empty = every type',
        enabled TINYINT(1) NOT NULL DEFAULT 1,
        description VARCHAR(255) NOT NULL DEFAULT '',
        secret_encrypted TEXT NOT NULL COMMENT 'whsec_ secret under the key ring',
        failing_since DATETIME(3) NULL COMMENT 'a delivery gave up after its retry window',
        created_at DATETIME(3) NOT NULL,
        updated_at DATETIME(3) NOT NULL,
        PRIMARY KEY (id)
      ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`);
    await q.query(`
      CREATE TABLE mod_mikrotikvpn_webhook_deliveries (
        id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
        event_id BIGINT UNSIGNED NOT NULL,
        endpoint_id INT UNSIGNED NOT NULL,
        status VARCHAR(16) NOT NULL COMMENT 'PENDING, IN_FLIGHT, DELIVERED, FAILED',
        next_attempt_at DATETIME(3) NOT NULL COMMENT 'PENDING: due time; IN_FLIGHT: lease expiry',
        lease_owner VARCHAR(64) NULL,
        attempts INT UNSIGNED NOT NULL DEFAULT 0,
        response_code SMALLINT UNSIGNED NULL,
        duration_ms INT UNSIGNED NULL,
        last_error VARCHAR(500) NULL,
        created_at DATETIME(3) NOT NULL,
        last_attempt_at DATETIME(3) NULL,
        delivered_at DATETIME(3) NULL,
        PRIMARY KEY (id),
        UNIQUE KEY uq_deliveries_event_endpoint (event_id, endpoint_id),
        KEY ix_deliveries_due (status, next_attempt_at),
        KEY ix_deliveries_endpoint (endpoint_id, id)
      ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`);
    await q.query(
      `ALTER TABLE mod_mikrotikvpn_routers ADD COLUMN unreachable_since DATETIME(3) NULL COMMENT 'set by the first failed collection, cleared by the next good one'`,
    );
    await q.query(
      `ALTER TABLE mod_mikrotikvpn_accounts ADD COLUMN announced_status ENUM('PENDING','ACTIVE','SUSPENDED','LIMITED','TERMINATED') NULL
         COMMENT 'the last status its events announced: a change that waited in PENDING for the router is announced once, from this'`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE mod_mikrotikvpn_accounts DROP COLUMN announced_status');
    await q.query('ALTER TABLE mod_mikrotikvpn_routers DROP COLUMN unreachable_since');
    await q.query('DROP TABLE mod_mikrotikvpn_webhook_deliveries');
    await q.query('DROP TABLE mod_mikrotikvpn_webhook_endpoints');
    await q.query('DROP TABLE mod_mikrotikvpn_outbox');
  }
}
