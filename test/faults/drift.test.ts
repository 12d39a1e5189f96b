import { expect } from 'chai';
import { startStack, type Stack } from '../helpers/stack';
import type { SimulatedRouter } from '../simulator/simulated-router';
import { Accounts, FULL, waitFor } from './fault-fixtures';

const INTERVAL_SECONDS = 2;

interface ReconcileLog {
  msg: string;
  repaired: number;
  actions: Record<string, number>;
  foreign: { routerId: string; detail: string }[];
}

/**
 * Item 6 of issue #9: secrets deleted, disabled or edited by hand on the router, and foreign secrets.
 * The built-in reconcile clock repairs ours and reports the foreign ones in one pass, within one
 * reconcile period, with nobody calling anything.
 */
describe('faults: drift made by hand on the router is repaired by the reconcile clock', function () {
  this.timeout(FULL ? 600_000 : 120_000);
  const count = FULL ? 100 : 12;
  let stack: Stack;
  let sim: SimulatedRouter;
  const list: { serviceId: number; username: string }[] = [];

  const passes = (): ReconcileLog[] =>
    stack.server.output
      .map((line) => {
        try {
          return JSON.parse(line) as ReconcileLog;
        } catch {
          return null;
        }
      })
      .filter((e): e is ReconcileLog => e?.msg === 'reconcile run');

  before(async () => {
    stack = await startStack({ RECONCILE_INTERVAL_SECONDS: String(INTERVAL_SECONDS) });
    let serverId: number;
    ({ sim, serverId } = await stack.addRouter({
      assignedips: Array.from(
        { length: count + 5 },
        (_, i) => `10.99.${Math.floor(i / 200)}.${(i % 200) + 2}`,
      ),
    }));
    const client = await stack.whmcs.client();
    const productId = await stack.whmcs.product({
      settings: { commentPrefix: 'WH', downloadMbps: '10', uploadMbps: '2', trafficMonthlyGb: '50' },
    });
    const accounts = new Accounts(stack, client, productId, 80_000);
    for (let i = 0; i < count; i++) {
      const username = `drift${i}`;
      list.push({ ...(await accounts.create(serverId, username)), username });
    }
    // A quarter of them suspended in WHMCS.
    for (const a of list.filter((_, i) => i % 4 === 3))
      await accounts.call(`mutation($s: Int!) { suspendVpnAccount(serviceId: $s) { status } }`, {
        s: a.serviceId,
      });
  });
  after(() => stack?.stop());

  it(`${count} accounts drifted by hand plus foreign secrets: one pass of the clock, within one period`, async () => {
    // Start right after a pass, so the next one is at most one period away.
    const seen = passes().length;
    await waitFor('a reconcile pass', async () => passes().length > seen, 4 * INTERVAL_SECONDS * 1000);
    const before = passes().length;
    const driftAt = Date.now();
    list.forEach((a, i) => {
      const secret = sim.state.findSecret(a.username)!;
      if (i % 4 === 0)
        sim.state.deleteSecret(secret); // deleted
      else if (i % 4 === 1)
        secret.disabled = true; // disabled although active
      else if (i % 4 === 2) {
        secret.profile = 'default-encryption'; // edited
        sim.state.findQueue(`vpn-${a.serviceId}`)!.maxLimit = [1n, 1n];
      } else secret.disabled = false; // a suspended account switched back on
    });
    const template = sim.state.findSecret(list[1].username)!;
    const foreign = ['WH999001', 'WH999002'].map((comment, i) => {
      const row = {
        ...template,
        id: sim.state.secrets.allocateId(),
        name: `stranger${i}`,
        comment,
        password: `x${i}`,
      };
      sim.state.insertSecret(row);
      return row.name;
    });
    sim.state.insertSecret({
      ...template,
      id: sim.state.secrets.allocateId(),
      name: 'office',
      comment: 'printer',
      password: 'y',
    });

    await waitFor(
      'the next reconcile pass',
      async () => passes().length > before,
      4 * INTERVAL_SECONDS * 1000,
    );
    const repairedAfterMs = Date.now() - driftAt;
    const pass = passes()[before];
    // Everything repaired by that one pass.
    list.forEach((a, i) => {
      const secret = sim.state.findSecret(a.username);
      expect(secret, a.username).to.not.equal(undefined);
      expect(secret!.disabled, a.username).to.equal(i % 4 === 3);
      expect(secret!.profile, a.username).to.equal('default');
      expect(sim.state.findQueue(`vpn-${a.serviceId}`)!.maxLimit).to.deep.equal([2_000_000n, 10_000_000n]);
    });
    expect(pass.repaired).to.be.at.least(count);
    expect(pass.foreign.map((f) => f.detail.split(' ')[1]).sort()).to.deep.equal(foreign);
    // Foreign secrets untouched.
    expect(sim.state.findSecret('stranger0')).to.include({ comment: 'WH999001', password: 'x0' });
    expect(sim.state.findSecret('office')).to.include({ comment: 'printer', password: 'y' });
    // The next pass finds nothing left to do.
    await waitFor(
      'one more pass',
      async () => passes().length > before + 1,
      INTERVAL_SECONDS * 1000 + 120_000,
    );
    expect(passes()[before + 1].repaired).to.equal(0);
    console.log(
      `      [figure] ${count} drifted accounts + ${foreign.length} foreign secrets: repaired ${pass.repaired} items ` +
        `(${JSON.stringify(pass.actions)}) in one pass, ${repairedAfterMs} ms after the drift (period ${INTERVAL_SECONDS} s)`,
    );
    expect(repairedAfterMs).to.be.below(INTERVAL_SECONDS * 1000 + 120_000);
  });
});
