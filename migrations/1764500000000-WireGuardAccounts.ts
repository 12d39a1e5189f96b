import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * WireGuard accounts beside PPP ones (issue: WireGuard accounts): the protocol of each account, its
 * peer's public key and RouterOS id, and the client's private and preshared keys encrypted with the
 * key ring (`<key id>:<iv>:<tag>:<ciphertext>`, as router passwords), so the customer can download
 * the config again. A removal left on a router that was away remembers the peer too.
 */
export class WireGuardAccounts1764500000000 implements MigrationInterface {
  name = 'WireGuardAccounts1764500000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE mod_mikrotikvpn_accounts
        ADD COLUMN protocol VARCHAR(16) NOT NULL DEFAULT 'ppp' COMMENT 'ppp or wireguard' AFTER address,
        ADD COLUMN wg_public_key VARCHAR(44) NULL,
        ADD COLUMN wg_private_key VARCHAR(255) NULL COMMENT 'encrypted with the key ring',
        ADD COLUMN wg_preshared_key VARCHAR(255) NULL COMMENT 'encrypted with the key ring',
        ADD COLUMN peer_ros_id VARCHAR(20) NULL`);
    await q.query(`
      ALTER TABLE mod_mikrotikvpn_router_removals
        ADD COLUMN peer_ros_id VARCHAR(20) NULL,
        ADD COLUMN wg_public_key VARCHAR(44) NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE mod_mikrotikvpn_router_removals DROP COLUMN peer_ros_id, DROP COLUMN wg_public_key`);
    await q.query(`
      ALTER TABLE mod_mikrotikvpn_accounts
        DROP COLUMN protocol, DROP COLUMN wg_public_key, DROP COLUMN wg_private_key,
        DROP COLUMN wg_preshared_key, DROP COLUMN peer_ros_id`);
  }
}
