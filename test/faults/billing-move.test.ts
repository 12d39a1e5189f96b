import { expect } from 'chai';
import { startStack, type Stack } from '../helpers/stack';
import { codeOf, gql } from '../helpers/test-server';
import { runCli } from '../helpers/cli';
import type { SimulatedRouter } from '../simulator/simulated-router';
import { COLLECT, GB, expectNoErrors } from './fault-fixtures';

const MB = 1_000_000;
const CREATE = `mutation($i: CreateVpnAccountInput!) { createVpnAccount(input: $i) { status address router { serverId } } }`;
const ACCOUNT = `query($s: Int!) { vpnAccount(serviceId: $s) { status address traffic { balanceBytes } topUps(first: 5) { nodes { kind reason bytes description } } } }`;

/**
 * Issue "billing correctness", class 7: a service whose WHMCS server changed is moved by Create —
 * cut off, billed and removed on the old router (or, when that router is down, a removal is left and
 * finished when it is back), an address of the new server, created there — exactly once, keeping
 * balance and history, with an event and a history note.
 */
describe('faults: moving a service to another server', function () {
  this.timeout(120_000);
  let stack: Stack;
  let one: { sim: SimulatedRouter; serverId: number };
  let two: { sim: SimulatedRouter; serverId: number };
  let client: number;
  let product: number;
  let next = 82_000;

  const call = (query: string, variables: Record<string, unknown> = {}) =>
    gql(stack.server.url, query, variables, stack.admin);
  const account = async (s: number) => (await call(ACCOUNT, { s })).data!.vpnAccount;
  const create = (serviceId: number, serverId: number, username: string) =>
    call(CREATE, {
      i: {
        serviceId,
        serverId,
        productId: product,
        username,
        password: 'Passw0rd!',
        billingCycle: 'Monthly',
      },
    });
  const newService = async (username: string) => {
    const serviceId = await stack.whmcs.service({
      id: ++next,
      userid: client,
      packageid: product,
      server: one.serverId,
    });
    const r = await create(serviceId, one.serverId, username);
    expectNoErrors(r);
    return { serviceId, address: r.data!.createVpnAccount.address as string };
  };
  const moveInWhmcs = (serviceId: number, serverId: number) =>
    stack.db.query('UPDATE tblhosting SET server = ? WHERE id = ?', [serverId, serviceId]);

  before(async () => {
    stack = await startStack({ ROUTER_BREAKER_FAILURES: '1000', ROUTER_TIMEOUT_MS: '1500' });
    const a = await stack.addRouter({
      assignedips: Array.from({ length: 10 }, (_, i) => `10.82.1.${i + 2}`),
    });
    const b = await stack.addRouter({
      assignedips: Array.from({ length: 10 }, (_, i) => `10.82.2.${i + 2}`),
    });
    one = a;
    two = b;
    for (const r of [a, b]) r.sim.state.bootTime = Date.now() - 86_400_000;
    client = await stack.whmcs.client();
    product = await stack.whmcs.product({ settings: { trafficMonthlyGb: '10' } });
  });
  after(() => stack?.stop());

  it('moves the account: billed and removed on the old router, created on the new one, once', async () => {
    const s = await newService('mover1');
    one.sim.connect('mover1');
    one.sim.pushTraffic(s.address, 400 * MB, 0);
    await call(COLLECT);
    one.sim.pushTraffic(s.address, 600 * MB, 0); // not collected before the move
    await moveInWhmcs(s.serviceId, two.serverId);
    for (let press = 0; press < 2; press++) {
      const r = await create(s.serviceId, two.serverId, 'mover1');
      expectNoErrors(r);
      expect(r.data!.createVpnAccount).to.deep.include({
        status: 'ACTIVE',
        router: { serverId: two.serverId },
      });
      expect(r.data!.createVpnAccount.address).to.match(/^10\.82\.2\./);
    }
    expect(one.sim.state.findSecret('mover1')).to.equal(undefined);
    expect(one.sim.state.findQueue(`vpn-${s.serviceId}`)).to.equal(undefined);
    expect(one.sim.state.findActive('mover1')).to.equal(undefined);
    expect(two.sim.state.findSecret('mover1')!.disabled).to.equal(false);
    expect(two.sim.state.findQueue(`vpn-${s.serviceId}`)).to.not.equal(undefined);
    const after = await account(s.serviceId);
    expect(after.traffic.balanceBytes).to.equal(10 * GB - 1000 * MB);
    const notes = after.topUps.nodes.filter((t: { kind: string }) => t.kind === 'NOTE');
    expect(notes).to.have.length(1);
    expect(notes[0]).to.deep.include({ reason: 'MOVED', bytes: 0 });
    const events = await stack.db.query(
      "SELECT message FROM mod_mikrotikvpn_events WHERE service_id = ? AND action = 'account.move'",
      [s.serviceId],
    );
    expect(events).to.have.length(1);
    // The new router meters it from there on; the old address is free on the old server.
    two.sim.pushTraffic(after.address, 50 * MB, 0);
    await call(COLLECT);
    expect((await account(s.serviceId)).traffic.balanceBytes).to.equal(10 * GB - 1050 * MB);
    const again = await newService('other1');
    expect(again.address).to.equal(s.address);
  });

  it('the old router down: the account moves at once, the removal waits and bills what it counted when back', async () => {
    const s = await newService('mover2');
    one.sim.pushTraffic(s.address, 300 * MB, 0);
    await call(COLLECT);
    one.sim.pushTraffic(s.address, 200 * MB, 0); // counted on the old router, not read yet
    one.sim.faults.refuse = true;
    one.sim.dropConnections();
    await moveInWhmcs(s.serviceId, two.serverId);
    const r = await create(s.serviceId, two.serverId, 'mover2');
    expectNoErrors(r);
    expect(r.data!.createVpnAccount.status).to.equal('ACTIVE');
    expect(two.sim.state.findSecret('mover2')).to.not.equal(undefined);
    const doctor = await runCli(['doctor', '--whmcs-time-zone', 'UTC'], stack.env);
    expect(doctor.stdout).to.match(/moved away still have objects on their old router/);
    one.sim.faults.refuse = false;
    // The old address stays taken on the old server until the removal is finished.
    const blocked = await newService('other2');
    expect(blocked.address).to.not.equal(s.address);
    // Back online: reconcile reads and bills the old queue, then removes secret and queue.
    const report = await call(`mutation { reconcile { actions { serviceId kind detail } } }`);
    expectNoErrors(report);
    const mine = report.data!.reconcile.actions.filter(
      (x: { serviceId: number }) => x.serviceId === s.serviceId,
    );
    expect(mine.map((x: { kind: string }) => x.kind)).to.include('REMOVAL_FINISHED');
    expect(one.sim.state.findSecret('mover2')).to.equal(undefined);
    expect(one.sim.state.findQueue(`vpn-${s.serviceId}`)).to.equal(undefined);
    expect((await account(s.serviceId)).traffic.balanceBytes).to.equal(10 * GB - 500 * MB);
    const [{ n }] = await stack.db.query('SELECT COUNT(*) AS n FROM mod_mikrotikvpn_router_removals');
    expect(Number(n)).to.equal(0);
  });

  it('refuses a move that cannot be done safely with CONFLICT naming both servers, touching nothing', async () => {
    const s = await newService('mover3');
    // The username is taken by another account on the new server.
    const other = await stack.whmcs.service({
      id: ++next,
      userid: client,
      packageid: product,
      server: two.serverId,
    });
    expectNoErrors(await create(other, two.serverId, 'mover3'));
    await moveInWhmcs(s.serviceId, two.serverId);
    const r = await create(s.serviceId, two.serverId, 'mover3');
    expect(codeOf(r)).to.equal('CONFLICT');
    expect(r.errors![0].message)
      .to.include(`WHMCS server ${one.serverId}`)
      .and.include(`WHMCS server ${two.serverId}`);
    expect(one.sim.state.findSecret('mover3')!.disabled).to.equal(false);
    expect((await account(s.serviceId)).status).to.equal('ACTIVE');
  });
});
