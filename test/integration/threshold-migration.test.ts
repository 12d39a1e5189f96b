import { expect } from 'chai';
import { createTestDatabase, type TestDatabase } from '../helpers/test-db';
import { runCli } from '../helpers/cli';
import { WhmcsFixtures } from '../helpers/whmcs-fixtures';

const MIGRATION = 'TrafficThresholds1764850000000';

/**
 * The upgrade to several thresholds: an account that already had this cycle's low-traffic email
 * (the single "less than X GB" threshold) has that threshold reached after the upgrade, so no
 * second email goes out for it; other cycles and the other notices are left alone.
 */
describe('migration: notification thresholds keep what the single threshold already sent', function () {
  let tdb: TestDatabase;
  const q = (sql: string, params: unknown[] = []) => tdb.dataSource.query(sql, params);
  const applied = async () =>
    ((await q('SELECT name FROM mod_mikrotikvpn_migrations')) as { name: string }[]).map((r) => r.name);

  before(async () => {
    tdb = await createTestDatabase();
  });
  after(() => tdb?.drop());

  it('marks the old threshold reached for the cycles whose low-traffic notice exists', async () => {
    for (let i = 0; i < 10 && (await applied()).includes(MIGRATION); i++) {
      const down = await runCli(['migrate', '--revert'], { DATABASE_URL: tdb.url });
      expect(down.code, down.stderr).to.equal(0);
    }
    expect(await applied()).to.not.include(MIGRATION);
    const whmcs = new WhmcsFixtures(tdb.dataSource);
    const seed = await whmcs.product({ name: 'Seed', settings: { trafficMonthlyGb: '10' } }); // default 10
    const custom = await whmcs.product({ name: 'Custom', settings: { lowTrafficThresholdGb: '2.50' } });
    const router = await q(
      "INSERT INTO mod_mikrotikvpn_routers (server_id, name, host, port, tls, username, password_encrypted) VALUES (91, 'r', 'h', 8729, 1, 'u', 'x')",
    );
    const account = async (serviceId: number, productId: number) =>
      (
        await q(
          `INSERT INTO mod_mikrotikvpn_accounts (service_id, client_id, product_id, router_id, username, address, status, billing_cycle)
           VALUES (?, 1, ?, ?, ?, ?, 'ACTIVE', 'Monthly')`,
          [serviceId, productId, router.insertId, `m${serviceId}`, `10.3.0.${serviceId - 9000}`],
        )
      ).insertId as number;
    const a = await account(9001, seed);
    const b = await account(9002, custom);
    const notice = (accountId: number, serviceId: number, kind: string, key: string) =>
      q(
        `INSERT INTO mod_mikrotikvpn_notifications (account_id, service_id, kind, dedupe_key, template, merge_fields, created_at)
         VALUES (?, ?, ?, ?, 'VPN low', '{}', '2026-11-20 10:00:00.000')`,
        [accountId, serviceId, kind, key],
      );
    await notice(a, 9001, 'LOW_TRAFFIC', `low:${a}:cycle-7`);
    await notice(b, 9002, 'LOW_TRAFFIC', `low:${b}:cycle-0`);
    await notice(b, 9002, 'LIMITED', `limited:${b}:cycle-0`);

    const up = await runCli(['migrate'], { DATABASE_URL: tdb.url });
    expect(up.code, up.stderr).to.equal(0);
    const rows = await q(
      `SELECT account_id, cycle_topup_id, threshold, label, bound_bytes, reached_at, times
         FROM mod_mikrotikvpn_threshold_states ORDER BY account_id`,
    );
    expect(rows).to.deep.equal([
      {
        account_id: a,
        cycle_topup_id: 7,
        threshold: 'remaining:10000000000',
        label: '10 GB',
        bound_bytes: '10000000000',
        reached_at: new Date('2026-11-20T10:00:00Z'),
        times: 1,
      },
      {
        account_id: b,
        cycle_topup_id: 0,
        threshold: 'remaining:2500000000',
        label: '2.5 GB',
        bound_bytes: '2500000000',
        reached_at: new Date('2026-11-20T10:00:00Z'),
        times: 1,
      },
    ]);
  });
});
