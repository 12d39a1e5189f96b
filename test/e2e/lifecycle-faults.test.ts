import { expect } from 'chai';
import { startStack, type Stack } from '../helpers/stack';
import { codeOf, gql } from '../helpers/test-server';
import { runCli } from '../helpers/cli';
import type { FailRule, SimulatedRouter } from '../simulator/simulated-router';
import { scopedLockName } from '../../src/db/named-lock';

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

  const kindsOf = (r: { data?: Record<string, any> | null }): string[] =>
    r.data!.reconcile.actions.map(
      (x: { kind: string; serviceId: number | null }) => `${x.kind}:${x.serviceId}`,
    );
  const lastRow = async (serviceId: number) =>
    (
      await stack.db.query(
        'SELECT status, pending_action, live_address, terminated_at FROM mod_mikrotikvpn_accounts WHERE service_id = ? ORDER BY id DESC LIMIT 1',
        [serviceId],
      )
    )[0];
  /** Terminate stops after the secret is gone, at the queue's removal. */
  const halfTerminate = async (serviceId: number) => {
    expect((await create(serviceId)).errors).to.equal(undefined);
    sim.faults.failOn.push({ path: '/queue/simple/remove', kind: 'trap', message: 'failure: simulated' });
    const r = await call(TERMINATE, { s: serviceId });
    expect(codeOf(r)).to.equal('ROUTER_ERROR');
    expect(sim.state.findSecret(`f${serviceId}`)).to.equal(undefined);
    expect(sim.state.findQueue(`vpn-${serviceId}`)).to.not.equal(undefined);
    expect((await lastRow(serviceId)).status).to.equal('PENDING');
  };

  it('reconcile finishes a terminate that failed at the queue removal instead of re-provisioning it', async () => {
    const serviceId = await newService();
    await halfTerminate(serviceId);
    const r = await call(RECONCILE);
    expect(r.errors, JSON.stringify(r.errors)).to.equal(undefined);
    expect(kindsOf(r)).to.include(`TERMINATE_FINISHED:${serviceId}`);
    expect(kindsOf(r)).to.not.include(`SECRET_CREATED:${serviceId}`);
    expect(sim.state.findSecret(`f${serviceId}`)).to.equal(undefined);
    expect(sim.state.findQueue(`vpn-${serviceId}`)).to.equal(undefined);
    const row = await lastRow(serviceId);
    expect(row).to.include({ status: 'TERMINATED', pending_action: null, live_address: null });
    expect(row.terminated_at).to.not.equal(null);
    // A second pass has nothing left to do for it.
    expect(kindsOf(await call(RECONCILE)).filter((k) => k.endsWith(`:${serviceId}`))).to.deep.equal([]);
  });

  it('refuses other actions on a half-terminated account; the next terminate press finishes it', async () => {
    const serviceId = await newService();
    await halfTerminate(serviceId);
    const suspend = await call(`mutation($s: Int!) { suspendVpnAccount(serviceId: $s) { status } }`, {
      s: serviceId,
    });
    expect(codeOf(suspend)).to.equal('CONFLICT');
    expect(sim.state.findSecret(`f${serviceId}`)).to.equal(undefined);
    const again = await call(TERMINATE, { s: serviceId });
    expect(again.errors, JSON.stringify(again.errors)).to.equal(undefined);
    expect(again.data!.terminateVpnAccount.status).to.equal('TERMINATED');
    expect(sim.state.findSecret(`f${serviceId}`)).to.equal(undefined);
    expect(sim.state.findQueue(`vpn-${serviceId}`)).to.equal(undefined);
    expect(await lastRow(serviceId)).to.include({
      status: 'TERMINATED',
      pending_action: null,
      live_address: null,
    });
  });

  it('the collector settling a half-terminated account finishes the terminate instead of limiting it', async () => {
    const serviceId = await newService();
    await halfTerminate(serviceId);
    // Its traffic ran out meanwhile: the collector settles (limits) accounts in that state.
    await stack.db.query('UPDATE mod_mikrotikvpn_accounts SET balance_bytes = 0 WHERE service_id = ?', [
      serviceId,
    ]);
    const r = await call(`mutation { collectTraffic { accountsCollected } }`);
    expect(r.errors, JSON.stringify(r.errors)).to.equal(undefined);
    expect(sim.state.findSecret(`f${serviceId}`)).to.equal(undefined);
    expect(sim.state.findQueue(`vpn-${serviceId}`)).to.equal(undefined);
    expect(await lastRow(serviceId)).to.include({
      status: 'TERMINATED',
      pending_action: null,
      live_address: null,
    });
  });

  it("create refuses a queue named vpn-<service id> that carries someone else's comment, and leaves it alone", async () => {
    const serviceId = await newService();
    sim.state.insertQueue({
      id: sim.state.queues.allocateId(),
      name: `vpn-${serviceId}`,
      targets: ['192.168.77.7/32'],
      parent: 'none',
      priority: '8/8',
      queue: 'default-small/default-small',
      limitAt: [0n, 0n],
      maxLimit: [1_000_000n, 1_000_000n],
      burstLimit: [0n, 0n],
      burstThreshold: [0n, 0n],
      burstTime: '0s/0s',
      bucketSize: '0.1/0.1',
      packetMarks: '',
      bytes: [123_456_789n, 987_654_321n],
      packets: [1000n, 2000n],
      comment: 'OTHER-INSTALL-1',
      disabled: false,
      dynamic: false,
    });
    const r = await create(serviceId);
    expect(codeOf(r)).to.equal('CONFLICT');
    expect(r.errors![0].message).to.match(new RegExp(`queue named vpn-${serviceId} .*does not belong`));
    expect(await liveRows(serviceId)).to.deep.equal([]);
    expect(sim.state.findSecret(`f${serviceId}`)).to.equal(undefined);
    const queue = sim.state.findQueue(`vpn-${serviceId}`)!;
    expect(queue).to.include({ comment: 'OTHER-INSTALL-1' });
    expect(queue.targets).to.deep.equal(['192.168.77.7/32']);
    expect(queue.bytes).to.deep.equal([123_456_789n, 987_654_321n]);
    // Once it is gone, the create goes through.
    sim.state.deleteQueue(queue);
    const retry = await create(serviceId);
    expect(retry.errors, JSON.stringify(retry.errors)).to.equal(undefined);
    expect(sim.state.findQueue(`vpn-${serviceId}`)!.comment).to.equal(`WH${serviceId}`);
    await call(TERMINATE, { s: serviceId });
  });

  it("reconcile reports a same-named secret with someone else's comment and does not touch it", async () => {
    const serviceId = await newService();
    expect((await create(serviceId)).errors).to.equal(undefined);
    const ours = sim.state.findSecret(`f${serviceId}`)!;
    sim.state.deleteSecret(ours);
    sim.state.insertSecret({
      ...ours,
      id: sim.state.secrets.allocateId(),
      comment: 'someone else',
      profile: 'default-encryption',
      remoteAddress: '192.168.50.5',
      password: 'theirs',
      disabled: true,
    });
    const r = await call(RECONCILE);
    expect(r.errors, JSON.stringify(r.errors)).to.equal(undefined);
    expect(kindsOf(r)).to.include(`SECRET_CONFLICT:${serviceId}`);
    expect(kindsOf(r).filter((k) => k.endsWith(`:${serviceId}`))).to.deep.equal([
      `SECRET_CONFLICT:${serviceId}`,
    ]);
    expect(sim.state.findSecret(`f${serviceId}`)).to.include({
      comment: 'someone else',
      profile: 'default-encryption',
      remoteAddress: '192.168.50.5',
      password: 'theirs',
      disabled: true,
    });
    sim.state.deleteSecret(sim.state.findSecret(`f${serviceId}`)!);
    await call(TERMINATE, { s: serviceId });
  });

  it('reconcile skips and reports an account whose service lock is held, and repairs it once free', async () => {
    const serviceId = await newService();
    expect((await create(serviceId)).errors).to.equal(undefined);
    sim.state.findSecret(`f${serviceId}`)!.disabled = true; // drift
    const holder = stack.db.createQueryRunner();
    const lockName = scopedLockName(stack.tdb.config.database, `service:${serviceId}`);
    try {
      const [got] = await holder.query('SELECT GET_LOCK(?, 0) AS got', [lockName]);
      expect(Number(got.got)).to.equal(1);
      const busy = await call(RECONCILE);
      expect(busy.errors, JSON.stringify(busy.errors)).to.equal(undefined);
      expect(kindsOf(busy)).to.include(`ACCOUNT_BUSY:${serviceId}`);
      expect(kindsOf(busy)).to.not.include(`SECRET_UPDATED:${serviceId}`);
      expect(sim.state.findSecret(`f${serviceId}`)!.disabled).to.equal(true);
    } finally {
      await holder.query('SELECT RELEASE_LOCK(?)', [lockName]);
      await holder.release();
    }
    const free = await call(RECONCILE);
    expect(kindsOf(free)).to.include(`SECRET_UPDATED:${serviceId}`);
    expect(sim.state.findSecret(`f${serviceId}`)!.disabled).to.equal(false);
    await call(TERMINATE, { s: serviceId });
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
