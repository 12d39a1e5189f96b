import { expect } from 'chai';
import { createTestDatabase, type TestDatabase } from '../helpers/test-db';
import { runCli } from '../helpers/cli';

const OUR_TABLES = [
  'mod_mikrotikvpn_accounts',
  'mod_mikrotikvpn_api_keys',
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
