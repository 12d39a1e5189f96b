import { expect } from 'chai';
import { createTestDatabase, type TestDatabase } from '../helpers/test-db';
import { runCli } from '../helpers/cli';
import { WhmcsFixtures } from '../helpers/whmcs-fixtures';
import { balanceParts, planRenewal } from '../../src/services/traffic/rollover';

const MIGRATION = 'Rollover1765000000000';
const GB = 1_000_000_000n;

/**
 * The upgrade to rollover: balances from before were one amount, gathered over many renewals. The
 * migration counts what is left of the current cycle's allowance as the allowance and the rest as
 * kept, so a product switched to `carry` afterwards expires at most this cycle's unused allowance,
 * never traffic the account had before.
 */
describe('migration: rollover keeps the balances from before', function () {
  let tdb: TestDatabase;
  const q = (sql: string, params: unknown[] = []) => tdb.dataSource.query(sql, params);
  const applied = async () =>
    ((await q('SELECT name FROM mod_mikrotikvpn_migrations')) as { name: string }[]).map((r) => r.name);

  before(async () => {
    tdb = await createTestDatabase();
  });
  after(() => tdb?.drop());

  it('takes the current allowance as used first, keeps the rest, and reverts cleanly', async () => {
    for (let i = 0; i < 10 && (await applied()).includes(MIGRATION); i++) {
      const down = await runCli(['migrate', '--revert'], { DATABASE_URL: tdb.url });
      expect(down.code, down.stderr).to.equal(0);
    }
    expect(await applied()).to.not.include(MIGRATION);
    const whmcs = new WhmcsFixtures(tdb.dataSource);
    const productId = await whmcs.product({ name: 'Old', settings: { trafficMonthlyGb: '10' } });
    const router = await q(
      "INSERT INTO mod_mikrotikvpn_routers (server_id, name, host, port, tls, username, password_encrypted) VALUES (92, 'r', 'h', 8729, 1, 'u', 'x')",
    );
    const account = (serviceId: number, balance: bigint, used: bigint, unlimited = 0) =>
      q(
        `INSERT INTO mod_mikrotikvpn_accounts (service_id, client_id, product_id, router_id, username, address, status,
           billing_cycle, balance_bytes, cycle_allowance_bytes, cycle_used_bytes, unlimited)
         VALUES (?, 1, ?, ?, ?, ?, 'ACTIVE', 'Monthly', ?, ?, ?, ?)`,
        [
          serviceId,
          productId,
          router.insertId,
          `r${serviceId}`,
          `10.4.0.${serviceId - 9000}`,
          balance.toString(),
          unlimited ? '0' : (10n * GB).toString(),
          used.toString(),
          unlimited,
        ],
      );
    await account(9001, 50n * GB, 3n * GB); // many cycles gathered; 7 GB of this cycle's 10 left
    await account(9002, 2n * GB, 12n * GB); // more used than the allowance: all of it gone
    await account(9003, -1n * GB, 11n * GB); // overrun
    await account(9004, 0n, 5n * GB, 1); // unlimited

    const up = await runCli(['migrate'], { DATABASE_URL: tdb.url });
    expect(up.code, up.stderr).to.equal(0);
    const rows: {
      service_id: number;
      balance_bytes: string;
      kept_bytes: string;
      carried_bytes: string;
      cycle_credited_bytes: string;
    }[] = await q(
      'SELECT service_id, balance_bytes, kept_bytes, carried_bytes, cycle_credited_bytes FROM mod_mikrotikvpn_accounts ORDER BY service_id',
    );
    const columns = rows.map((r) => ({
      balance: BigInt(r.balance_bytes),
      kept: BigInt(r.kept_bytes),
      carried: BigInt(r.carried_bytes),
      credited: BigInt(r.cycle_credited_bytes),
    }));
    expect(columns.map((c) => [c.kept / GB, c.credited / GB, c.carried])).to.deep.equal([
      [43n, 10n, 0n],
      [2n, 10n, 0n],
      [0n, 10n, 0n],
      [0n, 0n, 0n],
    ]);
    // A renewal under carry with nothing carried (cap 0) expires only this cycle's 7 GB left.
    const plan = planRenewal(columns[0], [], { rollover: 'carry', rolloverMaxBytes: 0n });
    expect([plan.unusedBytes, plan.carriedOverBytes, plan.kept]).to.deep.equal([7n * GB, 0n, 43n * GB]);
    expect(balanceParts(columns[1])).to.deep.equal({ carried: 0n, allowance: 0n, kept: 2n * GB });

    const down = await runCli(['migrate', '--revert'], { DATABASE_URL: tdb.url });
    expect(down.code, down.stderr).to.equal(0);
    expect(await applied()).to.not.include(MIGRATION);
    const [{ n }] = await q(
      "SELECT COUNT(*) AS n FROM information_schema.columns WHERE table_schema = DATABASE() AND column_name IN ('kept_bytes', 'period', 'rollover')",
    );
    expect(Number(n)).to.equal(0);
    const again = await runCli(['migrate'], { DATABASE_URL: tdb.url });
    expect(again.code, again.stderr).to.equal(0);
  });
});
