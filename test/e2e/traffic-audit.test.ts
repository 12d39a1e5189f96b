import { expect } from 'chai';
import { startStack, type Stack } from '../helpers/stack';
import { codeOf, gql } from '../helpers/test-server';
import { runCli } from '../helpers/cli';
import type { SimulatedRouter } from '../simulator/simulated-router';

const GB = 1_000_000_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;
const COLLECT = `mutation { collectTraffic { limited routers { routerId ok errorCode error rebooted samples } } }`;
const ACCOUNT = `query($s: Int!) { vpnAccount(serviceId: $s) { status traffic { balanceBytes } } }`;
const TOPUP = `mutation($i: TopUpTrafficInput!) { topUpTraffic(input: $i) { id kind bytes balanceBeforeBytes balanceAfterBytes } }`;
const RENEW = `mutation($s: Int!, $k: String!) { renewVpnAccount(serviceId: $s, cycleKey: $k) { kind bytes balanceBeforeBytes balanceAfterBytes } }`;

/** Gaps an audit of the traffic accounting found, each closed and proved here end to end. */
describe('traffic accounting: reboots, re-created accounts, missed limiting, failing routers, templates, pruning', function () {
  let stack: Stack;
  let sim: SimulatedRouter;
  let serverId: number;
  let routerId: string;
  let productId: number;
  let prunedId: number;
  let client: number;
  let next = 11000;

  const call = (query: string, variables: Record<string, unknown> = {}) =>
    gql(stack.server.url, query, variables, stack.admin);
  const account = async (s: number) => (await call(ACCOUNT, { s })).data!.vpnAccount;
  const create = async (serviceId: number, username: string, product: number, server: number) => {
    const r = await call(`mutation($i: CreateVpnAccountInput!) { createVpnAccount(input: $i) { address } }`, {
      i: {
        serviceId,
        serverId: server,
        productId: product,
        username,
        password: 'Passw0rd!',
        billingCycle: 'Monthly',
      },
    });
    if (r.errors) throw new Error(JSON.stringify(r.errors));
    return r.data!.createVpnAccount.address as string;
  };
  const newAccount = async (username: string, product = productId, server = serverId) => {
    const serviceId = await stack.whmcs.service({ id: ++next, userid: client, packageid: product, server });
    return { serviceId, address: await create(serviceId, username, product, server) };
  };
  const collect = async () => {
    const r = await call(COLLECT);
    expect(r.errors, JSON.stringify(r.errors)).to.equal(undefined);
    return r.data!.collectTraffic as {
      limited: number[];
      routers: {
        routerId: string;
        ok: boolean;
        errorCode: string | null;
        rebooted: boolean;
        samples: number;
      }[];
    };
  };

  before(async () => {
    stack = await startStack();
    ({ sim, serverId, routerId } = await stack.addRouter({
      assignedips: Array.from({ length: 20 }, (_, i) => `10.60.0.${i + 2}`),
    }));
    sim.state.bootTime = Date.now() - HOUR;
    client = await stack.whmcs.client({ firstname: 'Ada', lastname: 'Lovelace' });
    productId = await stack.whmcs.product({
      name: 'VPN 10 GB',
      settings: {
        trafficMonthlyGb: '10',
        historyDays: '0',
        lowTrafficThresholdGb: '2',
        lowTrafficTemplate: 'VPN low',
        limitedTemplate: 'VPN out',
      },
    });
    prunedId = await stack.whmcs.product({
      name: 'VPN 3 days of samples',
      settings: { trafficMonthlyGb: '10', historyDays: '3' },
    });
  });
  after(() => stack?.stop());

  it('detects a reboot by boot time when the new uptime is already longer than the last one seen', async () => {
    const a = await newAccount('r1');
    await collect();
    sim.pushTraffic(a.address, 2 * GB, 0);
    await collect(); // router up for 1 h
    // A collector outage: the last collection was 3 hours ago, when the router had been up for 1 hour.
    await stack.db.query(
      `UPDATE mod_mikrotikvpn_routers SET last_read_at = last_read_at - INTERVAL 3 HOUR,
              last_boot_at = last_boot_at - INTERVAL 3 HOUR, last_seen_at = last_seen_at - INTERVAL 3 HOUR
        WHERE id = ?`,
      [routerId],
    );
    sim.reboot(); // an hour after that collection: counters back to zero...
    sim.pushTraffic(a.address, 3 * GB, 0); // ...then more traffic than before the reboot
    sim.state.bootTime = Date.now() - 2 * HOUR; // up 2 h now: longer than the 1 h seen last time
    const report = await collect();
    expect(report.routers.find((r) => r.routerId === routerId)!.rebooted).to.equal(true);
    expect((await account(a.serviceId)).traffic.balanceBytes).to.equal(5 * GB);
    // No false reboot afterwards: the boot time stays put.
    sim.pushTraffic(a.address, 1 * GB, 0);
    const later = await collect();
    expect(later.routers.find((r) => r.routerId === routerId)!.rebooted).to.equal(false);
    expect((await account(a.serviceId)).traffic.balanceBytes).to.equal(4 * GB);
  });

  it("credits the renewal of a re-created service's new account, and refuses its old addon key", async () => {
    const a = await newAccount('n1');
    const addon = { serviceId: a.serviceId, bytes: 5 * GB, idempotencyKey: 'addon-3-inv-31', invoiceId: 31 };
    expect((await call(TOPUP, { i: addon })).errors).to.equal(undefined);
    expect(
      (await call(RENEW, { s: a.serviceId, k: 'due:2027-01-01' })).data!.renewVpnAccount,
    ).to.deep.include({ balanceBeforeBytes: 15 * GB, balanceAfterBytes: 25 * GB });
    const t = await call('mutation($s: Int!) { terminateVpnAccount(serviceId: $s) { status } }', {
      s: a.serviceId,
    });
    expect(t.data!.terminateVpnAccount.status, JSON.stringify(t.errors)).to.equal('TERMINATED');
    await create(a.serviceId, 'n1', productId, serverId);
    expect((await account(a.serviceId)).traffic.balanceBytes).to.equal(10 * GB);
    for (let i = 0; i < 2; i++) {
      const r = await call(RENEW, { s: a.serviceId, k: 'due:2027-01-01' });
      expect(r.data!.renewVpnAccount, JSON.stringify(r.errors)).to.deep.equal({
        kind: 'CYCLE',
        bytes: 10 * GB,
        balanceBeforeBytes: 10 * GB,
        balanceAfterBytes: 20 * GB,
      });
    }
    expect((await account(a.serviceId)).traffic.balanceBytes).to.equal(20 * GB);
    // The old account's addon key neither credits the new account nor answers with the old top-up.
    expect(codeOf(await call(TOPUP, { i: addon }))).to.equal('CONFLICT');
    expect((await account(a.serviceId)).traffic.balanceBytes).to.equal(20 * GB);
  });

  it('limits at once an adjustment that takes the balance to 0 or less', async () => {
    const a = await newAccount('l1');
    const r = await call(TOPUP, {
      i: {
        serviceId: a.serviceId,
        bytes: -10 * GB,
        idempotencyKey: 'abuse-1',
        kind: 'ADJUSTMENT',
        description: 'abuse',
      },
    });
    expect(r.data!.topUpTraffic, JSON.stringify(r.errors)).to.deep.include({ balanceAfterBytes: 0 });
    expect((await account(a.serviceId)).status).to.equal('LIMITED');
    expect(sim.state.findSecret('l1')!.disabled).to.equal(true);
  });

  it('limits, in the next run, a used-up account that was left active although it had no new traffic', async () => {
    const a = await newAccount('l2');
    await collect();
    // As after a crash between a run's commit and its limiting step: debited, still ACTIVE.
    await stack.db.query(
      "UPDATE mod_mikrotikvpn_accounts SET balance_bytes = -1 WHERE service_id = ? AND status = 'ACTIVE'",
      [a.serviceId],
    );
    const report = await collect();
    expect(report.limited).to.include(a.serviceId);
    expect((await account(a.serviceId)).status).to.equal('LIMITED');
    expect(sim.state.findSecret('l2')!.disabled).to.equal(true);
  });

  it('reports an unexpected error for its router only, and collects the others', async () => {
    const other = await stack.addRouter({ assignedips: ['10.61.0.2', '10.61.0.3'] });
    const a = await newAccount('e1');
    const b = await newAccount('e2', productId, other.serverId);
    await collect();
    sim.pushTraffic(a.address, 1 * GB, 0);
    other.sim.pushTraffic(b.address, 2 * GB, 0);
    // A database failure while this router's batch is written (not a router error).
    await stack.db.query(
      `CREATE TRIGGER test_fail_router BEFORE UPDATE ON mod_mikrotikvpn_routers FOR EACH ROW
         IF NEW.id = ${Number(other.routerId)} THEN SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'injected failure'; END IF`,
    );
    try {
      const report = await collect();
      const failed = report.routers.find((r) => r.routerId === other.routerId)!;
      expect(failed).to.deep.include({ ok: false, errorCode: 'INTERNAL_SERVER_ERROR' });
      expect(report.routers.find((r) => r.routerId === routerId)).to.deep.include({ ok: true, samples: 1 });
      expect((await account(a.serviceId)).traffic.balanceBytes).to.equal(9 * GB);
      expect((await account(b.serviceId)).traffic.balanceBytes).to.equal(10 * GB);
    } finally {
      await stack.db.query('DROP TRIGGER IF EXISTS test_fail_router');
    }
    // Nothing of the failed batch was lost.
    await collect();
    expect((await account(b.serviceId)).traffic.balanceBytes).to.equal(8 * GB);
  });

  it("gives notices the merge fields of the reference module's templates too", async () => {
    const a = await newAccount('m1');
    sim.pushTraffic(a.address, 8.5 * GB, 0);
    await collect();
    const [notice] = await stack.db.query(
      "SELECT merge_fields FROM mod_mikrotikvpn_notifications WHERE service_id = ? AND kind = 'LOW_TRAFFIC'",
      [a.serviceId],
    );
    expect(JSON.parse(notice.merge_fields)).to.deep.include({
      client_name: 'Ada Lovelace',
      service_product_name: 'VPN 10 GB',
      vpn_username: 'm1',
      vpn_balance_gb: '1.50',
      username: 'm1',
      traffic_balance_gb: '1.50',
      traffic_billingcycle_gb: '10.00',
      notification_traffic_remainder: '2.00',
    });
  });

  it("prunes samples older than the product's history days and keeps the daily totals", async () => {
    const a = await newAccount('p1', prunedId);
    const keep = await newAccount('p2'); // history 0: everything is kept
    for (const [x, bytes] of [
      [a, 1 * GB],
      [keep, 1 * GB],
    ] as const) {
      sim.pushTraffic(x.address, bytes, 0);
    }
    await collect();
    sim.pushTraffic(a.address, 2 * GB, 0);
    await collect();
    const ids = async (serviceId: number) =>
      (
        await stack.db.query(
          `SELECT s.id FROM mod_mikrotikvpn_traffic_samples s JOIN mod_mikrotikvpn_accounts a ON a.id = s.account_id
            WHERE a.service_id = ? ORDER BY s.id`,
          [serviceId],
        )
      ).map((r: { id: string }) => String(r.id));
    const [oldSample, recentSample] = await ids(a.serviceId);
    const [keptOld] = await ids(keep.serviceId);
    // Age the first samples by 5 days (older than 3), the second by 2 days (younger).
    const age = (id: string, ms: number) =>
      stack.db.query('UPDATE mod_mikrotikvpn_traffic_samples SET at = ? WHERE id = ?', [
        new Date(Date.now() - ms),
        id,
      ]);
    await age(oldSample, 5 * DAY);
    await age(keptOld, 5 * DAY);
    await age(recentSample, 2 * DAY);
    const daily = async (serviceId: number) =>
      stack.db.query(
        `SELECT d.download_bytes FROM mod_mikrotikvpn_traffic_daily d JOIN mod_mikrotikvpn_accounts a ON a.id = d.account_id
          WHERE a.service_id = ?`,
        [serviceId],
      );
    const dailyBefore = await daily(a.serviceId);
    // A new process prunes on its first run (the running server prunes at most once an hour).
    const out = await runCli(['collect'], stack.env);
    expect(out.code, out.stderr).to.equal(0);
    expect(await ids(a.serviceId)).to.deep.equal([recentSample]);
    expect(await ids(keep.serviceId)).to.deep.equal([keptOld]);
    expect(await daily(a.serviceId)).to.deep.equal(dailyBefore);
    expect(dailyBefore).to.deep.equal([{ download_bytes: String(3 * GB) }]);
  });
});
