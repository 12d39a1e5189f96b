import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The router's boot time as the collector last estimated it (collection time − uptime). A boot time
 * that moved forward means a reboot, even when the new uptime is already longer than the last one
 * seen (two reboots minutes apart, or a collector outage longer than the uptime).
 */
export class RouterBootTime1764300000000 implements MigrationInterface {
  name = 'RouterBootTime1764300000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE mod_mikrotikvpn_routers
        ADD COLUMN last_boot_at DATETIME(3) NULL AFTER last_uptime_seconds`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE mod_mikrotikvpn_routers DROP COLUMN last_boot_at`);
  }
}
