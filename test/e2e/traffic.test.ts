import { expect } from 'chai';
import { startStack, type Stack } from '../helpers/stack';
import { codeOf, gql } from '../helpers/test-server';
import { runCli } from '../helpers/cli';
import type { SimulatedRouter } from '../simulator/simulated-router';

const GB = 1_000_000_000;
const COLLECT = `mutation { collectTraffic { accountsCollected samplesWritten downloadBytes uploadBytes limited routers { routerId ok rebooted accounts samples missingQueues } } }`;
const ACCOUNT = `query($s: Int!) { vpnAccount(serviceId: $s) { status statusReason traffic { balanceBytes cycleAllowanceBytes unlimited usedThisCycleBytes } } }`;
const TOPUP = `mutation($i: TopUpTrafficInput!) { topUpTraffic(input: $i) { id kind bytes balanceBeforeBytes balanceAfterBytes invoiceId description } }`;
const RENEW = `mutation($s: Int!, $k: String!, $inv: Int) { renewVpnAccount(serviceId: $s, cycleKey: $k, invoiceId: $inv) { kind bytes balanceBeforeBytes balanceAfterBytes invoiceId } }`;

describe('traffic accounting end to end (collector, ledger, limiting, notifications, statistics)', function () {
  let stack: Stack;
  let sim: SimulatedRouter;
  let serverId: number;
  let productId: number;
  let unlimitedId: number;
  let client: number;
  let next = 7000;

  const call = (query: string, variables: Record<string, unknown> = {}) =>
    gql(stack.server.url, query, variables, stack.admin);
  const account = async (s: number) => (await call(ACCOUNT, { s })).data!.vpnAccount;
  const newAccount = async (username: string, product = productId) => {
    const serviceId = await stack.whmcs.service({
      id: ++next,
      userid: client,
      packageid: product,
      server: serverId,
    });
    const r = await call(`mutation($i: CreateVpnAccountInput!) { createVpnAccount(input: $i) { address } }`, {
      i: {
        serviceId,
        serverId,
        productId: product,
        username,
        password: 'Passw0rd!',
        billingCycle: 'Monthly',
      },
    });
    if (r.errors) throw new Error(JSON.stringify(r.errors));
    return { serviceId, address: r.data!.createVpnAccount.address as string };
  };
  const collect = async () => {
    const r = await call(COLLECT);
    expect(r.errors, JSON.stringify(r.errors)).to.equal(undefined);
    return r.data!.collectTraffic;
  };

  before(async () => {
    stack = await startStack({ WHMCS_TIME_ZONE: 'Europe/Berlin' });
    ({ sim, serverId } = await stack.addRouter({
      assignedips: Array.from({ length: 40 }, (_, i) => `10.50.0.${i + 2}`),
    }));
    sim.state.bootTime = Date.now() - 3_600_000; // up for an hour
    client = await stack.whmcs.client({ firstname: 'Grace', lastname: 'Hopper' });
    productId = await stack.whmcs.product({
      name: 'VPN 10 GB',
      settings: {
        trafficMonthlyGb: '10',
        lowTrafficThresholdGb: '2',
        lowTrafficTemplate: 'VPN low',
        limitedTemplate: 'VPN out',
      },
    });
    unlimitedId = await stack.whmcs.product({ name: 'VPN unlimited', settings: { trafficMonthlyGb: '0' } });
  });
  after(() => stack?.stop());

  it('debits exactly the bytes that went through the queue, in the right direction, without resetting counters', async () => {
    const a = await newAccount('t1');
    await collect(); // baseline
    sim.pushTraffic(a.address, 3 * GB, 1 * GB); // 3 GB to the customer, 1 GB from the customer
    const report = await collect();
    expect(report.downloadBytes).to.equal(3 * GB);
    expect(report.uploadBytes).to.equal(1 * GB);
    expect((await account(a.serviceId)).traffic.balanceBytes).to.equal(6 * GB);
    const [sample] = await stack.db.query(
      'SELECT download_bytes, upload_bytes, balance_after_bytes FROM mod_mikrotikvpn_traffic_samples s JOIN mod_mikrotikvpn_accounts a ON a.id = s.account_id WHERE a.service_id = ? AND download_bytes + upload_bytes > 0',
      [a.serviceId],
    );
    expect(sample).to.deep.equal({
      download_bytes: String(3 * GB),
      upload_bytes: String(1 * GB),
      balance_after_bytes: String(6 * GB),
    });
    // The router's counters were never reset: the queue still shows everything.
    expect(sim.state.findQueue(`vpn-${a.serviceId}`)!.bytes).to.deep.equal([BigInt(1 * GB), BigInt(3 * GB)]);
    expect(sim.commandsFor('/queue/simple/reset-counters')).to.have.length(0);
    // A run with no new traffic changes nothing.
    const idle = await collect();
    expect(idle.samplesWritten).to.equal(0);
    expect((await account(a.serviceId)).traffic.balanceBytes).to.equal(6 * GB);
  });

  it('reads each router once per run: one counters print and one uptime read', async () => {
    sim.clearCommandLog();
    await collect();
    expect(sim.commandsFor('/queue/simple/print')).to.have.length(1);
    expect(sim.commandsFor('/system/resource/print')).to.have.length(1);
  });

  it('counts from zero after a router reboot, losing nothing it had read', async () => {
    const a = await newAccount('t2');
    await collect();
    sim.pushTraffic(a.address, 2 * GB, 0);
    await collect();
    sim.reboot();
    sim.pushTraffic(a.address, 3 * GB, 0); // more than before the reboot: only uptime tells
    const report = await collect();
    expect(report.routers[0].rebooted).to.equal(true);
    expect((await account(a.serviceId)).traffic.balanceBytes).to.equal(5 * GB);
  });

  it('counts a re-created queue from zero', async () => {
    const a = await newAccount('t3');
    sim.pushTraffic(a.address, 1 * GB, 0);
    await collect();
    sim.state.deleteQueue(sim.state.findQueue(`vpn-${a.serviceId}`)!);
    const missing = await collect();
    expect(missing.routers[0].missingQueues).to.include(a.serviceId);
    await call('mutation { reconcile { repaired } }');
    sim.pushTraffic(a.address, 0, 2 * GB);
    await collect();
    expect((await account(a.serviceId)).traffic.balanceBytes).to.equal(7 * GB);
  });

  it('limits the account in the same run when the balance is used up, queues one notice, and restores it on a top-up', async () => {
    const a = await newAccount('t4');
    sim.connect('t4');
    sim.pushTraffic(a.address, 9 * GB, 1.5 * GB);
    const report = await collect();
    expect(report.limited).to.deep.equal([a.serviceId]);
    const limited = await account(a.serviceId);
    expect(limited.status).to.equal('LIMITED');
    expect(limited.traffic.balanceBytes).to.equal(-0.5 * GB);
    expect(sim.state.findSecret('t4')!.disabled).to.equal(true);
    expect(sim.state.findActive('t4')).to.equal(undefined);
    sim.pushTraffic(a.address, 1, 0); // a trickle after limiting: debited, no second notice
    await collect();
    const notices = await stack.db.query(
      'SELECT kind, template, merge_fields FROM mod_mikrotikvpn_notifications WHERE service_id = ?',
      [a.serviceId],
    );
    expect(notices.map((n: { kind: string }) => n.kind)).to.deep.equal(['LIMITED']);
    expect(notices[0].template).to.equal('VPN out');
    expect(JSON.parse(notices[0].merge_fields)).to.deep.include({
      client_name: 'Grace Hopper',
      service_product_name: 'VPN 10 GB',
      service_next_due_date: '2026-12-01',
      vpn_username: 't4',
      vpn_cycle_allowance_gb: '10.00',
      vpn_threshold_gb: '2.00',
    });
    const top = await call(TOPUP, {
      i: {
        serviceId: a.serviceId,
        bytes: 100 * GB,
        idempotencyKey: 'addon-7-inv-55',
        invoiceId: 55,
        description: 'Traffic 100 GB (invoice 55)',
      },
    });
    expect(top.errors).to.equal(undefined);
    expect(top.data!.topUpTraffic).to.deep.include({
      kind: 'ADDON',
      bytes: 100 * GB,
      balanceBeforeBytes: -0.5 * GB - 1,
      invoiceId: 55,
    });
    expect((await account(a.serviceId)).status).to.equal('ACTIVE');
    expect(sim.state.findSecret('t4')!.disabled).to.equal(false);
  });

  it('credits a top-up once per key, however often and however concurrently it is sent', async () => {
    const a = await newAccount('t5');
    const send = () =>
      call(TOPUP, { i: { serviceId: a.serviceId, bytes: 5 * GB, idempotencyKey: 'same-key', invoiceId: 9 } });
    const results = await Promise.all([send(), send(), send()]);
    for (const r of results) expect(r.errors).to.equal(undefined);
    expect(new Set(results.map((r) => r.data!.topUpTraffic.id)).size).to.equal(1);
    expect((await account(a.serviceId)).traffic.balanceBytes).to.equal(15 * GB);
  });

  it('loses neither a top-up nor traffic when both land at once', async () => {
    const a = await newAccount('t6');
    await collect();
    sim.pushTraffic(a.address, 4 * GB, 0);
    await Promise.all([
      collect(),
      call(TOPUP, { i: { serviceId: a.serviceId, bytes: 1 * GB, idempotencyKey: 'race' } }),
    ]);
    expect((await account(a.serviceId)).traffic.balanceBytes).to.equal(7 * GB);
  });

  it('renews once per cycle key with the cycle allowance, as the traffic-added history shows', async () => {
    const a = await newAccount('t7');
    for (let i = 0; i < 2; i++) {
      const r = await call(RENEW, { s: a.serviceId, k: 'due:2026-12-01', inv: 77 });
      expect(r.data!.renewVpnAccount).to.deep.equal({
        kind: 'CYCLE',
        bytes: 10 * GB,
        balanceBeforeBytes: 10 * GB,
        balanceAfterBytes: 20 * GB,
        invoiceId: 77,
      });
    }
    await call(RENEW, { s: a.serviceId, k: 'due:2027-01-01' });
    const history = await call(
      `query($s: Int!) { vpnAccount(serviceId: $s) { topUps(first: 2) { nodes { kind bytes balanceAfterBytes } pageInfo { hasNextPage endCursor } } } }`,
      { s: a.serviceId },
    );
    const page = history.data!.vpnAccount.topUps;
    expect(page.nodes.map((n: { balanceAfterBytes: number }) => n.balanceAfterBytes)).to.deep.equal([
      30 * GB,
      20 * GB,
    ]);
    expect(page.pageInfo.hasNextPage).to.equal(true);
    const rest = await call(
      `query($s: Int!, $a: String) { vpnAccount(serviceId: $s) { topUps(first: 5, after: $a) { nodes { balanceAfterBytes } } } }`,
      { s: a.serviceId, a: page.pageInfo.endCursor },
    );
    expect(rest.data!.vpnAccount.topUps.nodes).to.deep.equal([{ balanceAfterBytes: 10 * GB }]);
  });

  it('meters an unlimited product but never limits it', async () => {
    const a = await newAccount('t8', unlimitedId);
    sim.pushTraffic(a.address, 50 * GB, 5 * GB);
    const report = await collect();
    expect(report.limited).to.not.include(a.serviceId);
    const acc = await account(a.serviceId);
    expect(acc).to.deep.include({ status: 'ACTIVE' });
    expect(acc.traffic).to.deep.include({ unlimited: true, balanceBytes: 0 });
    const usage = await call(
      `query($s: Int!, $f: DateTime!, $t: DateTime!) { vpnAccount(serviceId: $s) { usage(from: $f, to: $t) { day downloadBytes uploadBytes totalBytes } } }`,
      {
        s: a.serviceId,
        f: new Date(Date.now() - 86_400_000).toISOString(),
        t: new Date(Date.now() + 86_400_000).toISOString(),
      },
    );
    // Every day of the range up to today, the quiet one too.
    const today = new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Berlin' }).format(new Date());
    const days = usage.data!.vpnAccount.usage as { day: string; totalBytes: number }[];
    expect(days.map((d) => d.day).at(-1)).to.equal(today);
    expect(days.filter((d) => d.day !== today).every((d) => d.totalBytes === 0)).to.equal(true);
    expect(days.at(-1)).to.deep.include({
      downloadBytes: 50 * GB,
      uploadBytes: 5 * GB,
      totalBytes: 55 * GB,
    });
    expect(codeOf(await call(RENEW, { s: a.serviceId, k: 'due:x' }))).to.equal(undefined);
  });

  it('sends one low-traffic notice per billing cycle', async () => {
    const a = await newAccount('t9');
    sim.pushTraffic(a.address, 8.5 * GB, 0);
    await collect();
    sim.pushTraffic(a.address, 0.5 * GB, 0);
    await collect();
    const kinds = async () =>
      (
        await stack.db.query(
          'SELECT kind FROM mod_mikrotikvpn_notifications WHERE service_id = ? ORDER BY id',
          [a.serviceId],
        )
      ).map((n: { kind: string }) => n.kind);
    expect(await kinds()).to.deep.equal(['LOW_TRAFFIC']);
    await call(RENEW, { s: a.serviceId, k: 'next' }); // new cycle: 11 GB left
    sim.pushTraffic(a.address, 9.5 * GB, 0);
    await collect();
    expect(await kinds()).to.deep.equal(['LOW_TRAFFIC', 'LOW_TRAFFIC']);
  });

  it('keeps notifications pending until acknowledged, and a failure keeps them pending', async () => {
    const pending = await call(
      '{ pendingNotifications { id kind serviceId template mergeFields attempts } }',
    );
    expect(pending.errors).to.equal(undefined);
    const list = pending.data!.pendingNotifications as { id: string; kind: string; attempts: number }[];
    expect(list.length).to.be.greaterThan(1);
    const [first, second] = list;
    const failed = await call(
      'mutation($id: ID!) { reportNotificationFailure(id: $id, error: "Sending Failed") }',
      { id: second.id },
    );
    expect(failed.data!.reportNotificationFailure).to.equal(true);
    const acked = await call('mutation($ids: [ID!]!) { acknowledgeNotifications(ids: $ids) }', {
      ids: [first.id],
    });
    expect(acked.data!.acknowledgeNotifications).to.equal(1);
    expect(
      (await call('mutation($ids: [ID!]!) { acknowledgeNotifications(ids: $ids) }', { ids: [first.id] }))
        .data!.acknowledgeNotifications,
    ).to.equal(0);
    const after = (await call('{ pendingNotifications { id attempts } }')).data!.pendingNotifications as {
      id: string;
      attempts: number;
    }[];
    expect(after.map((n) => n.id)).to.not.include(first.id);
    expect(after.find((n) => n.id === second.id)!.attempts).to.equal(1);
  });

  it('refuses bad credits with VALIDATION or NOT_FOUND and changes nothing', async () => {
    const a = await newAccount('t10');
    const before = (await account(a.serviceId)).traffic.balanceBytes;
    const cases: [Record<string, unknown>, string][] = [
      [{ serviceId: a.serviceId, bytes: 0, idempotencyKey: 'z' }, 'VALIDATION'],
      [{ serviceId: a.serviceId, bytes: -5, idempotencyKey: 'z' }, 'VALIDATION'],
      [{ serviceId: a.serviceId, bytes: 5, idempotencyKey: '' }, 'VALIDATION'],
      [{ serviceId: a.serviceId, bytes: 'lots', idempotencyKey: 'z' }, 'VALIDATION'],
      [{ serviceId: 999999, bytes: 5, idempotencyKey: 'z' }, 'NOT_FOUND'],
      [{ serviceId: a.serviceId, bytes: 0, idempotencyKey: 'z', kind: 'ADJUSTMENT' }, 'VALIDATION'],
    ];
    for (const [input, code] of cases)
      expect(codeOf(await call(TOPUP, { i: input })), JSON.stringify(input)).to.equal(code);
    const adj = await call(TOPUP, {
      i: {
        serviceId: a.serviceId,
        bytes: -GB,
        idempotencyKey: 'fix-1',
        kind: 'ADJUSTMENT',
        description: 'goodwill correction',
      },
    });
    expect(adj.data!.topUpTraffic).to.deep.include({ kind: 'ADJUSTMENT', bytes: -GB });
    expect((await account(a.serviceId)).traffic.balanceBytes).to.equal(before - GB);
  });

  it('collects from the command line too', async () => {
    const out = await runCli(['collect'], stack.env);
    expect(out.code, out.stderr).to.equal(0);
    expect(out.stdout).to.match(/router \d+\tok\taccounts \d+/);
  });
});
