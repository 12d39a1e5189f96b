import { expect } from 'chai';
import { startStack, type Stack } from '../helpers/stack';
import { codeOf, gql, startServer, waitForHealthy, type TestServer } from '../helpers/test-server';
import { CREATE_VPN_ACCOUNT, createAccountVariables } from '../helpers/accounts';
import type { SimulatedRouter } from '../simulator/simulated-router';

const GB = 1_000_000_000;
const COLLECT = `mutation { collectTraffic { accountsCollected routers { ok skipped } } }`;
const REACHED = `query($s: Int!) { vpnAccount(serviceId: $s) { thresholdsReached { threshold balanceBelowBytes reachedAt firstReachedAt times } } }`;
const TOPUP = `mutation($i: TopUpTrafficInput!) { topUpTraffic(input: $i) { id } }`;
const RENEW = `mutation($s: Int!, $k: String!) { renewVpnAccount(serviceId: $s, cycleKey: $k) { bytes } }`;

interface Notice {
  kind: string;
  template: string;
  fields: Record<string, string>;
}

/**
 * Several notification thresholds per product (issue #18, item 2): the setting
 * lowTrafficThresholdGb takes a list (`50%, 80%, 1 GB`); each threshold's notice goes out once per
 * billing cycle at the first collection below it, whatever repeats, runs in parallel or is killed;
 * a credit that lifts the balance back above re-arms it; a renewal starts afresh.
 */
