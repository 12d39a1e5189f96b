import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The session log (issue: session log): every VPN connection the collector sees, with its start
 * (from the session's uptime), its end (exact for our own actions, else between two readings: the
 * last reading that saw it and the first that did not), the caller, the address, the bytes counted
 * while it was open, and why it ended. One row per RouterOS session: the router, its boot epoch and
 * the session's `.id` are unique, so a reading repeated by another process or after a crash never
 * adds it twice.
 */
export class SessionLog1764700000000 implements MigrationInterface {
  name = 'SessionLog1764700000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE mod_mikrotikvpn_sessions (
        id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
        account_id INT UNSIGNED NOT NULL,
        router_id INT UNSIGNED NOT NULL,
        service_id INT NOT NULL,
        client_id INT NOT NULL,
        protocol VARCHAR(16) NOT NULL DEFAULT 'ppp',
        boot_epoch INT UNSIGNED NOT NULL,
        ros_session_id VARCHAR(20) NOT NULL COMMENT '/ppp/active .id',
        service VARCHAR(16) NULL COMMENT 'l2tp, sstp, pppoe, ...',
        caller_id VARCHAR(64) NULL,
        address VARCHAR(45) NULL,
        started_at DATETIME(3) NOT NULL COMMENT 'database clock of the reading minus the session uptime',
        last_seen_at DATETIME(3) NOT NULL COMMENT 'the last reading that saw it',
        ended_at DATETIME(3) NULL COMMENT 'exact when end_exact; else the first reading that did not see it',
        end_exact TINYINT(1) NOT NULL DEFAULT 0,
        end_reason VARCHAR(64) NULL,
        download_bytes BIGINT UNSIGNED NOT NULL DEFAULT 0,
        upload_bytes BIGINT UNSIGNED NOT NULL DEFAULT 0,
        PRIMARY KEY (id),
        UNIQUE KEY uq_sessions_router_session (router_id, boot_epoch, ros_session_id),
        KEY ix_sessions_open (router_id, ended_at),
        KEY ix_sessions_service (service_id, started_at),
        KEY ix_sessions_address (address, started_at),
        KEY ix_sessions_caller (caller_id, started_at),
        KEY ix_sessions_account (account_id, ended_at)
      ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE mod_mikrotikvpn_sessions');
  }
}
