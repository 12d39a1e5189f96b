import { expect } from 'chai';
import { startStack, type Stack } from '../helpers/stack';
import { RouterAdmin } from '../helpers/router-admin';
import type { SimulatedRouter } from '../simulator/simulated-router';
import { Accounts, expectNoErrors } from './fault-fixtures';

const MB = 1_000_000n;
const ALLOWANCE = 100_000n * 1000n * MB;
const RUN = `mutation($f: CollectionFrequency) { collectTraffic(frequency: $f) { routers { ok rebooted error missingQueues } } }`;

/**
 * Issue "billing correctness", classes 2 and 3: counters that restart — `reset-counters`, a queue an
 * admin removed and re-created, a reboot seen by a run that skipped some accounts — are billed from
 * zero in both directions, for every account behind the router; and a queue's counters are read and
 * billed before the product removes it (terminate). Router changes are made through the API, with
 * the real routeros-api client, as an admin would.
 */
describe('faults: counter resets, re-created queues, reboots seen by other runs, final reads', function () {
  this.timeout(120_000);
  let stack: Stack;
  let sim: SimulatedRouter;
  let serverId: number;
  let admin: RouterAdmin;
  let cron: Accounts;
  let daily: Accounts;

  const collect = async (frequency?: 'CRON' | 'DAILY') => {
    const r = await cron.call(RUN, { f: frequency ?? null });
    expectNoErrors(r);
    const run = r.data!.collectTraffic.routers[0];
    expect(run.ok, run.error ?? '').to.equal(true);
    return run as { rebooted: boolean; missingQueues: number[] };
  };
  const billed = async (accounts: Accounts, serviceId: number) =>
    ALLOWANCE - (await accounts.balance(serviceId));
  /** Traffic as the customer sees it: download to them, upload from them (queue bytes are up/down). */
  const push = (address: string, downloadMb: bigint, uploadMb: bigint) =>
    sim.pushTraffic(address, downloadMb * MB, uploadMb * MB);

  before(async () => {
    stack = await startStack();
    ({ sim, serverId } = await stack.addRouter({
      assignedips: Array.from({ length: 20 }, (_, i) => `10.78.0.${i + 2}`),
    }));
    sim.state.bootTime = Date.now() - 86_400_000;
    admin = new RouterAdmin(sim);
    const client = await stack.whmcs.client();
    const cronProduct = await stack.whmcs.product({ settings: { trafficMonthlyGb: '100000' } });
    const dailyProduct = await stack.whmcs.product({
      settings: { trafficMonthlyGb: '100000', collectionFrequency: 'daily' },
    });
    cron = new Accounts(stack, client, cronProduct, 78_000);
    daily = new Accounts(stack, client, dailyProduct, 78_500);
  });
  after(async () => {
    await admin?.close();
    await stack?.stop();
  });

  it('reset-counters: both directions start again together (100 up / 300 down, then 200 up / 10 down = 610 MB)', async () => {
    const a = await cron.create(serverId, 'reset1');
    await collect();
    push(a.address, 300n, 100n);
    await collect();
    await admin.run([
      '/queue/simple/reset-counters',
      `=numbers=${await admin.idOf('/queue/simple', `vpn-${a.serviceId}`)}`,
    ]);
    push(a.address, 10n, 200n); // upload climbs above its old value, download stays below
    await collect();
    expect(await billed(cron, a.serviceId)).to.equal(610n * MB);
    // Neither direction is counted twice afterwards.
    push(a.address, 5n, 5n);
    await collect();
    expect(await billed(cron, a.serviceId)).to.equal(620n * MB);
  });

  it('a queue removed and re-created by hand (new id, same name) is billed from zero, even when already above', async () => {
    const a = await cron.create(serverId, 'recreate1');
    push(a.address, 100n, 100n);
    await collect();
    const queue = sim.state.findQueue(`vpn-${a.serviceId}`)!;
    await admin.run(['/queue/simple/remove', `=numbers=${queue.id}`]);
    await admin.run([
      '/queue/simple/add',
      `=name=vpn-${a.serviceId}`,
      `=target=${a.address}/32`,
      `=comment=${queue.comment}`,
    ]);
    push(a.address, 300n, 150n); // both directions above their old values
    await collect();
    expect(await billed(cron, a.serviceId)).to.equal(650n * MB);
  });

  it('a reboot seen by the every-cron run is remembered for daily products: 200 MB before + 300 MB after', async () => {
    const d = await daily.create(serverId, 'daily1');
    const c = await cron.create(serverId, 'cron1');
    await collect('DAILY');
    push(d.address, 200n, 0n);
    push(c.address, 20n, 0n);
    await collect('DAILY');
    expect(await billed(daily, d.serviceId)).to.equal(200n * MB);
    sim.reboot();
    push(d.address, 300n, 0n); // more than before the reboot: only the restart tells
    push(c.address, 30n, 0n);
    const cronRun = await collect('CRON'); // sees the reboot, skips the daily product
    expect(cronRun.rebooted).to.equal(true);
    expect(await billed(daily, d.serviceId)).to.equal(200n * MB);
    expect(await billed(cron, c.serviceId)).to.equal(50n * MB);
    push(d.address, 100n, 0n);
    const dailyRun = await collect('DAILY');
    expect(dailyRun.rebooted).to.equal(false);
    expect(await billed(daily, d.serviceId)).to.equal(600n * MB);
    expect(await billed(cron, c.serviceId)).to.equal(50n * MB);
  });

  it('terminate reads and bills the traffic since the last collection before it removes the queue', async () => {
    const a = await cron.create(serverId, 'term1');
    sim.connect('term1');
    push(a.address, 400n, 24n);
    await collect();
    push(a.address, 900n, 24n); // not collected yet
    const [{ id }] = await stack.db.query(
      "SELECT id FROM mod_mikrotikvpn_accounts WHERE service_id = ? AND status <> 'TERMINATED'",
      [a.serviceId],
    );
    const t = await cron.call(`mutation($s: Int!) { terminateVpnAccount(serviceId: $s) { status } }`, {
      s: a.serviceId,
    });
    expectNoErrors(t);
    expect(sim.state.findQueue(`vpn-${a.serviceId}`)).to.equal(undefined);
    const [row] = await stack.db.query(
      'SELECT balance_bytes, (SELECT SUM(download_bytes + upload_bytes) FROM mod_mikrotikvpn_traffic_samples WHERE account_id = ?) AS samples FROM mod_mikrotikvpn_accounts WHERE id = ?',
      [id, id],
    );
    expect(ALLOWANCE - BigInt(row.balance_bytes)).to.equal(1348n * MB);
    expect(BigInt(row.samples)).to.equal(1348n * MB);
  });

  it('a daily product terminated after a reboot bills what was counted since, from zero', async () => {
    sim.state.bootTime = Date.now() - 3_600_000; // up for an hour since the last test's reboot
    const d = await daily.create(serverId, 'term2');
    push(d.address, 200n, 0n);
    await collect('DAILY');
    sim.reboot();
    push(d.address, 250n, 0n);
    const t = await daily.call(`mutation($s: Int!) { terminateVpnAccount(serviceId: $s) { status } }`, {
      s: d.serviceId,
    });
    expectNoErrors(t);
    const [row] = await stack.db.query(
      'SELECT balance_bytes FROM mod_mikrotikvpn_accounts WHERE service_id = ? ORDER BY id DESC LIMIT 1',
      [d.serviceId],
    );
    expect(ALLOWANCE - BigInt(row.balance_bytes)).to.equal(450n * MB);
  });
});
