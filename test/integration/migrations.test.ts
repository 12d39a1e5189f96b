import { expect } from 'chai';
import { createTestDatabase, type TestDatabase } from '../helpers/test-db';
import { runCli } from '../helpers/cli';
import { WhmcsFixtures } from '../helpers/whmcs-fixtures';

const OUR_TABLES = [
  'mod_mikrotikvpn_accounts',
  'mod_mikrotikvpn_api_keys',
  'mod_mikrotikvpn_client_token_revocations',
  'mod_mikrotikvpn_events',
  'mod_mikrotikvpn_notifications',
  'mod_mikrotikvpn_routers',
  'mod_mikrotikvpn_traffic_daily',
  'mod_mikrotikvpn_traffic_samples',
  'mod_mikrotikvpn_traffic_topups',
];

describe('migrations on MariaDB', function () {
  let tdb: TestDatabase;
  const tables = async () =>
    ((await tdb.dataSource.query('SHOW TABLES')) as Record<string, string>[])
      .map((r) => Object.values(r)[0])
      .sort();

  before(async () => {
    tdb = await createTestDatabase({ migrate: false });
  });
  after(() => tdb?.drop());

  it('runs up, reverts down, and runs up again through the CLI, never touching WHMCS tables', async () => {
    const whmcsTables = await tables();
    const up = await runCli(['migrate'], { DATABASE_URL: tdb.url });
    expect(up.code, up.stderr).to.equal(0);
    expect(up.stdout).to.include('applied CreateProductTables');
    expect(await tables()).to.include.members(OUR_TABLES);

    const again = await runCli(['migrate'], { DATABASE_URL: tdb.url });
    expect(again.stdout).to.include('no pending migrations');

    const applied = up.stdout.split('\n').filter((l) => l.startsWith('applied ')).length;
    expect(applied).to.be.at.least(2);
    for (let i = 0; i < applied; i++) {
      const down = await runCli(['migrate', '--revert'], { DATABASE_URL: tdb.url });
      expect(down.code, down.stderr).to.equal(0);
    }
    expect((await tables()).filter((t) => t !== 'mod_mikrotikvpn_migrations')).to.deep.equal(whmcsTables);

    expect((await runCli(['migrate'], { DATABASE_URL: tdb.url })).code).to.equal(0);
    expect(await tables()).to.include.members(OUR_TABLES);
  });

  it('an upgrade keeps the data and fills what billing now needs from it', async () => {
    const q = (sql: string, params: unknown[] = []) => tdb.dataSource.query(sql, params);
    // Back to the schema before the billing-correctness migration (and every later one), with data in it.
    const last = async () =>
      (
        (await q('SELECT name FROM mod_mikrotikvpn_migrations ORDER BY id DESC LIMIT 1')) as {
          name: string;
        }[]
      )[0].name;
    for (let i = 0; i < 20 && (await last()) !== 'RouterBootTime1764300000000'; i++) {
      const down = await runCli(['migrate', '--revert'], { DATABASE_URL: tdb.url });
      expect(down.code, down.stderr).to.equal(0);
    }
    expect(await last()).to.equal('RouterBootTime1764300000000');
    const productId = await new WhmcsFixtures(tdb.dataSource).product({
      name: 'Old VPN',
      settings: { commentPrefix: 'OLDPFX' },
    });
    const router = await q(
      "INSERT INTO mod_mikrotikvpn_routers (server_id, name, host, port, tls, username, password_encrypted, last_uptime_seconds) VALUES (77, 'r', 'h', 8729, 1, 'u', 'x', 3600)",
    );
    const account = await q(
      `INSERT INTO mod_mikrotikvpn_accounts (service_id, client_id, product_id, router_id, username, address, status,
         billing_cycle, balance_bytes, last_download_counter, last_upload_counter, counter_queue_id)
       VALUES (9001, 1, ?, ?, 'old1', '10.1.1.1', 'ACTIVE', 'Monthly', 5000, 700, 300, '*1A')`,
      [productId, router.insertId],
    );
    await q(
      `INSERT INTO mod_mikrotikvpn_traffic_topups (account_id, at, kind, bytes, balance_before_bytes, balance_after_bytes, idempotency_key, description)
       VALUES (?, '2026-11-01 10:00:00', 'CYCLE', 6000, 0, 6000, 'k1', 'Monthly traffic allowance')`,
      [account.insertId],
    );
    await q(
      `INSERT INTO mod_mikrotikvpn_traffic_daily (account_id, day, download_bytes, upload_bytes, balance_after_bytes)
       VALUES (?, '2026-10-31', 100, 0, 6100), (?, '2026-11-02', 700, 300, 5000)`,
      [account.insertId, account.insertId],
    );
    expect((await runCli(['migrate'], { DATABASE_URL: tdb.url })).code).to.equal(0);
    const [row] = await q(
      `SELECT balance_bytes, last_download_counter, counter_queue_id, counter_boot_epoch, queue_ros_id, comment_prefixes,
              cycle_used_bytes, protocol, wg_public_key FROM mod_mikrotikvpn_accounts WHERE id = ?`,
      [account.insertId],
    );
    expect(row).to.deep.equal({
      balance_bytes: '5000',
      last_download_counter: '700',
      counter_queue_id: '*1A',
      counter_boot_epoch: 0, // read in the router's current epoch: not a restart
      queue_ros_id: '*1A', // the queue the counters came from is ours
      comment_prefixes: '["OLDPFX"]', // the prefix its objects carry
      cycle_used_bytes: '1000', // since the last cycle credit
      protocol: 'ppp', // every account before WireGuard is a PPP one
      wg_public_key: null,
    });
    const [topUp] = await q(
      'SELECT kind, description, reason FROM mod_mikrotikvpn_traffic_topups WHERE account_id = ?',
      [account.insertId],
    );
    expect(topUp).to.deep.equal({ kind: 'CYCLE', description: 'Monthly traffic allowance', reason: null });
    const [r] = await q(
      'SELECT boot_epoch, last_uptime_seconds, last_read_at FROM mod_mikrotikvpn_routers WHERE id = ?',
      [router.insertId],
    );
    expect(r).to.deep.equal({ boot_epoch: 0, last_uptime_seconds: '3600', last_read_at: null });
    for (const t of ['mod_mikrotikvpn_traffic_daily', 'mod_mikrotikvpn_traffic_topups'])
      await q(`DELETE FROM ${t} WHERE account_id = ?`, [account.insertId]);
    await q('DELETE FROM mod_mikrotikvpn_accounts WHERE id = ?', [account.insertId]);
    await q('DELETE FROM mod_mikrotikvpn_routers WHERE id = ?', [router.insertId]);
  });

  describe('constraints that keep accounts consistent', () => {
    let routerId: number;
    const insertAccount = (
      serviceId: number,
      address: string,
      status = 'ACTIVE',
      username = `u${serviceId}`,
    ) =>
      tdb.dataSource.query(
        `INSERT INTO mod_mikrotikvpn_accounts (service_id, client_id, product_id, router_id, username, address, status, billing_cycle)
         VALUES (?, 1, 1, ?, ?, ?, ?, 'Monthly')`,
        [serviceId, routerId, username, address, status],
      );

    before(async () => {
      const r = await tdb.dataSource.query(
        "INSERT INTO mod_mikrotikvpn_routers (server_id, name, host, port, tls, username, password_encrypted) VALUES (1, 'r', 'h', 8729, 1, 'u', 'x')",
      );
      routerId = r.insertId;
    });

    it('gives an address to one live account per router only', async () => {
      await insertAccount(1, '10.0.0.2');
      let error: Error | undefined;
      await insertAccount(2, '10.0.0.2').catch((e: Error) => (error = e));
      expect(error?.message).to.match(/Duplicate entry/);
    });

    it('frees the address and the service of a terminated account for reuse', async () => {
      await tdb.dataSource.query(
        "UPDATE mod_mikrotikvpn_accounts SET status = 'TERMINATED' WHERE service_id = 1",
      );
      await insertAccount(3, '10.0.0.2');
      await insertAccount(1, '10.0.0.5', 'ACTIVE', 'u1');
      const rows = await tdb.dataSource.query(
        'SELECT service_id, status FROM mod_mikrotikvpn_accounts WHERE service_id = 1 ORDER BY id',
      );
      expect(rows.map((r: { status: string }) => r.status)).to.deep.equal(['TERMINATED', 'ACTIVE']);
    });

    it('allows one live account per service', async () => {
      let error: Error | undefined;
      await insertAccount(3, '10.0.0.9', 'ACTIVE', 'other').catch((e: Error) => (error = e));
      expect(error?.message).to.match(/Duplicate entry/);
    });
  });
});
