import { expect } from 'chai';
import { startStack, type Stack } from '../helpers/stack';
import { codeOf, gql, startServer, waitForHealthy, type TestServer } from '../helpers/test-server';
import { settingIndex } from '../../src/product/product-settings';
import { dayIn } from '../../src/common/time-zone';
import type { SimulatedRouter } from '../simulator/simulated-router';
import { COLLECT, GB, expectNoErrors } from './fault-fixtures';

const MB = 1_000_000;
const RENEW = `mutation($s: Int!, $i: Int) { renewVpnAccount(serviceId: $s, invoiceId: $i) { kind reason cycle bytes balanceAfterBytes } }`;
const ACCOUNT = `query($s: Int!) { vpnAccount(serviceId: $s) { status billingCycle traffic { balanceBytes cycleAllowanceBytes unlimited usedThisCycleBytes } } }`;
const TOPUP = `mutation($i: TopUpTrafficInput!) { topUpTraffic(input: $i) { id bytes balanceAfterBytes } }`;
const USAGE = `query($s: Int!, $f: DateTime!, $t: DateTime!) { vpnAccount(serviceId: $s) { usage(from: $f, to: $t) { at day totalBytes creditedBytes balanceAfterBytes } } }`;

/**
 * Issue "billing correctness", classes 5, 6 and 8: the billing cycle WHMCS has now is the one
 * credited; every day boundary is WHMCS's time zone's (west and east of UTC, DST days included);
 * credits and notices: a reused idempotency key must mean the same credit, an adjustment needs a
 * reason, the used-up notice goes out whatever limited the account, and a setting too large for the
 * database is refused by name.
 */