describe('notification thresholds: several per product, each notice once per cycle', function () {
  this.timeout(180_000);
  let stack: Stack;
  let sim: SimulatedRouter;
  let serverId: number;
  let productId: number;
  let client: number;
  let second: TestServer;
  let next = 9100;

  const call = (query: string, variables: Record<string, unknown> = {}, server = stack.server) =>
    gql(server.url, query, variables, stack.admin);
  const ok = async (query: string, variables: Record<string, unknown> = {}, server = stack.server) => {
    const r = await call(query, variables, server);
    expect(r.errors, JSON.stringify(r.errors)).to.equal(undefined);
    return r.data!;
  };
  const newAccount = async (username: string, product = productId) => {
    const serviceId = await stack.whmcs.service({
      id: ++next,
      userid: client,
      packageid: product,
      server: serverId,
    });
    const data = await ok(
      CREATE_VPN_ACCOUNT,
      createAccountVariables({ serviceId, serverId, productId: product, username }),
    );
    return { serviceId, address: data.createVpnAccount.address as string };
  };
  const notices = async (serviceId: number): Promise<Notice[]> =>
    (
      (await stack.db.query(
        "SELECT kind, template, merge_fields FROM mod_mikrotikvpn_notifications WHERE service_id = ? AND kind = 'LOW_TRAFFIC' ORDER BY id",
        [serviceId],
      )) as { kind: string; template: string; merge_fields: string }[]
    ).map((n) => ({ kind: n.kind, template: n.template, fields: JSON.parse(n.merge_fields) }));
  const thresholdsOf = async (serviceId: number) =>
    (await notices(serviceId)).map((n) => n.fields.vpn_threshold);
  const reached = async (serviceId: number) =>
    (await ok(REACHED, { s: serviceId })).vpnAccount.thresholdsReached as {
      threshold: string;
      balanceBelowBytes: number;
      times: number;
    }[];

  before(async () => {
    stack = await startStack();
    ({ sim, serverId } = await stack.addRouter({
      assignedips: Array.from({ length: 40 }, (_, i) => `10.60.0.${i + 2}`),
    }));
    sim.state.bootTime = Date.now() - 3_600_000;
    client = await stack.whmcs.client({ firstname: 'Ada', lastname: 'Lovelace' });
    productId = await stack.whmcs.product({
      name: 'VPN 10 GB',
      settings: {
        trafficMonthlyGb: '10',
        lowTrafficThresholdGb: '50%, 80%, 1 GB',
        lowTrafficTemplate: 'VPN low',
      },
    });
    second = await startServer(stack.env);
    await waitForHealthy(second);
  });
  after(async () => {
    await second?.stop();
    await stack?.stop();
  });

  it('three thresholds crossed in one collection: three notices with their threshold and share used, once each', async () => {
    const a = await newAccount('th1');
    await ok(COLLECT);
    sim.pushTraffic(a.address, 9.5 * GB, 0); // 0.5 GB left: below 5 GB, 2 GB and 1 GB at once
    await ok(COLLECT);
    const sent = await notices(a.serviceId);
    expect(sent.map((n) => n.fields.vpn_threshold)).to.have.members(['50%', '80%', '1 GB']);
    for (const n of sent) {
      expect(n.template).to.equal('VPN low');
      expect(n.fields).to.deep.include({
        client_name: 'Ada Lovelace',
        vpn_username: 'th1',
        vpn_balance_gb: '0.50',
        vpn_cycle_allowance_gb: '10.00',
        vpn_used_percent: '95.0',
      });
    }
    // What each threshold means in GB remaining: 50 % of 10 GB used = 5 GB left, and so on.
    const byThreshold = Object.fromEntries(
      sent.map((n) => [n.fields.vpn_threshold, n.fields.vpn_threshold_gb]),
    );
    expect(byThreshold).to.deep.equal({ '50%': '5.00', '80%': '2.00', '1 GB': '1.00' });
    // More traffic and repeated collections: no threshold twice.
    sim.pushTraffic(a.address, 0.1 * GB, 0);
    await ok(COLLECT);
    await ok(COLLECT);
    expect(await notices(a.serviceId)).to.have.length(3);
    const list = await reached(a.serviceId);
    expect(list.map((r) => [r.threshold, r.times])).to.deep.equal([
      ['50%', 1],
      ['80%', 1],
      ['1 GB', 1],
    ]);
    expect(list.map((r) => r.balanceBelowBytes)).to.deep.equal([5 * GB + 1, 2 * GB + 1, 1 * GB]);
  });

  it('one threshold per collection as the balance falls step by step, and none above the balance', async () => {
    const a = await newAccount('th2');
    await ok(COLLECT);
    sim.pushTraffic(a.address, 4 * GB, 0); // 6 GB left: none
    await ok(COLLECT);
    expect(await thresholdsOf(a.serviceId)).to.deep.equal([]);
    expect(await reached(a.serviceId)).to.deep.equal([]);
    sim.pushTraffic(a.address, 1 * GB, 0); // exactly 5 GB left = 50 % used: reached
    await ok(COLLECT);
    expect(await thresholdsOf(a.serviceId)).to.deep.equal(['50%']);
    sim.pushTraffic(a.address, 3.5 * GB, 0); // 1.5 GB left
    await ok(COLLECT);
    expect(await thresholdsOf(a.serviceId)).to.deep.equal(['50%', '80%']);
    sim.pushTraffic(a.address, 0.5 * GB, 0); // exactly 1 GB left: not below 1 GB yet
    await ok(COLLECT);
    expect(await thresholdsOf(a.serviceId)).to.deep.equal(['50%', '80%']);
    sim.pushTraffic(a.address, 1, 0);
    await ok(COLLECT);
    expect(await thresholdsOf(a.serviceId)).to.deep.equal(['50%', '80%', '1 GB']);
  });

  it('two server processes collecting at once, repeatedly: each threshold once', async () => {
    const accounts = [await newAccount('th3'), await newAccount('th4'), await newAccount('th5')];
    await ok(COLLECT);
    for (let round = 0; round < 6; round++) {
      for (const a of accounts) sim.pushTraffic(a.address, 1.6 * GB, 0);
      await Promise.all([ok(COLLECT), ok(COLLECT, {}, second), ok(COLLECT), ok(COLLECT, {}, second)]);
    }
    await ok(COLLECT); // whatever a skipped run left on the router
    for (const a of accounts) {
      expect(await thresholdsOf(a.serviceId)).to.have.members(['50%', '80%', '1 GB']);
      expect(await thresholdsOf(a.serviceId)).to.have.length(3);
    }
  });

  it('a credit that lifts the balance back above a threshold re-arms it (and only it)', async () => {
    const a = await newAccount('th6');
    await ok(COLLECT);
    sim.pushTraffic(a.address, 9.5 * GB, 0); // 0.5 GB left: all three
    await ok(COLLECT);
    expect(await notices(a.serviceId)).to.have.length(3);
    await ok(TOPUP, { i: { serviceId: a.serviceId, bytes: 2 * GB, idempotencyKey: 'th6-top-1' } });
    // 2.5 GB: back above 1 GB and 80 % (2 GB left), still below 50 % (5 GB left).
    expect((await reached(a.serviceId)).map((r) => r.threshold)).to.deep.equal(['50%']);
    // The same credit again (its key): nothing changes.
    await ok(TOPUP, { i: { serviceId: a.serviceId, bytes: 2 * GB, idempotencyKey: 'th6-top-1' } });
    sim.pushTraffic(a.address, 1 * GB, 0); // 1.5 GB left: 80 % again, not 1 GB
    await ok(COLLECT);
    await ok(COLLECT, {}, second);
    expect(await thresholdsOf(a.serviceId)).to.have.length(4);
    expect((await thresholdsOf(a.serviceId)).at(-1)).to.equal('80%');
    const list = await reached(a.serviceId);
    expect(list.map((r) => [r.threshold, r.times])).to.deep.equal([
      ['50%', 1],
      ['80%', 2],
    ]);
  });

  it('a renewal starts a new cycle; renewing twice is one cycle, and its thresholds notify once', async () => {
    const a = await newAccount('th7');
    await ok(COLLECT);
    sim.pushTraffic(a.address, 6 * GB, 0); // 4 GB left: 50 %
    await ok(COLLECT);
    expect(await thresholdsOf(a.serviceId)).to.deep.equal(['50%']);
    await ok(RENEW, { s: a.serviceId, k: 'th7-2027-01' });
    await ok(RENEW, { s: a.serviceId, k: 'th7-2027-01' }, second); // WHMCS calling Renew again
    expect(await reached(a.serviceId)).to.deep.equal([]); // 14 GB left, a new cycle
    sim.pushTraffic(a.address, 9 * GB, 0); // 5 GB left: 50 % of this cycle
    await ok(COLLECT);
    await ok(RENEW, { s: a.serviceId, k: 'th7-2027-01' });
    sim.pushTraffic(a.address, 1, 0);
    await ok(COLLECT);
    expect(await thresholdsOf(a.serviceId)).to.deep.equal(['50%', '50%']);
    // The ended cycle's threshold rows are gone with it: only this cycle's are kept.
    const states = await stack.db.query(
      `SELECT s.cycle_topup_id FROM mod_mikrotikvpn_threshold_states s
         JOIN mod_mikrotikvpn_accounts a ON a.id = s.account_id WHERE a.service_id = ?`,
      [a.serviceId],
    );
    const [{ last }] = await stack.db.query(
      `SELECT MAX(t.id) AS last FROM mod_mikrotikvpn_traffic_topups t
         JOIN mod_mikrotikvpn_accounts a ON a.id = t.account_id WHERE a.service_id = ? AND t.kind = 'CYCLE'`,
      [a.serviceId],
    );
    expect(states.map((r: { cycle_topup_id: number }) => Number(r.cycle_topup_id))).to.deep.equal([
      Number(last),
    ]);
  });

  it('the used-up collection sends the used-up notice, not the thresholds it crossed (recorded as reached)', async () => {
    const limited = await stack.whmcs.product({
      settings: {
        trafficMonthlyGb: '10',
        lowTrafficThresholdGb: '50%, 1 GB',
        lowTrafficTemplate: 'VPN low',
        limitedTemplate: 'VPN out',
      },
    });
    const a = await newAccount('th8', limited);
    await ok(COLLECT);
    sim.pushTraffic(a.address, 11 * GB, 0);
    await ok(COLLECT);
    const kinds = await stack.db.query(
      'SELECT kind FROM mod_mikrotikvpn_notifications WHERE service_id = ?',
      [a.serviceId],
    );
    expect(kinds.map((k: { kind: string }) => k.kind)).to.deep.equal(['LIMITED']);
    expect((await reached(a.serviceId)).map((r) => r.threshold)).to.deep.equal(['50%', '1 GB']);
  });

  it('a percentage of no allowance (an unlimited product) never fires', async () => {
    const unlimited = await stack.whmcs.product({
      settings: { trafficMonthlyGb: '0', lowTrafficThresholdGb: '10%, 90%', lowTrafficTemplate: 'VPN low' },
    });
    const a = await newAccount('th9', unlimited);
    await ok(COLLECT);
    sim.pushTraffic(a.address, 50 * GB, 0);
    await ok(COLLECT);
    expect(await notices(a.serviceId)).to.deep.equal([]);
    expect(await reached(a.serviceId)).to.deep.equal([]);
  });

  it('a threshold over 100 %, below 0, a negative amount or garbage: VALIDATION naming the setting, nothing created', async () => {
    for (const [i, value] of ['150%', '-5%', '-1 GB', '80%, lots', '2,5'].entries()) {
      const bad = await stack.whmcs.product({
        settings: { trafficMonthlyGb: '10', lowTrafficThresholdGb: value },
      });
      const serviceId = await stack.whmcs.service({
        id: ++next,
        userid: client,
        packageid: bad,
        server: serverId,
      });
      const r = await call(
        CREATE_VPN_ACCOUNT,
        createAccountVariables({ serviceId, serverId, productId: bad, username: `thbad${i}` }),
      );
      expect(codeOf(r), value).to.equal('VALIDATION');
      expect(r.errors![0].message, value).to.include('lowTrafficThresholdGb');
      expect(r.errors![0].extensions!.settings, value).to.deep.equal(['lowTrafficThresholdGb']);
      expect(
        await stack.db.query('SELECT id FROM mod_mikrotikvpn_accounts WHERE service_id = ?', [serviceId]),
      ).to.deep.equal([]);
      expect(sim.state.findSecret(`thbad${i}`)).to.equal(undefined);
      const p = await ok(`query($p: Int!) { product(id: $p) { invalidSettings lowTrafficThresholds } }`, {
        p: bad,
      });
      expect(p.product.invalidSettings).to.deep.equal(['lowTrafficThresholdGb']);
    }
    const good = await ok(
      `query($p: Int!) { product(id: $p) { lowTrafficThresholds lowTrafficThresholdBytes } }`,
      {
        p: productId,
      },
    );
    expect(good.product).to.deep.equal({
      lowTrafficThresholds: ['50%', '80%', '1 GB'],
      lowTrafficThresholdBytes: GB,
    });
  });

  it('SIGKILLs while collections cross thresholds, and between queuing a notice and its acknowledgement: none lost, none twice', async () => {
    const accounts = [await newAccount('thk1'), await newAccount('thk2'), await newAccount('thk3')];
    await ok(COLLECT);
    const seed = Date.now() % 100_000;
    let state = seed;
    const random = () => {
      state = (state * 1_103_515_245 + 12_345) % 2_147_483_648;
      return state / 2_147_483_648;
    };
    let killedInside = 0;
    for (let run = 0; run < 8; run++) {
      for (const a of accounts) sim.pushTraffic(a.address, Math.floor((0.5 + random() * 0.6) * GB), 0);
      let answered = false;
      const request = call(COLLECT).then(
        () => (answered = true),
        () => undefined,
      );
      await new Promise((r) => setTimeout(r, Math.floor(random() * 60)));
      await stack.server.stop('SIGKILL');
      await request;
      if (!answered) killedInside++;
      stack.server = await startServer(stack.env);
      await waitForHealthy(stack.server);
    }
    await ok(COLLECT);
    // Each threshold the committed balance is below has exactly one notice, whatever was killed.
    for (const a of accounts) {
      const [row] = await stack.db.query(
        'SELECT balance_bytes FROM mod_mikrotikvpn_accounts WHERE service_id = ?',
        [a.serviceId],
      );
      const balance = Number(row.balance_bytes);
      const expected = [
        ['50%', 5 * GB + 1],
        ['80%', 2 * GB + 1],
        ['1 GB', GB],
      ]
        .filter(([, bound]) => balance < Number(bound))
        .map(([t]) => t);
      expect(balance, `seed ${seed}`).to.be.greaterThan(0);
      expect(await thresholdsOf(a.serviceId), `seed ${seed}, balance ${balance}`).to.have.members(expected);
      expect(await thresholdsOf(a.serviceId), `seed ${seed}`).to.have.length(expected.length);
    }
    // The bridge's side: it read the pending notices (and handed them to WHMCS), then the server
    // died before the acknowledgement. After the restart they are still pending, the same ones.
    const pendingIds = async () =>
      (
        (await ok('{ pendingNotifications(first: 500) { id kind serviceId } }')).pendingNotifications as {
          id: string;
          serviceId: number;
        }[]
      )
        .filter((n) => accounts.some((a) => a.serviceId === n.serviceId))
        .map((n) => n.id)
        .sort();
    const before = await pendingIds();
    expect(before.length).to.be.greaterThan(0);
    await stack.server.stop('SIGKILL');
    stack.server = await startServer(stack.env);
    await waitForHealthy(stack.server);
    expect(await pendingIds()).to.deep.equal(before);
    const acked = await ok('mutation($ids: [ID!]!) { acknowledgeNotifications(ids: $ids) }', { ids: before });
    expect(acked.acknowledgeNotifications).to.equal(before.length);
    expect(await pendingIds()).to.deep.equal([]);
    // Collections after that queue nothing again for the thresholds already reached.
    for (const a of accounts) sim.pushTraffic(a.address, 1, 0);
    await ok(COLLECT);
    expect(await pendingIds()).to.deep.equal([]);
    expect(killedInside, 'kills landed inside collections').to.be.greaterThan(0);
  });
});
