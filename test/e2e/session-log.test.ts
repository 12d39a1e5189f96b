import { expect } from 'chai';
import mysql from 'mysql2/promise';
import { startStack, type Stack } from '../helpers/stack';
import { codeOf, gql, startServer, waitForHealthy } from '../helpers/test-server';
import { testServerConfig } from '../helpers/test-db';
import type { SimulatedRouter } from '../simulator/simulated-router';
import { CREATE_VPN_ACCOUNT, createAccountVariables } from '../helpers/accounts';

/**
 * The session log end to end: the server process on MariaDB, collections of a simulated router
 * over TLS. Sessions come from the one /ppp/active print each collection makes per router; their
 * times are bounded by the readings (and exact for our own actions); "who had this address then"
 * answers from them.
 */

const SESSION = `id serviceId protocol service callerId address startedAt lastSeenAt endedAt endExact endReason downloadBytes uploadBytes durationSeconds open`;
const SESSIONS = `query($s: Int!) { sessions(serviceId: $s, first: 50) { nodes { ${SESSION} } } }`;
const OWNER = `query($a: String!, $t: DateTime!) { addressOwner(address: $a, at: $t) { address ours certain reason reasonCode session { id serviceId startedAt endedAt } account { serviceId clientId username } } }`;
const COLLECT = `mutation { collectTraffic { accountsCollected routers { ok rebooted } } }`;

interface Session {
  id: string;
  serviceId: number;
  callerId: string | null;
  address: string | null;
  startedAt: string;
  lastSeenAt: string;
  endedAt: string | null;
  endExact: boolean;
  endReason: string | null;
  downloadBytes: number;
  uploadBytes: number;
  open: boolean;
}

