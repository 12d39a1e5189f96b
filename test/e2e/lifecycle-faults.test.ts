import { expect } from 'chai';
import { startStack, type Stack } from '../helpers/stack';
import { codeOf, gql } from '../helpers/test-server';
import { runCli } from '../helpers/cli';
import type { FailRule, SimulatedRouter } from '../simulator/simulated-router';

const CREATE = `mutation($input: CreateVpnAccountInput!) { createVpnAccount(input: $input) { status address } }`;
const TERMINATE = `mutation($s: Int!) { terminateVpnAccount(serviceId: $s) { status } }`;
const RECONCILE = `mutation { reconcile { routersChecked accountsChecked repaired actions { serviceId kind detail } } }`;

describe('lifecycle under router failures, and reconcile after drift', function () {
  let stack: Stack;
  let sim: SimulatedRouter;
  let serverId: number;
  let productId: number;
  let client: number;
  let next = 5000;

  const call = (query: string, variables: Record<string, unknown> = {}) =>
    gql(stack.server.url, query, variables, stack.admin);
  const newService = () =>
    stack.whmcs.service({ id: ++next, userid: client, packageid: productId, server: serverId });
  const create = (serviceId: number, username = `f${serviceId}`) =>
    call(CREATE, {
      input: { serviceId, serverId, productId, username, password: 'Passw0rd!', billingCycle: 'Monthly' },
    });
  const liveRows = async (serviceId: number) =>
    stack.db.query(
      "SELECT status, status_reason FROM mod_mikrotikvpn_accounts WHERE service_id = ? AND status <> 'TERMINATED'",
      [serviceId],
    );

  before(async () => {
    stack = await startStack();
    ({ sim, serverId } = await stack.addRouter({
      assignedips: Array.from({ length: 60 }, (_, i) => `10.40.0.${i + 2}`),
    }));
    client = await stack.whmcs.client();
    productId = await stack.whmcs.product({
      settings: { commentPrefix: 'WH', downloadMbps: '10', uploadMbps: '2', trafficMonthlyGb: '5' },
    });
  });
  after(() => stack?.stop());

  const createSteps: FailRule[] = [
    { path: '/ppp/secret/print', kind: 'trap', message: 'failure: simulated' },
    { path: '/ppp/secret/add', kind: 'trap', message: 'failure: simulated' },
    { path: '/ppp/secret/add', kind: 'drop' },
    { path: '/queue/simple/print', kind: 'drop' },
    { path: '/queue/simple/add', kind: 'trap', message: 'failure: already have such name' },
    { path: '/queue/simple/add', kind: 'drop' },
  ];
  for (const rule of createSteps) {
    it(`create failing at ${rule.path} (${rule.kind}) leaves nothing on either side, and a retry succeeds`, async () => {
      const serviceId = await newService();
      sim.faults.failOn.push({ ...rule });
      const r = await create(serviceId);
      expect(codeOf(r)).to.be.oneOf(['ROUTER_ERROR', 'ROUTER_UNREACHABLE']);
      expect(await liveRows(serviceId)).to.deep.equal([]);
      expect(sim.state.findSecret(`f${serviceId}`)).to.equal(undefined);
      expect(sim.state.findQueue(`vpn-${serviceId}`)).to.equal(undefined);
      const topUps = await stack.db.query(
        'SELECT COUNT(*) AS n FROM mod_mikrotikvpn_traffic_topups t JOIN mod_mikrotikvpn_accounts a ON a.id = t.account_id WHERE a.service_id = ?',
        [serviceId],
      );
      expect(Number(topUps[0].n)).to.equal(0);
      const retry = await create(serviceId);
      expect(retry.errors, JSON.stringify(retry.errors)).to.equal(undefined);
      expect(retry.data!.createVpnAccount.status).to.equal('ACTIVE');
      expect(sim.state.findSecret(`f${serviceId}`)).to.not.equal(undefined);
    });
  }

  const terminateSteps: FailRule[] = [
    { path: '/ppp/active/print', kind: 'drop' },
    { path: '/ppp/secret/remove', kind: 'trap', message: 'failure: simulated' },
    { path: '/queue/simple/print', kind: 'drop' },
    { path: '/queue/simple/remove', kind: 'trap', message: 'failure: simulated' },
  ];
  for (const rule of terminateSteps) {
    it(`terminate failing at ${rule.path} (${rule.kind}) keeps the account PENDING with the reason; a retry finishes`, async () => {
      const serviceId = await newService();
      expect((await create(serviceId)).errors).to.equal(undefined);
      sim.faults.failOn.push({ ...rule });
      const r = await call(TERMINATE, { s: serviceId });
      expect(codeOf(r)).to.be.oneOf(['ROUTER_ERROR', 'ROUTER_UNREACHABLE']);
      const [row] = await liveRows(serviceId);
      expect(row.status).to.equal('PENDING');
      expect(row.status_reason).to.match(/termination not finished/);
      const retry = await call(TERMINATE, { s: serviceId });
      expect(retry.errors).to.equal(undefined);
      expect(retry.data!.terminateVpnAccount.status).to.equal('TERMINATED');
      expect(sim.state.findSecret(`f${serviceId}`)).to.equal(undefined);
      expect(sim.state.findQueue(`vpn-${serviceId}`)).to.equal(undefined);
    });
  }

  it('records a suspend the router could not take as PENDING, and reconcile applies it', async () => {
    const serviceId = await newService();
    await create(serviceId, 'pending1');
    sim.faults.failOn.push({ path: '/ppp/secret/print', kind: 'drop' });
    const r = await call(`mutation($s: Int!) { suspendVpnAccount(serviceId: $s) { status } }`, {
      s: serviceId,
    });
    expect(codeOf(r)).to.equal('ROUTER_UNREACHABLE');
    const [row] = await liveRows(serviceId);
    expect(row).to.deep.include({ status: 'PENDING' });
    expect(row.status_reason).to.match(/suspend not applied/);
    expect(sim.state.findSecret('pending1')!.disabled).to.equal(false);
    const report = await call(RECONCILE);
    expect(report.errors).to.equal(undefined);
    expect(sim.state.findSecret('pending1')!.disabled).to.equal(true);
    expect((await liveRows(serviceId))[0].status).to.equal('SUSPENDED');
  });

  describe('reconcile', () => {
    let a: number, b: number, c: number, d: number;
    before(async () => {
      // A clean router for this part: terminate what earlier tests left behind.
      const live = await stack.db.query(
        "SELECT service_id FROM mod_mikrotikvpn_accounts WHERE status <> 'TERMINATED'",
      );
      for (const { service_id } of live) await call(TERMINATE, { s: service_id });
      a = await newService();
      b = await newService();
      c = await newService();
      d = await newService();
      for (const [s, name] of [
        [a, 'ra'],
        [b, 'rb'],
        [c, 'rc'],
        [d, 'rd'],
      ] as [number, string][]) {
        expect((await create(s, name)).errors).to.equal(undefined);
      }
      await call(`mutation($s: Int!) { suspendVpnAccount(serviceId: $s) { status } }`, { s: d });
    });

    it('repairs hand-made drift in one pass, reports foreign secrets without touching them, reading each menu once', async () => {
      // Drift an admin could cause by hand on the router:
      sim.state.deleteSecret(sim.state.findSecret('ra')!); // deleted
      sim.state.findSecret('rb')!.disabled = true; // disabled although ACTIVE
      sim.state.findSecret('rc')!.profile = 'default-encryption'; // edited
      sim.state.findQueue(`vpn-${c}`)!.maxLimit = [1n, 1n]; // limits edited
      const queueB = sim.state.findQueue(`vpn-${b}`)!;
      sim.state.deleteQueue(queueB); // queue deleted
      sim.state.findSecret('rd')!.disabled = false; // suspended account re-enabled...
      sim.connect('rd'); // ...and online
      sim.state.insertSecret({
        ...sim.state.findSecret('rc')!,
        id: sim.state.secrets.allocateId(),
        name: 'stranger',
        comment: 'WH999999',
        password: 'x',
      });
      sim.state.insertSecret({
        ...sim.state.findSecret('rc')!,
        id: sim.state.secrets.allocateId(),
        name: 'office',
        comment: 'printer vpn',
        password: 'y',
      });
      sim.clearCommandLog();

      const r = await call(RECONCILE);
      expect(r.errors, JSON.stringify(r.errors)).to.equal(undefined);
      const kinds = r.data!.reconcile.actions.map(
        (x: { kind: string; serviceId: number | null }) => `${x.kind}:${x.serviceId}`,
      );
      expect(kinds).to.include.members([
        `SECRET_CREATED:${a}`,
        `SECRET_UPDATED:${b}`,
        `QUEUE_CREATED:${b}`,
        `SECRET_UPDATED:${c}`,
        `QUEUE_UPDATED:${c}`,
        `SECRET_DISABLED:${d}`,
        `SESSION_ENDED:${d}`,
        'FOREIGN_SECRET:null',
      ]);
      expect(
        r.data!.reconcile.actions.filter((x: { kind: string }) => x.kind === 'FOREIGN_SECRET'),
      ).to.have.length(1);
      // The router now matches the database.
      expect(sim.state.findSecret('ra')).to.include({ comment: `WH${a}`, disabled: false });
      expect(sim.state.findSecret('rb')!.disabled).to.equal(false);
      expect(sim.state.findQueue(`vpn-${b}`)!.targets).to.deep.equal([
        sim.state.findSecret('rb')!.remoteAddress + '/32',
      ]);
      expect(sim.state.findSecret('rc')!.profile).to.equal('default');
      expect(sim.state.findQueue(`vpn-${c}`)!.maxLimit).to.deep.equal([2_000_000n, 10_000_000n]);
      expect(sim.state.findSecret('rd')!.disabled).to.equal(true);
      expect(sim.state.findActive('rd')).to.equal(undefined);
      // Foreign secrets untouched.
      expect(sim.state.findSecret('stranger')).to.include({ comment: 'WH999999', password: 'x' });
      expect(sim.state.findSecret('office')).to.include({ password: 'y' });
      // The recreated secret cannot know the password: the account says so.
      const [ra] = await liveRows(a);
      expect(ra.status_reason).to.match(/set the password again/);
      // One full print of each menu (repairs look items up by name on their own).
      const fullPrints = (path: string) =>
        sim.commandsFor(path).filter((c) => !c.words.some((w) => w.startsWith('?'))).length;
      expect(fullPrints('/ppp/secret/print')).to.equal(1);
      expect(fullPrints('/queue/simple/print')).to.equal(1);
      expect(fullPrints('/ppp/active/print')).to.equal(1);
    });

    it('finds nothing to repair on a second pass', async () => {
      const r = await call(RECONCILE);
      expect(r.data!.reconcile.repaired).to.equal(0);
      expect(r.data!.reconcile.actions.map((x: { kind: string }) => x.kind)).to.deep.equal([
        'FOREIGN_SECRET',
      ]);
    });

    it('runs the same from the command line', async () => {
      sim.state.findSecret('rb')!.disabled = true;
      const out = await runCli(['reconcile'], stack.env);
      expect(out.code, out.stderr).to.equal(0);
      expect(out.stdout).to.match(new RegExp(`${b}\\tSECRET_UPDATED`));
      expect(out.stdout).to.include('FOREIGN_SECRET');
      expect(out.stdout).to.match(/checked 4 accounts on 1 routers; repaired 1/);
      expect(sim.state.findSecret('rb')!.disabled).to.equal(false);
    });

    it('reports a router it cannot reach and carries on', async () => {
      sim.faults.refuse = true;
      sim.dropConnections();
      try {
        const r = await call(RECONCILE);
        expect(r.errors).to.equal(undefined);
        expect(r.data!.reconcile.actions.map((x: { kind: string }) => x.kind)).to.include('ROUTER_FAILED');
      } finally {
        sim.faults.refuse = false;
      }
    });
  });
});
