import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The product's own tables, beside WHMCS's in the same database (prefix mod_mikrotikvpn_).
 * Bytes are exact BIGINTs. No foreign keys point into WHMCS tables: WHMCS owns and may rewrite them.
 */
export class CreateProductTables1764000000000 implements MigrationInterface {
  name = 'CreateProductTables1764000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE mod_mikrotikvpn_routers (
        id INT UNSIGNED NOT NULL AUTO_INCREMENT,
        server_id INT NOT NULL COMMENT 'tblservers.id',
        name VARCHAR(255) NOT NULL,
        host VARCHAR(255) NOT NULL,
        port INT UNSIGNED NOT NULL,
        tls TINYINT(1) NOT NULL DEFAULT 1,
        username VARCHAR(255) NOT NULL,
        password_encrypted TEXT NOT NULL COMMENT 'AES-256-GCM: keyid:iv:tag:ciphertext',
        ca_pem TEXT NULL,
        fingerprint_sha256 VARCHAR(95) NULL,
        identity VARCHAR(255) NULL,
        version VARCHAR(64) NULL,
        last_uptime_seconds BIGINT UNSIGNED NULL,
        last_seen_at DATETIME(3) NULL,
        created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
        updated_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
        PRIMARY KEY (id),
        UNIQUE KEY uq_routers_server (server_id)
      ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`);

    await q.query(`
      CREATE TABLE mod_mikrotikvpn_accounts (
        id INT UNSIGNED NOT NULL AUTO_INCREMENT,
        service_id INT NOT NULL COMMENT 'tblhosting.id',
        client_id INT NOT NULL COMMENT 'tblclients.id',
        product_id INT NOT NULL COMMENT 'tblproducts.id',
        router_id INT UNSIGNED NOT NULL,
        username VARCHAR(64) NOT NULL,
        address VARCHAR(45) NOT NULL,
        status ENUM('PENDING','ACTIVE','SUSPENDED','LIMITED','TERMINATED') NOT NULL DEFAULT 'PENDING',
        status_reason VARCHAR(255) NULL,
        suspended TINYINT(1) NOT NULL DEFAULT 0 COMMENT 'suspended by WHMCS or an admin, independent of traffic',
        billing_cycle VARCHAR(32) NOT NULL,
        balance_bytes BIGINT NOT NULL DEFAULT 0,
        cycle_allowance_bytes BIGINT UNSIGNED NOT NULL DEFAULT 0,
        unlimited TINYINT(1) NOT NULL DEFAULT 0,
        last_download_counter BIGINT UNSIGNED NOT NULL DEFAULT 0,
        last_upload_counter BIGINT UNSIGNED NOT NULL DEFAULT 0,
        last_counters_at DATETIME(3) NULL,
        terminated_at DATETIME(3) NULL,
        created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
        updated_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
        live_service_id INT AS (IF(status = 'TERMINATED', NULL, service_id)) PERSISTENT,
        live_address VARCHAR(45) AS (IF(status = 'TERMINATED', NULL, address)) PERSISTENT,
        live_username VARCHAR(64) AS (IF(status = 'TERMINATED', NULL, username)) PERSISTENT,
        PRIMARY KEY (id),
        UNIQUE KEY uq_accounts_live_service (live_service_id),
        UNIQUE KEY uq_accounts_router_live_address (router_id, live_address),
        UNIQUE KEY uq_accounts_router_live_username (router_id, live_username),
        KEY ix_accounts_service (service_id),
        KEY ix_accounts_router_status (router_id, status),
        KEY ix_accounts_product (product_id),
        KEY ix_accounts_client (client_id),
        KEY ix_accounts_status (status),
        CONSTRAINT fk_accounts_router FOREIGN KEY (router_id) REFERENCES mod_mikrotikvpn_routers (id)
      ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`);

    await q.query(`
      CREATE TABLE mod_mikrotikvpn_traffic_samples (
        id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
        account_id INT UNSIGNED NOT NULL,
        at DATETIME(3) NOT NULL,
        download_bytes BIGINT UNSIGNED NOT NULL,
        upload_bytes BIGINT UNSIGNED NOT NULL,
        balance_after_bytes BIGINT NOT NULL,
        PRIMARY KEY (id),
        KEY ix_samples_account_at (account_id, at),
        KEY ix_samples_at (at),
        CONSTRAINT fk_samples_account FOREIGN KEY (account_id) REFERENCES mod_mikrotikvpn_accounts (id)
      ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`);

    await q.query(`
      CREATE TABLE mod_mikrotikvpn_traffic_daily (
        account_id INT UNSIGNED NOT NULL,
        day DATE NOT NULL COMMENT 'in the WHMCS time zone',
        download_bytes BIGINT UNSIGNED NOT NULL DEFAULT 0,
        upload_bytes BIGINT UNSIGNED NOT NULL DEFAULT 0,
        balance_after_bytes BIGINT NOT NULL DEFAULT 0,
        PRIMARY KEY (account_id, day),
        CONSTRAINT fk_daily_account FOREIGN KEY (account_id) REFERENCES mod_mikrotikvpn_accounts (id)
      ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`);

    await q.query(`
      CREATE TABLE mod_mikrotikvpn_traffic_topups (
        id INT UNSIGNED NOT NULL AUTO_INCREMENT,
        account_id INT UNSIGNED NOT NULL,
        at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
        kind ENUM('CYCLE','ADDON','ADJUSTMENT') NOT NULL,
        bytes BIGINT NOT NULL,
        balance_before_bytes BIGINT NOT NULL,
        balance_after_bytes BIGINT NOT NULL,
        idempotency_key VARCHAR(191) NOT NULL,
        invoice_id INT NULL,
        description VARCHAR(500) NOT NULL DEFAULT '',
        actor VARCHAR(128) NOT NULL DEFAULT '',
        PRIMARY KEY (id),
        UNIQUE KEY uq_topups_idempotency (idempotency_key),
        KEY ix_topups_account_at (account_id, at),
        CONSTRAINT fk_topups_account FOREIGN KEY (account_id) REFERENCES mod_mikrotikvpn_accounts (id)
      ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`);

    await q.query(`
      CREATE TABLE mod_mikrotikvpn_notifications (
        id INT UNSIGNED NOT NULL AUTO_INCREMENT,
        account_id INT UNSIGNED NOT NULL,
        service_id INT NOT NULL,
        kind ENUM('LOW_TRAFFIC','LIMITED') NOT NULL,
        dedupe_key VARCHAR(191) NOT NULL,
        template VARCHAR(255) NOT NULL,
        merge_fields TEXT NOT NULL COMMENT 'JSON',
        created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
        attempts INT UNSIGNED NOT NULL DEFAULT 0,
        last_error VARCHAR(500) NULL,
        acknowledged_at DATETIME(3) NULL,
        PRIMARY KEY (id),
        UNIQUE KEY uq_notifications_dedupe (dedupe_key),
        KEY ix_notifications_pending (acknowledged_at, id),
        CONSTRAINT fk_notifications_account FOREIGN KEY (account_id) REFERENCES mod_mikrotikvpn_accounts (id)
      ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`);

    await q.query(`
      CREATE TABLE mod_mikrotikvpn_api_keys (
        id INT UNSIGNED NOT NULL AUTO_INCREMENT,
        name VARCHAR(64) NOT NULL,
        scope ENUM('admin','read') NOT NULL,
        key_prefix VARCHAR(16) NOT NULL COMMENT 'first characters, to recognise a key in lists',
        key_hash CHAR(64) NOT NULL COMMENT 'SHA-256 of the whole key (256 random bits)',
        created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
        last_used_at DATETIME(3) NULL,
        revoked_at DATETIME(3) NULL,
        PRIMARY KEY (id),
        UNIQUE KEY uq_api_keys_hash (key_hash),
        UNIQUE KEY uq_api_keys_name (name)
      ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`);

    await q.query(`
      CREATE TABLE mod_mikrotikvpn_events (
        id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
        at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
        account_id INT UNSIGNED NULL,
        service_id INT NULL,
        router_id INT UNSIGNED NULL,
        action VARCHAR(64) NOT NULL,
        actor VARCHAR(128) NOT NULL,
        result ENUM('OK','FAILED') NOT NULL,
        message VARCHAR(1000) NULL,
        PRIMARY KEY (id),
        KEY ix_events_service_at (service_id, at),
        KEY ix_events_router_at (router_id, at),
        KEY ix_events_at (at)
      ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const table of [
      'events',
      'api_keys',
      'notifications',
      'traffic_topups',
      'traffic_daily',
      'traffic_samples',
      'accounts',
      'routers',
    ]) {
      await q.query(`DROP TABLE IF EXISTS mod_mikrotikvpn_${table}`);
    }
  }
}
