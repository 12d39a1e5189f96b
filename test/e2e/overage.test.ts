import { expect } from 'chai';
import { startStack, type Stack } from '../helpers/stack';
import { gql } from '../helpers/test-server';
import { CREATE_VPN_ACCOUNT, createAccountVariables } from '../helpers/accounts';
import type { SimulatedRouter } from '../simulator/simulated-router';

const GB = 1_000_000_000;
const ZONE = 'Pacific/Kiritimati'; // UTC+14: WHMCS's month starts while UTC is still in the old one
const COLLECT = `mutation { collectTraffic { limited } }`;
const ACCOUNT = `query($s: Int!) { vpnAccount(serviceId: $s) { status traffic { balanceBytes usedThisCycleBytes } } }`;
const SET_POLICY = `mutation($i: ProductPolicyInput!) { setProductPolicy(input: $i) { id } }`;
const USAGE = `query($srv: Int!, $m: String, $s: Int) { trafficUsageForServer(serverId: $srv, month: $m, serviceId: $s) { from to timeZone services { serviceId username downloadBytes uploadBytes bytes } } }`;
const RENEW = `mutation($s: Int!, $k: String!) { renewVpnAccount(serviceId: $s, cycleKey: $k) { bytes } }`;

describe('quota policy "keep going, bill the overage" and the Traffic usage metric', function () {
  let stack: Stack;
  let sim: SimulatedRouter;
  let serverId: number;
  let productId: number;
  let client: number;
  let next = 8300;

  const ok = async (query: string, variables: Record<string, unknown> = {}) => {
    const r = await gql(stack.server.url, query, variables, stack.admin);
    expect(r.errors, JSON.stringify(r.errors)).to.equal(undefined);
    return r.data!;
  };
  const account = async (s: number) => (await ok(ACCOUNT, { s })).vpnAccount;
  const collect = async () => (await ok(COLLECT)).collectTraffic;
  const newAccount = async (username: string) => {
    const serviceId = await stack.whmcs.service({
      id: ++next,
      userid: client,
      packageid: productId,
      server: serverId,
    });
    await ok(CREATE_VPN_ACCOUNT, createAccountVariables({ serviceId, serverId, productId, username }));
    const [{ address }] = await stack.db.query(
      'SELECT address FROM mod_mikrotikvpn_accounts WHERE service_id = ?',
      [serviceId],
    );
    sim.connect(username);
    await collect();
    return { serviceId, address: address as string };
  };

  before(async () => {
    stack = await startStack({ WHMCS_TIME_ZONE: ZONE });
    ({ sim, serverId } = await stack.addRouter({
      assignedips: Array.from({ length: 20 }, (_, i) => `10.61.0.${i + 2}`),
    }));
    sim.state.bootTime = Date.now() - 3_600_000;
    client = await stack.whmcs.client({ firstname: 'Edsger', lastname: 'Dijkstra' });
    productId = await stack.whmcs.product({
      name: 'VPN 1 GB + overage',
      settings: { trafficMonthlyGb: '1', lowTrafficThresholdGb: '0', limitedTemplate: 'VPN out' },
    });
    await ok(SET_POLICY, { i: { productId, onExhausted: 'overage', overageCeilingGb: '3' } });
  });
  after(() => stack?.stop());

  it('is never limited for the balance; the ceiling still cuts off, and a renewal lets it back on', async () => {
    const a = await newAccount('over1');
    sim.pushTraffic(a.address, 1.5 * GB, 0.2 * GB);
    expect((await collect()).limited).to.deep.equal([]);
    const over = await account(a.serviceId);
    expect(over.status).to.equal('ACTIVE');
    expect(over.traffic.balanceBytes).to.equal(-0.7 * GB);
    expect(sim.state.findSecret('over1')!.disabled).to.equal(false);
    expect(sim.state.findActive('over1')).to.not.equal(undefined);
    sim.pushTraffic(a.address, 1.3 * GB - 1, 0); // one byte below the 3 GB ceiling
    await collect();
    expect((await account(a.serviceId)).status).to.equal('ACTIVE');
    expect(
      await stack.db.query('SELECT kind FROM mod_mikrotikvpn_notifications WHERE service_id = ?', [
        a.serviceId,
      ]),
    ).to.deep.equal([]);
    sim.pushTraffic(a.address, 1, 0);
    expect((await collect()).limited).to.deep.equal([a.serviceId]);
    const capped = await account(a.serviceId);
    expect(capped.status).to.equal('LIMITED');
    expect(capped.traffic.usedThisCycleBytes).to.equal(3 * GB);
    expect(sim.state.findSecret('over1')!.disabled).to.equal(true);
    expect(
      await stack.db.query('SELECT kind, template FROM mod_mikrotikvpn_notifications WHERE service_id = ?', [
        a.serviceId,
      ]),
    ).to.deep.equal([{ kind: 'LIMITED', template: 'VPN out' }]);
    // A new cycle starts its traffic at zero: below the ceiling again, back on at once.
    await ok(RENEW, { s: a.serviceId, k: 'due:2027-01-01' });
    expect((await account(a.serviceId)).status).to.equal('ACTIVE');
    expect(sim.state.findSecret('over1')!.disabled).to.equal(false);
  });

  it('a cut-off account of a product switched to overage is back on at the next collection', async () => {
    await ok(SET_POLICY, { i: { productId, onExhausted: 'cutoff' } });
    const a = await newAccount('over2');
    sim.pushTraffic(a.address, 1.1 * GB, 0);
    await collect();
    expect((await account(a.serviceId)).status).to.equal('LIMITED');
    await ok(SET_POLICY, { i: { productId, onExhausted: 'overage', overageCeilingGb: '3' } });
    await collect();
    expect((await account(a.serviceId)).status).to.equal('ACTIVE');
    expect(sim.state.findSecret('over2')!.disabled).to.equal(false);
  });

  it('the month the metric reports is the sum of its daily totals in WHMCS time, byte for byte, across a renewal', async () => {
    const a = await newAccount('over3');
    sim.pushTraffic(a.address, 123_456_789, 987_654_321);
    await collect();
    await ok(RENEW, { s: a.serviceId, k: 'due:2027-02-01' }); // a renewal inside the month
    sim.pushTraffic(a.address, 5, 7);
    await collect();
    const [{ id }] = await stack.db.query('SELECT id FROM mod_mikrotikvpn_accounts WHERE service_id = ?', [
      a.serviceId,
    ]);
    // Days of one month in WHMCS's time zone: first, last, and the days just outside it.
    const insert = (day: string, down: number, up: number) =>
      stack.db.query(
        `INSERT INTO mod_mikrotikvpn_traffic_daily (account_id, day, download_bytes, upload_bytes, balance_after_bytes, balance_at)
         VALUES (?, ?, ?, ?, 0, UTC_TIMESTAMP(3))`,
        [id, day, down, up],
      );
    await insert('2026-02-01', 1_000_000_001, 3);
    await insert('2026-02-28', 2, 999_999_999);
    await insert('2026-01-31', 7 * GB, 0);
    await insert('2026-03-01', 0, 9 * GB);
    const february = (await ok(USAGE, { srv: serverId, m: '2026-02', s: a.serviceId })).trafficUsageForServer;
    expect(february).to.deep.equal({
      from: '2026-02-01',
      to: '2026-02-28',
      timeZone: ZONE,
      services: [
        {
          serviceId: a.serviceId,
          username: 'over3',
          downloadBytes: 1_000_000_003,
          uploadBytes: 1_000_000_002,
          bytes: 2_000_000_005,
        },
      ],
    });
    // This month (WHMCS's clock, east of UTC): the sum of this month's daily rows, renewal or not.
    const thisMonth = (await ok(USAGE, { srv: serverId, s: a.serviceId })).trafficUsageForServer;
    const month = new Intl.DateTimeFormat('en-CA', { timeZone: ZONE, year: 'numeric', month: '2-digit' })
      .format(new Date())
      .slice(0, 7);
    expect(thisMonth.from).to.equal(`${month}-01`);
    const [sum] = await stack.db.query(
      `SELECT CAST(SUM(download_bytes) AS CHAR) AS d, CAST(SUM(upload_bytes) AS CHAR) AS u
         FROM mod_mikrotikvpn_traffic_daily WHERE account_id = ? AND day >= ? AND day <= ?`,
      [id, thisMonth.from, thisMonth.to],
    );
    expect(thisMonth.services[0].downloadBytes).to.equal(Number(sum.d));
    expect(thisMonth.services[0].uploadBytes).to.equal(Number(sum.u));
    expect(thisMonth.services[0].bytes).to.equal(123_456_789 + 987_654_321 + 12);
    // Every live account of the server, for usage().
    const all = (await ok(USAGE, { srv: serverId })).trafficUsageForServer.services;
    expect(all.map((s: { username: string }) => s.username)).to.include.members(['over1', 'over2', 'over3']);
    const bad = await gql(stack.server.url, USAGE, { srv: serverId, m: '2026-13' }, stack.admin);
    expect(bad.errors![0].extensions!.code).to.equal('VALIDATION');
  });
});