describe('session log: every connection from the readings we already make, and who had an address when', function () {
  this.timeout(120_000);
  let stack: Stack;
  let sim: SimulatedRouter;
  let serverId: number;
  let productId: number;
  let singleProductId: number;
  let client: number;
  let other: number;
  let next = 7000;

  const call = (query: string, variables: Record<string, unknown> = {}) =>
    gql(stack.server.url, query, variables, stack.admin);
  const ok = async (query: string, variables: Record<string, unknown> = {}) => {
    const r = await call(query, variables);
    expect(r.errors, JSON.stringify(r.errors)).to.equal(undefined);
    return r.data!;
  };
  const collect = () => ok(COLLECT);
  const sessions = async (serviceId: number): Promise<Session[]> =>
    (await ok(SESSIONS, { s: serviceId })).sessions.nodes;
  const newAccount = async (username: string, product = productId, userid = client) => {
    const serviceId = await stack.whmcs.service({ id: ++next, userid, packageid: product, server: serverId });
    const data = await ok(
      CREATE_VPN_ACCOUNT,
      createAccountVariables({ serviceId, serverId, productId: product, username }),
    );
    return { serviceId, username, address: data.createVpnAccount.address as string };
  };
  const dbNow = async () => (await stack.db.query('SELECT UTC_TIMESTAMP(3) AS t'))[0].t as Date;

  before(async () => {
    stack = await startStack();
    ({ sim, serverId } = await stack.addRouter({
      assignedips: Array.from({ length: 20 }, (_, i) => `10.77.0.${i + 2}`),
    }));
    sim.state.bootTime = Date.now() - 3_600_000;
    client = await stack.whmcs.client();
    other = await stack.whmcs.client({ firstname: 'Other' });
    productId = await stack.whmcs.product({ settings: { trafficMonthlyGb: '10', service: 'l2tp' } });
    singleProductId = await stack.whmcs.product({
      name: 'One session',
      settings: { trafficMonthlyGb: '10', service: 'l2tp', singleSession: 'on' },
    });
  });
  after(() => stack?.stop());

  it('opens a session when it appears, counts its traffic, and closes it between the two readings when it is gone', async () => {
    const a = await newAccount('s1');
    await collect();
    const before = await dbNow();
    sim.connect('s1', { callerId: '203.0.113.7' });
    sim.state.findActive('s1')!.connectedAt -= 90_000; // up for 90 s when the collector first sees it
    await collect();
    let [s] = await sessions(a.serviceId);
    expect(s).to.include({ open: true, callerId: '203.0.113.7', address: a.address, endedAt: null });
    const started = Date.parse(s.startedAt);
    expect(started).to.be.within(before.getTime() - 92_000, before.getTime() - 88_000 + 5_000);

    sim.pushTraffic(a.address, 4_000_000, 1_000_000);
    await collect();
    [s] = await sessions(a.serviceId);
    expect(s).to.include({ downloadBytes: 4_000_000, uploadBytes: 1_000_000, open: true });

    const lastSeen = s.lastSeenAt;
    sim.disconnect('s1');
    await collect();
    [s] = await sessions(a.serviceId);
    expect(s).to.include({ open: false, endExact: false, endReason: 'disconnected', lastSeenAt: lastSeen });
    expect(Date.parse(s.endedAt!)).to.be.greaterThan(Date.parse(s.lastSeenAt));

    // Reconnect between two readings: a new RouterOS session, a new row; the old one stays closed.
    sim.connect('s1');
    await collect();
    sim.disconnect('s1');
    sim.connect('s1', { callerId: '198.51.100.99' });
    await collect();
    const all = await sessions(a.serviceId);
    expect(all.map((x) => [x.open, x.callerId, x.endReason])).to.deep.equal([
      [true, '198.51.100.99', null],
      [false, '198.51.100.7', 'disconnected'],
      [false, '203.0.113.7', 'disconnected'],
    ]);
    // A repeated reading adds nothing.
    await collect();
    expect(await sessions(a.serviceId)).to.have.length(3);
  });

  it('every billed byte of a connected account is in exactly one of its sessions, across reconnects and our own actions', async () => {
    const a = await newAccount('s20');
    sim.connect('s20', { callerId: '192.0.2.1' });
    await collect();
    sim.pushTraffic(a.address, 1_000, 100);
    await collect();
    // Traffic, then a reconnect between two readings: the reading's bytes go to the new session.
    sim.pushTraffic(a.address, 20_000, 2_000);
    sim.disconnect('s20');
    sim.connect('s20', { callerId: '192.0.2.2' });
    await collect();
    // Open for several readings, then gone: the reading that finds it gone gives it its last bytes.
    sim.pushTraffic(a.address, 300_000, 30_000);
    await collect();
    sim.pushTraffic(a.address, 4_000_000, 400_000);
    sim.disconnect('s20');
    await collect();
    // Our own action ends the next one; the bytes the following reading finds are still its own.
    sim.connect('s20', { callerId: '192.0.2.3' });
    await collect();
    sim.pushTraffic(a.address, 50_000_000, 5_000_000);
    await ok(`mutation($s: Int!) { resetVpnConnection(serviceId: $s) { status } }`, { s: a.serviceId });
    await collect();
    sim.connect('s20', { callerId: '192.0.2.4' });
    await collect();
    sim.pushTraffic(a.address, 600_000_000, 60_000_000);
    await collect();

    const all = (await sessions(a.serviceId)).reverse();
    expect(all.map((s) => [s.callerId, s.downloadBytes, s.uploadBytes])).to.deep.equal([
      ['192.0.2.1', 1_000, 100],
      ['192.0.2.2', 4_320_000, 432_000],
      ['192.0.2.3', 50_000_000, 5_000_000],
      ['192.0.2.4', 600_000_000, 60_000_000],
    ]);
    const [billed] = await stack.db.query(
      `SELECT SUM(download_bytes) AS d, SUM(upload_bytes) AS u FROM mod_mikrotikvpn_traffic_samples t
         JOIN mod_mikrotikvpn_accounts a ON a.id = t.account_id WHERE a.service_id = ?`,
      [a.serviceId],
    );
    expect([Number(billed.d), Number(billed.u)]).to.deep.equal([
      all.reduce((n, s) => n + s.downloadBytes, 0),
      all.reduce((n, s) => n + s.uploadBytes, 0),
    ]);
  });

  it("takes RouterOS's own reason for a session the collection found gone from the secret, at the next reconcile", async () => {
    const a = await newAccount('s21');
    const b = await newAccount('s22');
    sim.connect('s21', { callerId: '192.0.2.21' });
    sim.connect('s22', { callerId: '192.0.2.22' });
    await collect();
    sim.disconnect('s21', 'hung-up');
    sim.disconnect('s22', 'idle-timeout');
    sim.connect('s22', { callerId: '192.0.2.23' }); // back before the next reading
    await collect();
    expect((await sessions(a.serviceId))[0]).to.include({ open: false, endReason: 'disconnected' });
    await ok('mutation { reconcile { repaired } }');
    expect((await sessions(a.serviceId))[0]).to.include({ open: false, endReason: 'connection lost' });
    // The router's reason is about the session before the one now open: the log's latest is open.
    const [open, closed] = await sessions(b.serviceId);
    expect(open).to.include({ open: true, callerId: '192.0.2.23' });
    expect(closed).to.include({ endReason: 'disconnected' });
    // Our own actions keep their reason; a restart keeps its own.
    await ok(`mutation($s: Int!) { resetVpnConnection(serviceId: $s) { status } }`, { s: b.serviceId });
    await ok('mutation { reconcile { repaired } }');
    expect((await sessions(b.serviceId))[0]).to.include({ endReason: 'reset', endExact: true });
  });

  it('our own actions end a session at the exact time with the reason: suspend, reset, limit, terminate', async () => {
    const a = await newAccount('s2');
    sim.connect('s2');
    await collect();
    const t0 = await dbNow();
    await ok(`mutation($s: Int!) { suspendVpnAccount(serviceId: $s) { status } }`, { s: a.serviceId });
    let [s] = await sessions(a.serviceId);
    expect(s).to.include({ open: false, endExact: true, endReason: 'suspended' });
    expect(Date.parse(s.endedAt!) - t0.getTime()).to.be.within(0, 5_000);
    await collect(); // the reading that no longer sees it changes nothing
    expect((await sessions(a.serviceId))[0]).to.include({ endReason: 'suspended', endExact: true });

    await ok(`mutation($s: Int!) { unsuspendVpnAccount(serviceId: $s) { status } }`, { s: a.serviceId });
    sim.connect('s2');
    await collect();
    await ok(`mutation($s: Int!) { resetVpnConnection(serviceId: $s) { status } }`, { s: a.serviceId });
    [s] = await sessions(a.serviceId);
    expect(s).to.include({ endReason: 'reset', endExact: true });

    // Limited by the collection that finds the balance used up.
    sim.connect('s2');
    await collect();
    sim.pushTraffic(a.address, 11_000_000_000, 0);
    await collect();
    [s] = await sessions(a.serviceId);
    expect(s).to.include({ endReason: 'limited', endExact: true, downloadBytes: 11_000_000_000 });

    await ok(
      `mutation($s: Int!) { topUpTraffic(input: { serviceId: $s, bytes: "5000000000", idempotencyKey: "s2-top" }) { id } }`,
      { s: a.serviceId },
    );
    sim.connect('s2');
    await collect();
    sim.pushTraffic(a.address, 1_234, 56);
    await ok(`mutation($s: Int!) { terminateVpnAccount(serviceId: $s) { status } }`, { s: a.serviceId });
    [s] = await sessions(a.serviceId);
    // The last bytes, billed by the final read, belong to the session that terminate ended.
    expect(s).to.include({ endReason: 'terminated', endExact: true, downloadBytes: 1_234, uploadBytes: 56 });
  });

  it('a router restart closes every open session with that reason', async () => {
    const a = await newAccount('s3');
    const b = await newAccount('s4');
    sim.connect('s3');
    sim.connect('s4');
    await collect();
    sim.state.reboot();
    const report = (await collect()).collectTraffic;
    expect(report.routers[0].rebooted).to.equal(true);
    for (const serviceId of [a.serviceId, b.serviceId]) {
      const [s] = await sessions(serviceId);
      expect(s).to.include({ open: false, endReason: 'router restarted' });
      expect(Date.parse(s.endedAt!)).to.be.at.least(Date.parse(s.lastSeenAt));
    }
  });

  it('answers who had an address at an instant, for an address two customers had one after the other', async () => {
    const first = await newAccount('s5');
    sim.connect('s5');
    await collect();
    sim.disconnect('s5');
    await collect();
    await ok(`mutation($s: Int!) { terminateVpnAccount(serviceId: $s) { status } }`, { s: first.serviceId });
    const [old] = await sessions(first.serviceId);
    // The first customer's session was yesterday (as if the log were a day old).
    await stack.db.query(
      `UPDATE mod_mikrotikvpn_sessions SET started_at = started_at - INTERVAL 1 DAY, last_seen_at = last_seen_at - INTERVAL 1 DAY,
         ended_at = ended_at - INTERVAL 1 DAY WHERE id = ?`,
      [old.id],
    );
    const second = await newAccount('s6', productId, other);
    expect(second.address, 'the address is given out again').to.equal(first.address);
    sim.connect('s6');
    await collect();
    const [mine] = await sessions(first.serviceId);
    const [theirs] = await sessions(second.serviceId);
    const mid = (s: Session) =>
      new Date((Date.parse(s.startedAt) + Date.parse(s.lastSeenAt)) / 2).toISOString();

    const yesterday = (await ok(OWNER, { a: first.address, t: mid(mine) })).addressOwner;
    expect(yesterday).to.deep.include({ ours: true, certain: true, reason: null });
    expect(yesterday.account).to.deep.equal({ serviceId: first.serviceId, clientId: client, username: 's5' });
    const today = (await ok(OWNER, { a: first.address, t: new Date().toISOString() })).addressOwner;
    expect(today.account).to.deep.equal({ serviceId: second.serviceId, clientId: other, username: 's6' });
    expect(today.session.id).to.equal(theirs.id);

    // Between the last sighting and the reading that found it gone: an answer, marked uncertain.
    const between = new Date((Date.parse(mine.lastSeenAt) + Date.parse(mine.endedAt!)) / 2).toISOString();
    expect((await ok(OWNER, { a: first.address, t: between })).addressOwner).to.include({ certain: false });

    const notOurs = (await ok(OWNER, { a: '203.0.113.99', t: new Date().toISOString() })).addressOwner;
    expect(notOurs).to.deep.include({ ours: false, session: null, account: null });
    expect(notOurs.reason).to.match(/^not ours/);
    expect(notOurs.reasonCode).to.equal('NOT_OURS');
    const gap = (await ok(OWNER, { a: '10.77.0.20', t: new Date().toISOString() })).addressOwner;
    expect(gap).to.deep.include({ ours: true, session: null });
    expect(codeOf(await call(OWNER, { a: 'not-an-ip', t: new Date().toISOString() }))).to.equal('VALIDATION');
    const future = await call(OWNER, { a: first.address, t: new Date(Date.now() + 3_600_000).toISOString() });
    expect(codeOf(future)).to.equal('VALIDATION');
    expect(future.errors![0].message).to.match(/future/);

    // By caller id, as an abuse desk asks.
    const byCaller = await ok(
      `query { sessionsByCallerId(callerId: "198.51.100.7", first: 100) { nodes { serviceId } } }`,
    );
    expect(byCaller.sessionsByCallerId.nodes.map((n: { serviceId: number }) => n.serviceId)).to.include(
      second.serviceId,
    );
  });

  it('one session per account: a second one is ended within one collection when the product says so, and left alone otherwise', async () => {
    const single = await newAccount('s7', singleProductId);
    const free = await newAccount('s8');
    sim.connect('s7', { callerId: '198.51.100.1' });
    sim.connect('s8', { callerId: '198.51.100.1' });
    await collect();
    sim.connect('s7', { another: true, callerId: '198.51.100.2' });
    sim.connect('s8', { another: true, callerId: '198.51.100.2' });
    await collect();
    const live = (name: string) => [...sim.state.active.values()].filter((r) => r.name === name);
    expect(
      live('s7').map((r) => r.callerId),
      'the older session is kept',
    ).to.deep.equal(['198.51.100.1']);
    expect(live('s8')).to.have.length(2);
    const s7 = await sessions(single.serviceId);
    expect(s7.map((s) => [s.callerId, s.open, s.endReason])).to.deep.equal([
      ['198.51.100.2', false, 'duplicate session'],
      ['198.51.100.1', true, null],
    ]);
    const status = await ok(`query($s: Int!) { vpnAccount(serviceId: $s) { duplicateSessionsEnded } }`, {
      s: single.serviceId,
    });
    expect(status.vpnAccount.duplicateSessionsEnded).to.equal(1);
    expect((await sessions(free.serviceId)).filter((s) => s.open)).to.have.length(2);
  });

  it('Test Connection names a PPP profile whose only-one=yes does the same on the router', async () => {
    sim.state.profiles.insert({
      id: '*7',
      name: 'single',
      localAddress: '10.77.1.1',
      remoteAddress: '',
      rateLimit: '',
      onlyOne: 'yes',
      useEncryption: 'yes',
      changeTcpMss: 'default',
      comment: '',
      builtin: false,
    });
    const r = await ok(`mutation($i: RouterInput!) { testRouterConnection(input: $i) { ok warnings } }`, {
      i: { serverId, host: '127.0.0.1', port: sim.port, username: 'api', caPem: sim.caPem },
    });
    expect(r.testRouterConnection.warnings.join(' ')).to.match(
      /PPP profile "single" has only-one=yes: RouterOS itself refuses a second login/,
    );
  });

  it('a client token reads its own sessions only', async () => {
    const a = await newAccount('s9');
    const mint = `mutation($c: Int!, $s: [Int!]!) { mintClientToken(clientId: $c, serviceIds: $s) { token } }`;
    const token = (await ok(mint, { c: client, s: [a.serviceId] })).mintClientToken.token;
    expect((await gql(stack.server.url, SESSIONS, { s: a.serviceId }, token)).errors).to.equal(undefined);
    expect(codeOf(await gql(stack.server.url, SESSIONS, { s: a.serviceId - 1 }, token))).to.equal(
      'FORBIDDEN',
    );
    expect(
      codeOf(await gql(stack.server.url, OWNER, { a: a.address, t: new Date().toISOString() }, token)),
    ).to.equal('FORBIDDEN');
  });

  it('a kill mid-collection neither loses nor duplicates a session', async () => {
    const a = await newAccount('s10');
    await collect();
    sim.connect('s10');
    sim.pushTraffic(a.address, 1_000, 0);
    const blocker = await mysql.createConnection({
      ...testServerConfig(),
      database: stack.tdb.config.database,
    });
    await blocker.query('START TRANSACTION');
    await blocker.query(
      "SELECT id FROM mod_mikrotikvpn_accounts WHERE service_id = ? AND status <> 'TERMINATED' FOR UPDATE",
      [a.serviceId],
    );
    sim.clearCommandLog();
    const inFlight = call(COLLECT).catch(() => null);
    for (let i = 0; i < 100 && sim.commandsFor('/ppp/active/print').length === 0; i++)
      await new Promise((r) => setTimeout(r, 20));
    expect(sim.commandsFor('/ppp/active/print'), 'the sessions were read').to.have.length(1);
    await new Promise((r) => setTimeout(r, 200));
    await stack.server.stop('SIGKILL');
    await inFlight;
    await blocker.query('ROLLBACK');
    await blocker.end();
    const [{ n }] = await stack.db.query(
      'SELECT COUNT(*) AS n FROM mod_mikrotikvpn_sessions WHERE service_id = ?',
      [a.serviceId],
    );
    expect(Number(n), 'nothing of the killed reading was written').to.equal(0);
    stack.server = await startServer(stack.env);
    await waitForHealthy(stack.server);
    await collect();
    await collect();
    const rows = await sessions(a.serviceId);
    expect(rows).to.have.length(1);
    expect(rows[0]).to.include({ open: true, downloadBytes: 1_000 });
  });

  it('adds one router command per collection and none per account', async () => {
    sim.clearCommandLog();
    await collect();
    const paths = sim.commandLog.map((c) => c.path).filter((p) => p !== '/login');
    expect(paths.sort()).to.deep.equal([
      '/ppp/active/print',
      '/queue/simple/print',
      '/system/resource/print',
    ]);
  });
});
