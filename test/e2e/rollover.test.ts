import { expect } from 'chai';
import { startStack, type Stack } from '../helpers/stack';
import { codeOf, gql, startServer, waitForHealthy, type TestServer } from '../helpers/test-server';
import { CREATE_VPN_ACCOUNT, createAccountVariables } from '../helpers/accounts';
import type { SimulatedRouter } from '../simulator/simulated-router';

const GB = 1_000_000_000;
const ZONE = 'America/New_York'; // west of UTC: a WHMCS day starts 4-5 hours after UTC's
const COLLECT = `mutation { collectTraffic { routers { ok } } }`;
const SET_POLICY = `mutation($i: ProductPolicyInput!) { setProductPolicy(input: $i) { policy { rollover rolloverMaxBytes rolloverCycles } } }`;
const RENEW = `mutation($s: Int!) { renewVpnAccount(serviceId: $s) { bytes } }`;
const TOPUP = `mutation($i: TopUpTrafficInput!) { topUpTraffic(input: $i) { id } }`;
const ACCOUNT = `query($s: Int!) { vpnAccount(serviceId: $s) {
  traffic { balanceBytes carriedOverBytes carriedOverExpiresAt }
  topUps(first: 100) { nodes { id kind reason cycle period bytes balanceBeforeBytes balanceAfterBytes } } } }`;

interface Line {
  id: string;
  kind: string;
  reason: string;
  cycle: string | null;
  period: string | null;
  bytes: number;
  balanceBeforeBytes: number;
  balanceAfterBytes: number;
}

/**
 * Rollover of unused cycle traffic (issue #18, item 3), through the real server, MariaDB and the
 * simulator: what a renewal carries over and expires, in which order the parts of a balance are
 * used, and that each line is written once whatever WHMCS repeats, runs at once or kills.
 */
