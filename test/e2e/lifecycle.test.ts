import { expect } from 'chai';
import { startStack, type Stack } from '../helpers/stack';
import { codeOf, gql } from '../helpers/test-server';
import { startSimulatedRouter, type SimulatedRouter } from '../simulator/simulated-router';

const ACCOUNT = `serviceId username status statusReason address traffic { balanceBytes cycleAllowanceBytes unlimited }`;
const CREATE = `mutation($input: CreateVpnAccountInput!) { createVpnAccount(input: $input) { ${ACCOUNT} } }`;
const op = (name: string, args = '$s: Int!', call = 'serviceId: $s') =>
  `mutation(${args}) { ${name}(${call}) { ${ACCOUNT} } }`;

/** The PPP profile our test products use, made on the router as an admin would. */
function addVpnProfile(router: SimulatedRouter) {
  router.state.profiles.insert({
    id: '*5',
    name: 'vpn',
    localAddress: '10.20.0.1',
    remoteAddress: '',
    rateLimit: '',
    onlyOne: 'default',
    useEncryption: 'yes',
    changeTcpMss: 'default',
    comment: '',
    builtin: false,
  });
}

describe('account lifecycle end to end (server process + MariaDB + simulated router over TLS)', function () {
  let stack: Stack;
  let sim: SimulatedRouter;
  let serverId: number;
  let routerId: string;
  let productId: number;
  let bigProductId: number;
  let client: number;
  let nextService = 1000;

  const call = (query: string, variables: Record<string, unknown>) =>
    gql(stack.server.url, query, variables, stack.admin);
  const newService = async () =>
    stack.whmcs.service({ id: ++nextService, userid: client, packageid: productId, server: serverId });
  const create = async (serviceId: number, username = `vpn${serviceId}`, password = 'Passw0rd!') =>
    call(CREATE, { input: { serviceId, serverId, productId, username, password, billingCycle: 'Monthly' } });
  const dbAccounts = (serviceId: number) =>
    stack.db.query(
      'SELECT status, address, suspended, balance_bytes FROM mod_mikrotikvpn_accounts WHERE service_id = ? ORDER BY id',
      [serviceId],
    );

  before(async () => {
    stack = await startStack();
    ({ sim, serverId, routerId } = await stack.addRouter({
      assignedips: ['10.20.0.10', ...Array.from({ length: 20 }, (_, i) => `10.20.0.${i + 2}`)],
    }));
    addVpnProfile(sim);
    client = await stack.whmcs.client();
    productId = await stack.whmcs.product({
      name: 'VPN 10 GB',
      settings: {
        commentPrefix: 'WHMCS-',
        profile: 'vpn',
        service: 'l2tp',
        downloadMbps: '20',
        uploadMbps: '5',
        trafficMonthlyGb: '10',
      },
    });
    bigProductId = await stack.whmcs.product({
      name: 'VPN unlimited',
      settings: {
        commentPrefix: 'WHMCS-',
        profile: 'default-encryption',
        service: 'sstp',
        downloadMbps: '100',
        uploadMbps: '50',
        trafficMonthlyGb: '0',
      },
    });
  });
  after(() => stack?.stop());

  describe('createVpnAccount', () => {
    it('creates secret and queue on the router, the lowest free address, and the first allowance', async () => {
      const serviceId = await newService();
      const r = await create(serviceId, 'alice');
      expect(r.errors, JSON.stringify(r.errors)).to.equal(undefined);
      expect(r.data!.createVpnAccount).to.deep.equal({
        serviceId,
        username: 'alice',
        status: 'ACTIVE',
        statusReason: null,
        address: '10.20.0.2',
        traffic: { balanceBytes: 10_000_000_000, cycleAllowanceBytes: 10_000_000_000, unlimited: false },
      });
      // What the router holds, read from the simulator itself.
      const secret = sim.state.findSecret('alice')!;
      expect(secret).to.include({
        service: 'l2tp',
        profile: 'vpn',
        remoteAddress: '10.20.0.2',
        comment: `WHMCS-${serviceId}`,
        disabled: false,
        password: 'Passw0rd!',
      });
      const queue = sim.state.findQueue(`vpn-${serviceId}`)!;
      expect(queue.targets).to.deep.equal(['10.20.0.2/32']);
      expect(queue.maxLimit).to.deep.equal([5_000_000n, 20_000_000n]); // upload/download as RouterOS writes it
      expect(queue.comment).to.equal(`WHMCS-${serviceId}`);
      const [topUp] = await stack.db.query(
        'SELECT kind, bytes, balance_before_bytes, balance_after_bytes FROM mod_mikrotikvpn_traffic_topups t JOIN mod_mikrotikvpn_accounts a ON a.id = t.account_id WHERE a.service_id = ?',
        [serviceId],
      );
      expect(topUp).to.deep.equal({
        kind: 'CYCLE',
        bytes: '10000000000',
        balance_before_bytes: '0',
        balance_after_bytes: '10000000000',
      });
      const [event] = await stack.db.query(
        "SELECT actor, result FROM mod_mikrotikvpn_events WHERE service_id = ? AND action = 'account.create'",
        [serviceId],
      );
      expect(event).to.deep.equal({ actor: 'apikey:bridge', result: 'OK' });
    });

    it('is idempotent: a repeated create returns the account and repairs a missing secret', async () => {
      const serviceId = await newService();
      await create(serviceId, 'bob');
      sim.state.deleteSecret(sim.state.findSecret('bob')!);
      const again = await create(serviceId, 'bob', 'NewPass1');
      expect(again.errors).to.equal(undefined);
      expect(again.data!.createVpnAccount.status).to.equal('ACTIVE');
      expect(sim.state.findSecret('bob')).to.include({ password: 'NewPass1', comment: `WHMCS-${serviceId}` });
      expect(await dbAccounts(serviceId)).to.have.length(1);
      const topUps = await stack.db.query(
        'SELECT COUNT(*) AS n FROM mod_mikrotikvpn_traffic_topups t JOIN mod_mikrotikvpn_accounts a ON a.id = t.account_id WHERE a.service_id = ?',
        [serviceId],
      );
      expect(Number(topUps[0].n)).to.equal(1);
    });

    it('never gives one address to two services created at the same time', async () => {
      const services = [await newService(), await newService(), await newService()];
      const results = await Promise.all(services.map((s) => create(s)));
      for (const r of results) expect(r.errors, JSON.stringify(r.errors)).to.equal(undefined);
      const addresses = results.map((r) => r.data!.createVpnAccount.address);
      expect(new Set(addresses).size).to.equal(3);
      for (const address of addresses) {
        expect([...sim.state.secrets.values()].filter((s) => s.remoteAddress === address)).to.have.length(1);
      }
    });

    it('answers ADDRESS_POOL_EXHAUSTED when the list is full, creating nothing anywhere', async () => {
      const small = await stack.addRouter({ assignedips: ['10.30.0.2', 'bad line'] });
      addVpnProfile(small.sim);
      const onSmall = (serviceId: number) =>
        call(CREATE, {
          input: {
            serviceId,
            serverId: small.serverId,
            productId,
            username: `s${serviceId}`,
            password: 'Passw0rd!',
            billingCycle: 'Monthly',
          },
        });
      expect((await onSmall(await newService())).errors).to.equal(undefined);
      const serviceId = await newService();
      const r = await onSmall(serviceId);
      expect(codeOf(r)).to.equal('ADDRESS_POOL_EXHAUSTED');
      expect(r.errors![0].message).to.match(/line 2/);
      expect(await dbAccounts(serviceId)).to.deep.equal([]);
      expect(small.sim.state.secrets.size).to.equal(1);
      expect(small.sim.state.queues.size).to.equal(1);
    });

    const bad: [string, () => Promise<Record<string, unknown>>, string][] = [
      ['an unknown service', async () => ({ serviceId: 987654 }), 'NOT_FOUND'],
      ['an unknown server', async () => ({ serverId: 987654 }), 'NOT_FOUND'],
      ['an unknown product', async () => ({ productId: 987654 }), 'NOT_FOUND'],
      [
        'a product of another module',
        async () => ({ productId: await stack.whmcs.product({ servertype: 'cpanel' }) }),
        'VALIDATION',
      ],
      [
        'a product with no module settings',
        async () => ({ productId: await stack.whmcs.product({ settings: {} }) }),
        'VALIDATION',
      ],
      [
        'a server of another module',
        async () => ({ serverId: await stack.whmcs.server({ type: 'cpanel' }) }),
        'VALIDATION',
      ],
      // (An empty username asks the server to pick one: test/e2e/whmcs-billing.test.ts.)
      ['a username of 65 characters', async () => ({ username: 'u'.repeat(65) }), 'VALIDATION'],
      ['a username with spaces', async () => ({ username: 'a b' }), 'VALIDATION'],
      ['a password RouterOS cannot take', async () => ({ password: 'pässwort' }), 'VALIDATION'],
      ['an empty password', async () => ({ password: '' }), 'VALIDATION'],
      ['an unknown billing cycle', async () => ({ billingCycle: 'Weekly' }), 'VALIDATION'],
      ['a negative service id', async () => ({ serviceId: -4 }), 'VALIDATION'],
    ];
    for (const [what, patch, code] of bad) {
      it(`refuses ${what} with ${code} and changes nothing on either side`, async () => {
        const serviceId = await newService();
        const input = {
          serviceId,
          serverId,
          productId,
          username: `x${serviceId}`,
          password: 'Passw0rd!',
          billingCycle: 'Monthly',
          ...(await patch()),
        };
        const secretsBefore = sim.state.secrets.size;
        const queuesBefore = sim.state.queues.size;
        const [{ n: accountsBefore }] = await stack.db.query(
          'SELECT COUNT(*) AS n FROM mod_mikrotikvpn_accounts',
        );
        const r = await call(CREATE, { input });
        expect(codeOf(r), JSON.stringify(r.errors)).to.equal(code);
        expect(sim.state.secrets.size).to.equal(secretsBefore);
        expect(sim.state.queues.size).to.equal(queuesBefore);
        expect((await stack.db.query('SELECT COUNT(*) AS n FROM mod_mikrotikvpn_accounts'))[0].n).to.equal(
          accountsBefore,
        );
        expect(JSON.stringify(r)).to.not.include('Passw0rd!');
      });
    }

    it('refuses a username whose secret on the router belongs to something else, leaving it alone', async () => {
      const serviceId = await newService();
      sim.state.insertSecret({
        ...sim.state.findSecret('alice')!,
        id: sim.state.secrets.allocateId(),
        name: 'carol',
        comment: 'hand-made',
        password: 'theirs',
      });
      const r = await create(serviceId, 'carol');
      expect(codeOf(r)).to.equal('CONFLICT');
      expect(sim.state.findSecret('carol')).to.include({ comment: 'hand-made', password: 'theirs' });
      expect(await dbAccounts(serviceId)).to.deep.equal([]);
    });
  });

  describe('suspend, unsuspend, password, reset, package', () => {
    let serviceId: number;
    before(async () => {
      serviceId = await newService();
      await create(serviceId, 'dave');
    });

    it('suspends: secret disabled and the live session cut, twice without harm', async () => {
      sim.connect('dave');
      for (let i = 0; i < 2; i++) {
        const r = await call(op('suspendVpnAccount', '$s: Int!, $r: String', 'serviceId: $s, reason: $r'), {
          s: serviceId,
          r: 'Overdue on Payment',
        });
        expect(r.errors).to.equal(undefined);
        expect(r.data!.suspendVpnAccount).to.include({
          status: 'SUSPENDED',
          statusReason: 'Overdue on Payment',
        });
      }
      expect(sim.state.findSecret('dave')!.disabled).to.equal(true);
      expect(sim.state.findActive('dave')).to.equal(undefined);
    });

    it('unsuspends: secret enabled again', async () => {
      const r = await call(op('unsuspendVpnAccount'), { s: serviceId });
      expect(r.data!.unsuspendVpnAccount).to.include({ status: 'ACTIVE', statusReason: null });
      expect(sim.state.findSecret('dave')!.disabled).to.equal(false);
    });

    it('keeps an account LIMITED for traffic limited when WHMCS unsuspends it', async () => {
      await stack.db.query(
        'UPDATE mod_mikrotikvpn_accounts SET balance_bytes = 0 WHERE service_id = ? AND status <> "TERMINATED"',
        [serviceId],
      );
      await call(op('suspendVpnAccount'), { s: serviceId });
      const r = await call(op('unsuspendVpnAccount'), { s: serviceId });
      expect(r.data!.unsuspendVpnAccount.status).to.equal('LIMITED');
      expect(sim.state.findSecret('dave')!.disabled).to.equal(true);
      await stack.db.query(
        'UPDATE mod_mikrotikvpn_accounts SET balance_bytes = 5 WHERE service_id = ? AND status <> "TERMINATED"',
        [serviceId],
      );
      await call(op('unsuspendVpnAccount'), { s: serviceId });
      expect(sim.state.findSecret('dave')!.disabled).to.equal(false);
    });

    it('changes the password on the router without storing or returning it', async () => {
      const r = await call(op('changeVpnPassword', '$s: Int!, $p: String!', 'serviceId: $s, password: $p'), {
        s: serviceId,
        p: 'Fresh-Pass-9',
      });
      expect(r.errors).to.equal(undefined);
      expect(sim.state.findSecret('dave')!.password).to.equal('Fresh-Pass-9');
      expect(JSON.stringify(r)).to.not.include('Fresh-Pass-9');
      const dump =
        JSON.stringify(await stack.db.query('SELECT * FROM mod_mikrotikvpn_accounts')) +
        JSON.stringify(await stack.db.query('SELECT * FROM mod_mikrotikvpn_events'));
      expect(dump).to.not.include('Fresh-Pass-9');
      const bad = await call(
        op('changeVpnPassword', '$s: Int!, $p: String!', 'serviceId: $s, password: $p'),
        { s: serviceId, p: 'ünïcode' },
      );
      expect(codeOf(bad)).to.equal('VALIDATION');
      expect(sim.state.findSecret('dave')!.password).to.equal('Fresh-Pass-9');
    });

    it('resets the connection: the live session is removed, the secret stays enabled', async () => {
      sim.connect('dave');
      const r = await call(op('resetVpnConnection'), { s: serviceId });
      expect(r.errors).to.equal(undefined);
      expect(sim.state.findActive('dave')).to.equal(undefined);
      expect(sim.state.findSecret('dave')!.disabled).to.equal(false);
    });

    it('changes the package: profile, service and speed on the router, allowance in the database', async () => {
      sim.connect('dave');
      const r = await call(op('changeVpnPackage', '$s: Int!, $p: Int!', 'serviceId: $s, productId: $p'), {
        s: serviceId,
        p: bigProductId,
      });
      expect(r.errors, JSON.stringify(r.errors)).to.equal(undefined);
      expect(r.data!.changeVpnPackage.traffic).to.deep.include({ unlimited: true, cycleAllowanceBytes: 0 });
      expect(sim.state.findSecret('dave')).to.include({ profile: 'default-encryption', service: 'sstp' });
      expect(sim.state.findQueue(`vpn-${serviceId}`)!.maxLimit).to.deep.equal([50_000_000n, 100_000_000n]);
      expect(sim.state.findActive('dave'), 'reconnects for the new profile').to.equal(undefined);
      const back = await call(op('changeVpnPackage', '$s: Int!, $p: Int!', 'serviceId: $s, productId: $p'), {
        s: serviceId,
        p: productId,
      });
      expect(back.data!.changeVpnPackage.traffic).to.deep.include({
        unlimited: false,
        cycleAllowanceBytes: 10_000_000_000,
      });
      expect(sim.state.findSecret('dave')).to.include({ profile: 'vpn', service: 'l2tp' });
    });

    it('answers NOT_FOUND for a service without an account', async () => {
      expect(codeOf(await call(op('suspendVpnAccount'), { s: 424242 }))).to.equal('NOT_FOUND');
    });
  });

  describe('terminateVpnAccount', () => {
    it('removes secret and queue, frees the address, keeps history, and a new create starts cleanly', async () => {
      const serviceId = await newService();
      const created = await create(serviceId, 'erin');
      const address = created.data!.createVpnAccount.address;
      sim.connect('erin');
      for (let i = 0; i < 2; i++) {
        const r = await call(op('terminateVpnAccount'), { s: serviceId });
        expect(r.errors).to.equal(undefined);
        expect(r.data!.terminateVpnAccount.status).to.equal('TERMINATED');
      }
      expect(sim.state.findSecret('erin')).to.equal(undefined);
      expect(sim.state.findQueue(`vpn-${serviceId}`)).to.equal(undefined);
      expect(sim.state.findActive('erin')).to.equal(undefined);
      const recreated = await create(serviceId, 'erin');
      expect(recreated.data!.createVpnAccount).to.include({ status: 'ACTIVE', address });
      const rows = await dbAccounts(serviceId);
      expect(rows.map((r: { status: string }) => r.status)).to.deep.equal(['TERMINATED', 'ACTIVE']);
    });
  });

  describe('testRouterConnection', () => {
    it('reports identity, version and profiles of a good router', async () => {
      const r = await call(
        `mutation($i: RouterInput!) { testRouterConnection(input: $i) { ok identity version profiles problems warnings errorCode } }`,
        {
          i: { serverId, host: '127.0.0.1', port: sim.port, username: 'api', caPem: sim.caPem },
        },
      );
      expect(r.errors).to.equal(undefined);
      expect(r.data!.testRouterConnection).to.deep.include({
        ok: true,
        identity: 'MikroTik',
        errorCode: null,
        problems: [],
      });
      expect(r.data!.testRouterConnection.version).to.match(/^7\./);
      expect(r.data!.testRouterConnection.profiles).to.include.members([
        'default',
        'default-encryption',
        'vpn',
      ]);
    });

    it('explains a refused login and a wrong certificate in words an admin can act on', async () => {
      const badLogin = await call(
        `mutation($i: RouterInput!) { testRouterConnection(input: $i) { ok errorCode problems } }`,
        {
          i: {
            serverId,
            host: '127.0.0.1',
            port: sim.port,
            username: 'api',
            password: 'wrong',
            caPem: sim.caPem,
          },
        },
      );
      expect(badLogin.data!.testRouterConnection).to.deep.include({
        ok: false,
        errorCode: 'ROUTER_AUTH_FAILED',
      });
      expect(badLogin.data!.testRouterConnection.problems[0]).to.match(/refused the login/);
      expect(JSON.stringify(badLogin)).to.not.include('wrong"');
      const badPin = await call(
        `mutation($i: RouterInput!) { testRouterConnection(input: $i) { ok errorCode problems } }`,
        {
          i: {
            serverId,
            host: '127.0.0.1',
            port: sim.port,
            username: 'api',
            fingerprintSha256: 'AA'.repeat(32),
          },
        },
      );
      expect(badPin.data!.testRouterConnection).to.deep.include({
        ok: false,
        errorCode: 'ROUTER_TLS_FAILED',
      });
      expect(badPin.data!.testRouterConnection.problems[0]).to.match(/certificate/);
    });

    it('names an old RouterOS and a closed api-ssl port as problems', async () => {
      const old = await startSimulatedRouter({
        tls: true,
        version: '6.49.10',
        users: { api: 'router-pass' },
      });
      try {
        const r = await call(
          `mutation($i: RouterInput!) { testRouterConnection(input: $i) { ok version problems } }`,
          { i: { serverId, host: '127.0.0.1', port: old.port, username: 'api', caPem: old.caPem } },
        );
        expect(r.data!.testRouterConnection.version).to.match(/^6\.49/);
        expect(r.data!.testRouterConnection.ok).to.equal(false);
        expect(r.data!.testRouterConnection.problems.join(' ')).to.match(/older than 7/);
      } finally {
        await old.close();
      }
      const closedPort = old.port; // nothing listens there any more
      const r = await call(
        `mutation($i: RouterInput!) { testRouterConnection(input: $i) { ok errorCode problems } }`,
        { i: { serverId, host: '127.0.0.1', port: closedPort, username: 'api', caPem: sim.caPem } },
      );
      expect(r.data!.testRouterConnection).to.deep.include({ ok: false, errorCode: 'ROUTER_UNREACHABLE' });
      expect(r.data!.testRouterConnection.problems[0]).to.match(/api-ssl enabled/);
    });
  });

  describe('reads from the router', () => {
    it('shows the live connection and the router status, one /ppp/active/print per router', async () => {
      const serviceId = await newService();
      await create(serviceId, 'frank');
      sim.connect('frank', { callerId: '198.51.100.7', service: 'l2tp' });
      sim.clearCommandLog();
      const r = await call(
        `{ vpnAccounts(first: 50) { nodes { username connection { online service callerId address } } } routers { status { reachable identity version uptimeSeconds } } }`,
        {},
      );
      expect(r.errors, JSON.stringify(r.errors)).to.equal(undefined);
      const frank = r.data!.vpnAccounts.nodes.find((n: { username: string }) => n.username === 'frank');
      expect(frank.connection).to.deep.include({ online: true, service: 'l2tp', callerId: '198.51.100.7' });
      expect(
        r.data!.vpnAccounts.nodes.filter((n: any) => n.connection && !n.connection.online).length,
      ).to.be.greaterThan(0);
      expect(sim.commandsFor('/ppp/active/print')).to.have.length(1);
      expect(r.data!.routers[0].status).to.deep.include({ reachable: true, identity: 'MikroTik' });
      const profiles = await call(`query($id: ID!) { routerProfiles(routerId: $id) }`, { id: routerId });
      expect(profiles.data!.routerProfiles).to.include('vpn');
    });
  });
});