describe('faults: billing cycles changed in WHMCS, time zones with DST, credits and notices', function () {
  this.timeout(120_000);
  let stack: Stack;
  let sim: SimulatedRouter;
  let serverId: number;
  let client: number;
  let product: number;
  let east: TestServer;
  let next = 81_000;

  const call = (query: string, variables: Record<string, unknown> = {}, server: TestServer = stack.server) =>
    gql(server.url, query, variables, stack.admin);
  const account = async (s: number) => (await call(ACCOUNT, { s })).data!.vpnAccount;
  const create = async (productId = product, cycle = 'Monthly', username = `cy${next + 1}`) => {
    const serviceId = await stack.whmcs.service({
      id: ++next,
      userid: client,
      packageid: productId,
      server: serverId,
      billingcycle: cycle,
      nextduedate: '2026-12-01',
    });
    const r = await call(`mutation($i: CreateVpnAccountInput!) { createVpnAccount(input: $i) { address } }`, {
      i: { serviceId, serverId, productId, username, password: 'Passw0rd!', billingCycle: cycle },
    });
    expectNoErrors(r);
    return { serviceId, address: r.data!.createVpnAccount.address as string };
  };
  const whmcsService = (id: number, fields: Record<string, string>) =>
    stack.db.query(
      `UPDATE tblhosting SET ${Object.keys(fields)
        .map((k) => `${k} = ?`)
        .join(', ')} WHERE id = ?`,
      [...Object.values(fields), id],
    );

  before(async () => {
    stack = await startStack({ WHMCS_TIME_ZONE: 'America/New_York' });
    ({ sim, serverId } = await stack.addRouter({
      assignedips: Array.from({ length: 30 }, (_, i) => `10.81.0.${i + 2}`),
    }));
    sim.state.bootTime = Date.now() - 86_400_000;
    client = await stack.whmcs.client();
    product = await stack.whmcs.product({
      settings: {
        trafficMonthlyGb: '1',
        trafficAnnuallyGb: '12',
        limitedTemplate: 'VPN out',
        lowTrafficThresholdGb: '0',
      },
    });
    // A second server process on the same database, counting days in a zone east of UTC.
    east = await startServer({ ...stack.env, WHMCS_TIME_ZONE: 'Australia/Sydney' });
    await waitForHealthy(east);
  });
  after(async () => {
    await east?.stop();
    await stack?.stop();
  });

  it('Monthly 1 GB → Annually 12 GB: the renewal credits the cycle WHMCS has now, and the reverse', async () => {
    const a = await create();
    expect((await account(a.serviceId)).traffic.balanceBytes).to.equal(1 * GB);
    await whmcsService(a.serviceId, { billingcycle: 'Annually', nextduedate: '2027-12-01' });
    const annual = await call(RENEW, { s: a.serviceId, i: 501 });
    expect(annual.data!.renewVpnAccount, JSON.stringify(annual.errors)).to.deep.include({
      kind: 'CYCLE',
      reason: 'RENEWAL',
      cycle: 'Annually',
      bytes: 12 * GB,
      balanceAfterBytes: 13 * GB,
    });
    expect(await account(a.serviceId)).to.deep.include({ billingCycle: 'Annually' });
    expect((await account(a.serviceId)).traffic.cycleAllowanceBytes).to.equal(12 * GB);
    // WHMCS calling Renew again for the same due date credits nothing more.
    expect((await call(RENEW, { s: a.serviceId, i: 501 })).data!.renewVpnAccount.balanceAfterBytes).to.equal(
      13 * GB,
    );
    expect((await account(a.serviceId)).traffic.balanceBytes).to.equal(13 * GB);
    await whmcsService(a.serviceId, { billingcycle: 'Monthly', nextduedate: '2028-01-01' });
    const monthly = await call(RENEW, { s: a.serviceId });
    expect(monthly.data!.renewVpnAccount).to.deep.include({ cycle: 'Monthly', bytes: 1 * GB });
    expect((await account(a.serviceId)).traffic.balanceBytes).to.equal(14 * GB);
  });

  it("a product's allowance edited in WHMCS applies from the next renewal", async () => {
    const p = await stack.whmcs.product({ settings: { trafficMonthlyGb: '2' } });
    const a = await create(p);
    await stack.db.query(
      `UPDATE tblproducts SET configoption${settingIndex('trafficMonthlyGb')} = '5' WHERE id = ?`,
      [p],
    );
    expect((await account(a.serviceId)).traffic.cycleAllowanceBytes).to.equal(2 * GB);
    await whmcsService(a.serviceId, { nextduedate: '2027-01-01' });
    expect((await call(RENEW, { s: a.serviceId })).data!.renewVpnAccount).to.deep.include({ bytes: 5 * GB });
    expect((await account(a.serviceId)).traffic).to.deep.include({
      cycleAllowanceBytes: 5 * GB,
      balanceBytes: 7 * GB,
    });
  });

  it('Change Package reads the cycle WHMCS has now (an upgrade that also changed the cycle)', async () => {
    const unlimited = await stack.whmcs.product({ settings: { trafficMonthlyGb: '0' } });
    const a = await create(unlimited);
    await whmcsService(a.serviceId, { billingcycle: 'Annually' });
    const r = await call(
      `mutation($s: Int!, $p: Int!) { changeVpnPackage(serviceId: $s, productId: $p) { billingCycle } }`,
      {
        s: a.serviceId,
        p: product,
      },
    );
    expect(r.data!.changeVpnPackage, JSON.stringify(r.errors)).to.deep.equal({ billingCycle: 'Annually' });
    // Leaving an unlimited product credits the new allowance for that cycle, once.
    expect((await account(a.serviceId)).traffic).to.deep.include({ balanceBytes: 12 * GB, unlimited: false });
  });

  it('usage this cycle is exact in a zone west of UTC (traffic minutes after a renewal late in the day)', async () => {
    const a = await create(product, 'Monthly');
    await call(COLLECT);
    sim.pushTraffic(a.address, 40 * MB, 0);
    await call(COLLECT);
    await whmcsService(a.serviceId, { nextduedate: '2027-02-01' });
    expectNoErrors(await call(RENEW, { s: a.serviceId }));
    sim.pushTraffic(a.address, 25 * MB, 5 * MB);
    await call(COLLECT);
    expect((await account(a.serviceId)).traffic.usedThisCycleBytes).to.equal(30 * MB);
    // The day of that traffic is New York's day, whatever UTC's is.
    const [row] = await stack.db.query(
      `SELECT DATE_FORMAT(d.day, '%Y-%m-%d') AS day FROM mod_mikrotikvpn_traffic_daily d
         JOIN mod_mikrotikvpn_accounts a ON a.id = d.account_id WHERE a.service_id = ? ORDER BY d.day DESC LIMIT 1`,
      [a.serviceId],
    );
    expect(row.day).to.equal(dayIn('America/New_York', new Date()));
  });

  it('every day of a range starts at its local midnight, DST days included, west and east of UTC', async () => {
    const a = await create();
    await stack.db.query(
      "UPDATE mod_mikrotikvpn_accounts SET created_at = '2026-01-01' WHERE service_id = ?",
      [a.serviceId],
    );
    const days = async (server: TestServer, from: string, to: string) =>
      (await call(USAGE, { s: a.serviceId, f: from, t: to }, server)).data!.vpnAccount.usage as {
        at: string;
        day: string;
      }[];
    // New York: DST starts 2026-03-08 (23 h) and ends 2026-11-01 (25 h).
    const spring = await days(stack.server, '2026-03-07T05:00:00Z', '2026-03-10T04:00:00Z');
    expect(spring.map((d) => [d.day, d.at])).to.deep.equal([
      ['2026-03-07', '2026-03-07T05:00:00.000Z'],
      ['2026-03-08', '2026-03-08T05:00:00.000Z'],
      ['2026-03-09', '2026-03-09T04:00:00.000Z'],
    ]);
    const fall = await days(stack.server, '2026-10-31T04:00:00Z', '2026-11-03T05:00:00Z');
    expect(fall.map((d) => d.at)).to.deep.equal([
      '2026-10-31T04:00:00.000Z',
      '2026-11-01T04:00:00.000Z',
      '2026-11-02T05:00:00.000Z',
    ]);
    // Sydney: DST ends 2026-04-05 and starts 2026-10-04.
    const sydney = await days(east, '2026-04-03T13:00:00Z', '2026-04-06T14:00:00Z');
    expect(sydney.map((d) => [d.day, d.at])).to.deep.equal([
      ['2026-04-04', '2026-04-03T13:00:00.000Z'],
      ['2026-04-05', '2026-04-04T13:00:00.000Z'],
      ['2026-04-06', '2026-04-05T14:00:00.000Z'],
    ]);
    const october = await days(east, '2026-10-02T14:00:00Z', '2026-10-05T13:00:00Z');
    expect(october.map((d) => [d.day, d.at])).to.deep.equal([
      ['2026-10-03', '2026-10-02T14:00:00.000Z'],
      ['2026-10-04', '2026-10-03T14:00:00.000Z'], // 23 hours long
      ['2026-10-05', '2026-10-04T13:00:00.000Z'],
    ]);
  });

  it('the day table lists quiet days, shows a top-up on its day, and that day’s balance includes it', async () => {
    const a = await create();
    // Created three days ago (days before an account existed are not listed).
    await stack.db.query(
      'UPDATE mod_mikrotikvpn_accounts SET created_at = UTC_TIMESTAMP() - INTERVAL 3 DAY WHERE service_id = ?',
      [a.serviceId],
    );
    await call(COLLECT);
    sim.pushTraffic(a.address, 300 * MB, 0);
    await call(COLLECT);
    expectNoErrors(
      await call(TOPUP, {
        i: { serviceId: a.serviceId, bytes: 100 * GB, idempotencyKey: `late-${a.serviceId}` },
      }),
    );
    const today = dayIn('America/New_York', new Date());
    const from = new Date(Date.now() - 3 * 86_400_000).toISOString();
    const rows = (
      await call(USAGE, { s: a.serviceId, f: from, t: new Date(Date.now() + 86_400_000).toISOString() })
    ).data!.vpnAccount.usage as {
      day: string;
      totalBytes: number;
      creditedBytes: number;
      balanceAfterBytes: number;
    }[];
    expect(rows.length).to.equal(4);
    expect(rows.at(-1)).to.deep.include({
      day: today,
      totalBytes: 300 * MB,
      creditedBytes: 101 * GB, // the first cycle credit and the top-up, both today
      balanceAfterBytes: 101 * GB - 300 * MB,
    });
    for (const quiet of rows.slice(0, -1))
      expect(quiet).to.deep.include({ totalBytes: 0, balanceAfterBytes: 0 });
  });

  it('an idempotency key sent again for another amount, kind or service is refused with CONFLICT naming it', async () => {
    const a = await create();
    const b = await create();
    const send = (input: Record<string, unknown>) =>
      call(TOPUP, { i: { idempotencyKey: 'inv-77-item-3', ...input } });
    expectNoErrors(await send({ serviceId: a.serviceId, bytes: 5 * GB }));
    expectNoErrors(await send({ serviceId: a.serviceId, bytes: 5 * GB })); // the same credit again: fine
    for (const other of [
      { serviceId: a.serviceId, bytes: 6 * GB },
      { serviceId: a.serviceId, bytes: 5 * GB, kind: 'CYCLE' },
      { serviceId: a.serviceId, bytes: 5 * GB, kind: 'ADJUSTMENT', description: 'same key, other kind' },
      { serviceId: b.serviceId, bytes: 5 * GB },
    ]) {
      const r = await send(other);
      expect(codeOf(r), JSON.stringify(other)).to.equal('CONFLICT');
      expect(r.errors![0].message).to.include('"inv-77-item-3"');
    }
    expect((await account(a.serviceId)).traffic.balanceBytes).to.equal(6 * GB);
    expect((await account(b.serviceId)).traffic.balanceBytes).to.equal(1 * GB);
  });

  it('an ADJUSTMENT needs a reason', async () => {
    const a = await create();
    for (const [i, description] of [undefined, '', '   '].entries()) {
      const r = await call(TOPUP, {
        i: {
          serviceId: a.serviceId,
          bytes: -GB,
          kind: 'ADJUSTMENT',
          idempotencyKey: `reason-${i}`,
          description,
        },
      });
      expect(codeOf(r)).to.equal('VALIDATION');
      expect(r.errors![0].extensions!.field).to.equal('description');
    }
    expect((await account(a.serviceId)).traffic.balanceBytes).to.equal(1 * GB);
  });

  it('the used-up notice goes out when an admin adjustment limits the account, once per cycle', async () => {
    const a = await create();
    const adjust = (bytes: number, key: string) =>
      call(TOPUP, {
        i: { serviceId: a.serviceId, bytes, kind: 'ADJUSTMENT', idempotencyKey: key, description: 'abuse' },
      });
    const notices = async () =>
      (
        await stack.db.query(
          "SELECT kind FROM mod_mikrotikvpn_notifications WHERE service_id = ? AND kind = 'LIMITED'",
          [a.serviceId],
        )
      ).length;
    expectNoErrors(await adjust(-2 * GB, `${a.serviceId}-1`));
    expect((await account(a.serviceId)).status).to.equal('LIMITED');
    expect(await notices()).to.equal(1);
    expectNoErrors(await adjust(3 * GB, `${a.serviceId}-2`));
    expectNoErrors(await adjust(-3 * GB, `${a.serviceId}-3`));
    expect((await account(a.serviceId)).status).to.equal('LIMITED');
    expect(await notices()).to.equal(1);
    // A new cycle (its 1 GB and a top-up bring the account back): a new notice may go out.
    await whmcsService(a.serviceId, { nextduedate: '2027-03-01' });
    expectNoErrors(await call(RENEW, { s: a.serviceId }));
    expectNoErrors(await adjust(4 * GB, `${a.serviceId}-4`));
    expect((await account(a.serviceId)).status).to.equal('ACTIVE');
    expectNoErrors(await adjust(-5 * GB, `${a.serviceId}-5`));
    expect(await notices()).to.equal(2);
  });

  it('a setting too large for the database is refused at Create with VALIDATION naming it, leaving nothing', async () => {
    const huge = await stack.whmcs.product({ settings: { trafficMonthlyGb: '99999999999' } });
    const serviceId = await stack.whmcs.service({
      id: ++next,
      userid: client,
      packageid: huge,
      server: serverId,
    });
    const r = await call(`mutation($i: CreateVpnAccountInput!) { createVpnAccount(input: $i) { address } }`, {
      i: {
        serviceId,
        serverId,
        productId: huge,
        username: 'huge1',
        password: 'Passw0rd!',
        billingCycle: 'Monthly',
      },
    });
    expect(codeOf(r)).to.equal('VALIDATION');
    expect(r.errors![0].message).to.include('trafficMonthlyGb');
    expect(
      await stack.db.query('SELECT id FROM mod_mikrotikvpn_accounts WHERE service_id = ?', [serviceId]),
    ).to.deep.equal([]);
    expect(sim.state.findSecret('huge1')).to.equal(undefined);
    const p = await call(`query($p: Int!) { product(id: $p) { invalidSettings } }`, { p: huge });
    expect(p.data!.product.invalidSettings).to.include('trafficMonthlyGb');
  });
});