describe('rollover: unused cycle traffic carried over, capped, used first, expiring', function () {
  this.timeout(180_000);
  let stack: Stack;
  let sim: SimulatedRouter;
  let serverId: number;
  let client: number;
  let next = 9400;

  const call = (query: string, variables: Record<string, unknown> = {}, server = stack.server) =>
    gql(server.url, query, variables, stack.admin);
  const ok = async (query: string, variables: Record<string, unknown> = {}, server = stack.server) => {
    const r = await call(query, variables, server);
    expect(r.errors, JSON.stringify(r.errors)).to.equal(undefined);
    return r.data!;
  };
  const product = async (name: string, policy: Record<string, string> | null) => {
    const id = await stack.whmcs.product({
      name,
      settings: { trafficMonthlyGb: '10', lowTrafficThresholdGb: '0' },
    });
    if (policy) await ok(SET_POLICY, { i: { productId: id, onExhausted: 'cutoff', ...policy } });
    return id;
  };
  const newAccount = async (username: string, productId: number) => {
    const serviceId = await stack.whmcs.service({
      id: ++next,
      userid: client,
      packageid: productId,
      server: serverId,
      nextduedate: '2026-12-07',
    });
    const data = await ok(
      CREATE_VPN_ACCOUNT,
      createAccountVariables({ serviceId, serverId, productId, username }),
    );
    sim.connect(username);
    await ok(COLLECT);
    return { serviceId, address: data.createVpnAccount.address as string };
  };
  const use = async (address: string, bytes: number) => {
    sim.pushTraffic(address, bytes, 0);
    await ok(COLLECT);
  };
  const renew = async (serviceId: number, due: string, server = stack.server) => {
    await stack.db.query('UPDATE tblhosting SET nextduedate = ? WHERE id = ?', [due, serviceId]);
    return ok(RENEW, { s: serviceId }, server);
  };
  const state = async (serviceId: number) => {
    const a = (await ok(ACCOUNT, { s: serviceId })).vpnAccount;
    const lines = (a.topUps.nodes as Record<string, unknown>[])
      .map((l) => ({
        ...l,
        bytes: Number(l.bytes),
        balanceBeforeBytes: Number(l.balanceBeforeBytes),
        balanceAfterBytes: Number(l.balanceAfterBytes),
      }))
      .reverse() as Line[];
    for (const l of lines)
      expect(l.balanceAfterBytes - l.balanceBeforeBytes).to.equal(l.bytes, `line ${l.id}`);
    return {
      balance: Number(a.traffic.balanceBytes),
      carried: Number(a.traffic.carriedOverBytes),
      expiresAt: a.traffic.carriedOverExpiresAt as string | null,
      lines,
    };
  };
  /** The lines of the last renewal, from its first rollover line to its credit: they chain exactly. */
  const lastRenewal = (lines: Line[]) => {
    const end = lines.map((l) => l.reason).lastIndexOf('RENEWAL');
    let start = end;
    while (start > 0 && lines[start - 1].kind === 'ROLLOVER') start--;
    const part = lines.slice(start, end + 1);
    for (let i = 1; i < part.length; i++)
      expect(part[i].balanceBeforeBytes).to.equal(
        part[i - 1].balanceAfterBytes,
        'the lines of a renewal chain',
      );
    return part.map((l) => [l.reason, l.bytes / GB]);
  };
  const dayInZone = (at: Date) => new Intl.DateTimeFormat('en-CA', { timeZone: ZONE }).format(at);
  /** Every byte accounted for: the balance is what was credited minus what was metered. */
  const ledgerHolds = async (serviceId: number) => {
    const [row] = await stack.db.query(
      `SELECT a.balance_bytes AS balance,
              (SELECT COALESCE(SUM(bytes), 0) FROM mod_mikrotikvpn_traffic_topups t WHERE t.account_id = a.id) AS credited,
              (SELECT COALESCE(SUM(download_bytes + upload_bytes), 0) FROM mod_mikrotikvpn_traffic_samples s WHERE s.account_id = a.id) AS used
         FROM mod_mikrotikvpn_accounts a WHERE a.service_id = ? AND a.status <> 'TERMINATED'`,
      [serviceId],
    );
    expect(BigInt(row.balance)).to.equal(BigInt(row.credited) - BigInt(row.used));
  };

  before(async () => {
    stack = await startStack({ WHMCS_TIME_ZONE: ZONE });
    ({ sim, serverId } = await stack.addRouter({
      assignedips: Array.from({ length: 30 }, (_, i) => `10.62.0.${i + 2}`),
    }));
    sim.state.bootTime = Date.now() - 3_600_000;
    client = await stack.whmcs.client();
  });
  after(() => stack?.stop());

  it('40 % unused and a 3 GB cap: exactly 3 GB carried, used first, expiring two cycles later', async () => {
    const productId = await product('VPN 10 GB, carry 3 GB for 2 cycles', {
      rollover: 'carry',
      rolloverMaxGb: '3',
      rolloverCycles: '2',
    });
    const a = await newAccount('ro1', productId);
    const today = dayInZone(new Date());
    await use(a.address, 6 * GB);
    await renew(a.serviceId, '2027-01-07');
    let s = await state(a.serviceId);
    expect(lastRenewal(s.lines)).to.deep.equal([
      ['CYCLE_UNUSED', -4],
      ['CARRIED_OVER', 3],
      ['RENEWAL', 10],
    ]);
    const rollover = s.lines.filter((l) => l.kind === 'ROLLOVER');
    expect(rollover.map((l) => l.period)).to.deep.equal([`${today}/${today}`, `${today}/${today}`]);
    expect(s.balance).to.equal(13 * GB);
    expect(s.carried).to.equal(3 * GB);
    // It lasts the cycle that ends on 2027-01-07 and the one after: gone at the 2027-02-07 renewal
    // (midnight in New York, UTC-5 in February).
    expect(s.expiresAt).to.equal('2027-02-07T05:00:00.000Z');

    // WHMCS calls Renew again for the same due date: nothing more.
    await renew(a.serviceId, '2027-01-07');
    expect((await state(a.serviceId)).lines).to.have.length(s.lines.length);

    // Carried-over traffic goes first: 1 GB used leaves 2 GB of it, the allowance whole.
    await use(a.address, 1 * GB);
    s = await state(a.serviceId);
    expect([s.balance, s.carried]).to.deep.equal([12 * GB, 2 * GB]);

    // Second renewal, nothing more used: the 2 GB still count (one cycle left); the cap leaves
    // room for 1 GB of the 10 GB unused.
    await renew(a.serviceId, '2027-02-07');
    s = await state(a.serviceId);
    expect(lastRenewal(s.lines)).to.deep.equal([
      ['CYCLE_UNUSED', -10],
      ['CARRIED_OVER', 1],
      ['RENEWAL', 10],
    ]);
    expect([s.balance, s.carried]).to.deep.equal([13 * GB, 3 * GB]);
    expect(s.expiresAt, 'the older 2 GB expire first').to.equal('2027-02-07T05:00:00.000Z');

    // Third renewal: the first carry-over's cycles ran out; the second (1 GB) has one left.
    await renew(a.serviceId, '2027-03-07');
    s = await state(a.serviceId);
    expect(lastRenewal(s.lines)).to.deep.equal([
      ['CARRY_EXPIRED', -2],
      ['CYCLE_UNUSED', -10],
      ['CARRIED_OVER', 2],
      ['RENEWAL', 10],
    ]);
    expect(s.lines.find((l) => l.reason === 'CARRY_EXPIRED')!.period).to.equal(`${today}/${today}`);
    expect([s.balance, s.carried]).to.deep.equal([13 * GB, 3 * GB]);
    // The 1 GB carried on 2027-02-07 lasts until the renewal of 2027-03-07 + 1 month (EST again).
    expect(s.expiresAt).to.equal('2027-03-07T05:00:00.000Z');
    await ledgerHolds(a.serviceId);
  });

  it('bought traffic never expires: it is used after the allowance, and stays whole at renewal', async () => {
    const productId = await product('VPN 10 GB, carry 3 GB', { rollover: 'carry', rolloverMaxGb: '3' });
    const a = await newAccount('ro2', productId);
    await ok(TOPUP, {
      i: { serviceId: a.serviceId, bytes: String(5 * GB), idempotencyKey: 'ro2-addon', kind: 'ADDON' },
    });
    await use(a.address, 4 * GB); // from the allowance: 6 GB of it left, the 5 GB bought untouched
    await renew(a.serviceId, '2027-01-07');
    let s = await state(a.serviceId);
    expect(lastRenewal(s.lines)).to.deep.equal([
      ['CYCLE_UNUSED', -6],
      ['CARRIED_OVER', 3],
      ['RENEWAL', 10],
    ]);
    expect([s.balance, s.carried]).to.deep.equal([18 * GB, 3 * GB]);
    // 3 GB carried, then the 10 GB allowance, then 2 of the 5 GB bought: nothing of the cycle left.
    await use(a.address, 15 * GB);
    await renew(a.serviceId, '2027-02-07');
    s = await state(a.serviceId);
    expect(lastRenewal(s.lines), 'nothing unused, nothing carried').to.deep.equal([['RENEWAL', 10]]);
    expect([s.balance, s.carried, s.expiresAt]).to.deep.equal([13 * GB, 0, null]);
    await ledgerHolds(a.serviceId);
  });

  it('keep (the default) writes no rollover line; a product switched back to keep keeps what was carried', async () => {
    const plain = await product('VPN 10 GB', null);
    const a = await newAccount('ro3', plain);
    await use(a.address, 6 * GB);
    await renew(a.serviceId, '2027-01-07');
    let s = await state(a.serviceId);
    expect(s.lines.map((l) => [l.reason, l.bytes / GB])).to.deep.equal([
      ['FIRST_CYCLE', 10],
      ['RENEWAL', 10],
    ]);
    expect([s.balance, s.carried]).to.deep.equal([14 * GB, 0]);

    const carrying = await product('VPN 10 GB, carry', { rollover: 'carry', rolloverCycles: '1' });
    const b = await newAccount('ro4', carrying);
    await use(b.address, 2 * GB);
    await renew(b.serviceId, '2027-01-07');
    expect((await state(b.serviceId)).carried, 'no GB cap: all 8 GB unused carried').to.equal(8 * GB);
    await ok(SET_POLICY, { i: { productId: carrying, onExhausted: 'cutoff', rollover: 'keep' } });
    await renew(b.serviceId, '2027-02-07');
    s = await state(b.serviceId);
    expect(lastRenewal(s.lines)).to.deep.equal([['RENEWAL', 10]]);
    expect([s.balance, s.carried, s.expiresAt]).to.deep.equal([28 * GB, 0, null]);
    await ledgerHolds(b.serviceId);
  });

  it('renewals repeated, run on two server processes at once, and killed write each line once', async () => {
    const productId = await product('VPN 10 GB, carry 5 GB', { rollover: 'carry', rolloverMaxGb: '5' });
    const second: TestServer = await startServer(stack.env);
    try {
      await waitForHealthy(second);
      const a = await newAccount('ro5', productId);
      const months = ['2027-01-07', '2027-02-07', '2027-03-07', '2027-04-07', '2027-05-07', '2027-06-07'];
      let kills = 0;
      for (const [i, due] of months.entries()) {
        await use(a.address, (i + 1) * GB);
        await stack.db.query('UPDATE tblhosting SET nextduedate = ? WHERE id = ?', [due, a.serviceId]);
        if (i % 2 === 0) {
          // WHMCS's cron and an admin's button at once, on two processes, and once more.
          await Promise.all([
            ok(RENEW, { s: a.serviceId }),
            ok(RENEW, { s: a.serviceId }, second),
            ok(RENEW, { s: a.serviceId }, second),
          ]);
        } else {
          // The process dies somewhere in the renewal; WHMCS calls again later.
          const request = call(RENEW, { s: a.serviceId }).catch(() => undefined);
          await new Promise((r) => setTimeout(r, 5 + i * 7));
          await stack.server.stop('SIGKILL');
          await request;
          kills++;
          stack.server = await startServer(stack.env);
          await waitForHealthy(stack.server);
          await ok(RENEW, { s: a.serviceId }, second);
          await ok(RENEW, { s: a.serviceId });
        }
      }
      expect(kills).to.equal(3);
      const lines = (await state(a.serviceId)).lines;
      // One renewal credit per due date, and at most one of each rollover line per renewal.
      const keys: { idempotency_key: string }[] = await stack.db.query(
        `SELECT t.idempotency_key FROM mod_mikrotikvpn_traffic_topups t
           JOIN mod_mikrotikvpn_accounts a ON a.id = t.account_id WHERE a.service_id = ?`,
        [a.serviceId],
      );
      for (const due of months) {
        expect(
          keys.filter((k) => k.idempotency_key.endsWith(`:due:${due}`)),
          due,
        ).to.have.length(1);
        expect(
          keys.filter((k) => k.idempotency_key.includes(`:due:${due}:unused`)),
          due,
        ).to.have.length(1);
      }
      // Cycle i used i + 1 GB, carried-over traffic first: 5 GB carried (the cap) each time, for one
      // cycle; what of it was not used expires (5 - 2, 5 - 3, 5 - 4 GB); the allowance is whole
      // until more than 5 GB were used.
      const amounts = (reason: string) =>
        lines.filter((l) => l.reason === reason).map((l) => Math.abs(l.bytes) / GB);
      expect(amounts('CYCLE_UNUSED')).to.deep.equal([9, 10, 10, 10, 10, 9]);
      expect(amounts('CARRIED_OVER')).to.deep.equal([5, 5, 5, 5, 5, 5]);
      expect(amounts('CARRY_EXPIRED')).to.deep.equal([3, 2, 1]);
      await ledgerHolds(a.serviceId);
    } finally {
      await second.stop();
    }
  });

  it('refuses a negative cap, a cycle count out of range and an unknown choice, naming the setting', async () => {
    const productId = await product('VPN 10 GB, bad rollover', null);
    const refused = async (input: Record<string, string>) => {
      const r = await call(SET_POLICY, { i: { productId, onExhausted: 'cutoff', ...input } });
      expect(codeOf(r), JSON.stringify(r.errors)).to.equal('VALIDATION');
      const ext = r.errors![0].extensions as { setting: string; reason: string };
      return [ext.setting, ext.reason];
    };
    expect(await refused({ rollover: 'carry', rolloverMaxGb: '-1' })).to.deep.equal([
      'rolloverMaxGb',
      'negative',
    ]);
    expect(await refused({ rollover: 'carry', rolloverCycles: '-2' })).to.deep.equal([
      'rolloverCycles',
      'negative',
    ]);
    expect(await refused({ rollover: 'carry', rolloverCycles: '0' })).to.deep.equal([
      'rolloverCycles',
      'not_cycles',
    ]);
    expect(await refused({ rollover: 'carry', rolloverCycles: '37' })).to.deep.equal([
      'rolloverCycles',
      'not_cycles',
    ]);
    expect(await refused({ rollover: 'carry', rolloverCycles: '1.5' })).to.deep.equal([
      'rolloverCycles',
      'not_cycles',
    ]);
    expect(await refused({ rollover: 'forever' })).to.deep.equal(['rollover', 'not_a_choice']);
    expect(await refused({ rollover: 'carry', rolloverMaxGb: 'lots' })).to.deep.equal([
      'rolloverMaxGb',
      'not_gb',
    ]);
    // Nothing was stored: the product still has the default.
    const read = await ok(
      `query($p: Int!) { product(id: $p) { policy { rollover rolloverMaxBytes rolloverCycles } } }`,
      {
        p: productId,
      },
    );
    expect(read.product.policy).to.deep.equal({
      rollover: 'keep',
      rolloverMaxBytes: null,
      rolloverCycles: 1,
    });
    const set = await ok(SET_POLICY, {
      i: { productId, onExhausted: 'cutoff', rollover: 'carry', rolloverMaxGb: '2.5', rolloverCycles: '3' },
    });
    expect(set.setProductPolicy.policy).to.deep.equal({
      rollover: 'carry',
      rolloverMaxBytes: 2.5 * GB,
      rolloverCycles: 3,
    });
  });
});
