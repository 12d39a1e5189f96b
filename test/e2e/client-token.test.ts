import { expect } from 'chai';
import { startStack, type Stack } from '../helpers/stack';
import type { SimulatedRouter } from '../simulator/simulated-router';
import { codeOf, gql, startServer, waitForHealthy } from '../helpers/test-server';
import { SqlCounter } from '../../bench/sql-counter';
import { ClientTokens } from '../../src/auth/client-tokens';

const MINT = `mutation($c: Int!, $s: [Int!]!, $t: Int) { mintClientToken(clientId: $c, serviceIds: $s, ttlSeconds: $t) { token id expiresAt } }`;
const REVOKE = `mutation($id: String, $token: String) { revokeClientToken(id: $id, token: $token) { id clientId expiresAt revokedAt } }`;
const LIVE = `query($s: Int!) { vpnAccount(serviceId: $s) { connection { online callerId } } }`;
const ACCOUNT = `query($s: Int!) { vpnAccount(serviceId: $s) { serviceId username traffic { balanceBytes } } }`;
/** What the client-area usage page (client/usage) asks for. */
const USAGE_PAGE = `query($s: Int!, $f: DateTime!, $t: DateTime!) { vpnAccount(serviceId: $s) {
  status timeZone createdAt traffic { balanceBytes cycleAllowanceBytes unlimited }
  usage(from: $f, to: $t, granularity: DAY) { day downloadBytes uploadBytes totalBytes balanceAfterBytes }
  topUps(first: 100) { nodes { id at day kind bytes balanceBeforeBytes balanceAfterBytes invoiceId description } pageInfo { hasNextPage endCursor } } } }`;
const DAY_AGO = () => new Date(Date.now() - 86_400_000).toISOString();
const DAY_AHEAD = () => new Date(Date.now() + 86_400_000).toISOString();

describe('client tokens: a customer reads only their own services', function () {
  let stack: Stack;
  let sim: SimulatedRouter;
  let serverId: number;
  let alice: number;
  let bob: number;
  let aliceService: number;
  let bobService: number;
  let token: string;

  const call = (query: string, variables: Record<string, unknown>, key = stack.admin) =>
    gql(stack.server.url, query, variables, key);
  const mint = async (clientId: number, serviceIds: number[]) => {
    const r = await call(MINT, { c: clientId, s: serviceIds });
    if (r.errors) throw new Error(JSON.stringify(r.errors));
    return r.data!.mintClientToken as { token: string; id: string; expiresAt: string };
  };

  before(async () => {
    stack = await startStack();
    ({ sim, serverId } = await stack.addRouter());
    const productId = await stack.whmcs.product({ settings: { trafficMonthlyGb: '10' } });
    alice = await stack.whmcs.client({ firstname: 'Alice' });
    bob = await stack.whmcs.client({ firstname: 'Bob' });
    aliceService = await stack.whmcs.service({ userid: alice, packageid: productId, server: serverId });
    bobService = await stack.whmcs.service({ userid: bob, packageid: productId, server: serverId });
    for (const [serviceId, username] of [
      [aliceService, 'alice'],
      [bobService, 'bob'],
    ] as [number, string][]) {
      const r = await call(
        `mutation($i: CreateVpnAccountInput!) { createVpnAccount(input: $i) { status } }`,
        {
          i: { serviceId, serverId, productId, username, password: 'Passw0rd!', billingCycle: 'Monthly' },
        },
      );
      expect(r.errors).to.equal(undefined);
    }
    const minted = await call(MINT, { c: alice, s: [aliceService] });
    if (minted.errors) throw new Error(JSON.stringify(minted.errors));
    token = minted.data!.mintClientToken.token;
  });
  after(() => stack?.stop());

  it("reads the owner's service", async () => {
    const r = await call(ACCOUNT, { s: aliceService }, token);
    expect(r.errors).to.equal(undefined);
    expect(r.data!.vpnAccount).to.deep.include({ serviceId: aliceService, username: 'alice' });
  });

  it('reads what the usage page needs of its own service: status, traffic, usage, top-ups, time zone', async () => {
    const r = await call(USAGE_PAGE, { s: aliceService, f: DAY_AGO(), t: DAY_AHEAD() }, token);
    expect(r.errors).to.equal(undefined);
    const account = r.data!.vpnAccount;
    expect(account).to.deep.include({ status: 'ACTIVE', timeZone: 'UTC' });
    expect(account.traffic).to.deep.equal({
      balanceBytes: 10e9,
      cycleAllowanceBytes: 10e9,
      unlimited: false,
    });
    // Every day of the range up to today, with no traffic yet; today's balance holds the first credit.
    expect(account.usage.length).to.be.within(1, 2);
    expect(account.usage.every((d: { totalBytes: number }) => d.totalBytes === 0)).to.equal(true);
    expect(account.usage.at(-1).balanceAfterBytes).to.equal(10e9);
    expect(account.topUps.nodes).to.have.length(1);
    expect(account.topUps.nodes[0]).to.deep.include({ kind: 'CYCLE', bytes: 10e9 });
    expect(account.topUps.nodes[0].day).to.match(/^\d{4}-\d{2}-\d{2}$/);
  });

  it("refuses the usage page's query for another customer's service with FORBIDDEN", async () => {
    const r = await call(USAGE_PAGE, { s: bobService, f: DAY_AGO(), t: DAY_AHEAD() }, token);
    expect(codeOf(r)).to.equal('FORBIDDEN');
    expect(r.data?.vpnAccount ?? null).to.equal(null);
    expect(JSON.stringify(r)).to.not.include('balanceBytes');
  });

  it("refuses another customer's service with FORBIDDEN and reveals nothing", async () => {
    const r = await call(ACCOUNT, { s: bobService }, token);
    expect(codeOf(r)).to.equal('FORBIDDEN');
    expect(JSON.stringify(r)).to.not.include('bob');
  });

  it('refuses every other query and every mutation, and the router behind the account', async () => {
    for (const q of [
      '{ routers { id } }',
      '{ vpnAccounts { nodes { username } } }',
      '{ products { name } }',
      '{ pendingNotifications { id } }',
    ]) {
      expect(codeOf(await call(q, {}, token)), q).to.equal('FORBIDDEN');
    }
    expect(
      codeOf(
        await call(
          `mutation($s: Int!) { resetVpnConnection(serviceId: $s) { status } }`,
          { s: aliceService },
          token,
        ),
      ),
    ).to.equal('FORBIDDEN');
    expect(codeOf(await call(MINT, { c: alice, s: [bobService] }, token))).to.equal('FORBIDDEN');
    const r = await call(
      `query($s: Int!) { vpnAccount(serviceId: $s) { router { host username } } }`,
      { s: aliceService },
      token,
    );
    expect(codeOf(r)).to.equal('FORBIDDEN');
    expect(JSON.stringify(r)).to.not.include('127.0.0.1');
  });

  it('will not mint a token for a service of another client', async () => {
    expect(codeOf(await call(MINT, { c: alice, s: [aliceService, bobService] }))).to.equal('FORBIDDEN');
    expect(codeOf(await call(MINT, { c: alice, s: [aliceService], t: 999999 }))).to.equal('VALIDATION');
  });

  it('refuses an expired or tampered token with UNAUTHENTICATED, saying which', async () => {
    const { token: old } = await call(MINT, { c: alice, s: [aliceService], t: 10 }).then(
      (r) => r.data!.mintClientToken,
    );
    const forged = new ClientTokens([Buffer.alloc(32, 7)]).mint(alice, [bobService], 600).token;
    const tampered = old.replace(/\.[^.]+$/, '.AAAA');
    expect(codeOf(await call(ACCOUNT, { s: bobService }, forged))).to.equal('UNAUTHENTICATED');
    expect(codeOf(await call(ACCOUNT, { s: aliceService }, tampered))).to.equal('UNAUTHENTICATED');
    await new Promise((r) => setTimeout(r, 10_500));
    const expired = await call(ACCOUNT, { s: aliceService }, old);
    expect(codeOf(expired)).to.equal('UNAUTHENTICATED');
    expect(expired.errors![0].extensions!.reason).to.equal('TOKEN_EXPIRED');
  });

  describe('checked against WHMCS and revocable on every request', () => {
    it('refuses a token at once when its service moved to another client in WHMCS, and only while it is moved', async () => {
      const { token: t } = await mint(alice, [aliceService]);
      expect((await call(ACCOUNT, { s: aliceService }, t)).errors).to.equal(undefined);
      await stack.db.query('UPDATE tblhosting SET userid = ? WHERE id = ?', [bob, aliceService]);
      try {
        const moved = await call(ACCOUNT, { s: aliceService }, t);
        expect(moved.status).to.equal(401);
        expect(codeOf(moved)).to.equal('UNAUTHENTICATED');
        expect(moved.errors![0].extensions!.reason).to.equal('TOKEN_OWNER_CHANGED');
        expect(JSON.stringify(moved)).to.not.include('alice');
        // A deleted service is no longer the client's either.
        const { token: spare } = await mint(bob, [bobService]);
        await stack.db.query('UPDATE tblhosting SET id = 990001 WHERE id = ?', [bobService]);
        try {
          const gone = await call(ACCOUNT, { s: bobService }, spare);
          expect(gone.errors![0].extensions!.reason).to.equal('TOKEN_OWNER_CHANGED');
        } finally {
          await stack.db.query('UPDATE tblhosting SET id = ? WHERE id = 990001', [bobService]);
        }
      } finally {
        await stack.db.query('UPDATE tblhosting SET userid = ? WHERE id = ?', [alice, aliceService]);
      }
      // Back with its client (WHMCS undid the move): the same token reads again.
      expect((await call(ACCOUNT, { s: aliceService }, t)).errors).to.equal(undefined);
    });

    it("revokes one token by its id, leaving the client's other tokens and the keys alone", async () => {
      const first = await mint(alice, [aliceService]);
      const second = await mint(alice, [aliceService]);
      expect(first.id).to.match(/^[A-Za-z0-9_-]{22}$/);
      expect(first.id).to.not.equal(second.id);
      const r = await call(REVOKE, { id: first.id });
      expect(r.errors).to.equal(undefined);
      expect(r.data!.revokeClientToken).to.deep.include({ id: first.id, clientId: null });
      const refused = await call(ACCOUNT, { s: aliceService }, first.token);
      expect(refused.status).to.equal(401);
      expect(refused.errors![0].extensions).to.deep.include({
        code: 'UNAUTHENTICATED',
        reason: 'TOKEN_REVOKED',
      });
      expect((await call(ACCOUNT, { s: aliceService }, second.token)).errors).to.equal(undefined);
      // Again: still revoked, no error.
      expect((await call(REVOKE, { id: first.id })).errors).to.equal(undefined);
      // The audit trail says who did it.
      const [event] = await stack.db.query(
        "SELECT actor, message FROM mod_mikrotikvpn_events WHERE action = 'client-token.revoke' ORDER BY id LIMIT 1",
      );
      expect(event).to.deep.equal({ actor: 'apikey:bridge', message: `client token ${first.id} revoked` });
    });

    it('revokes a token given as itself, keeping the row until the token would have expired', async () => {
      const { token: t, id, expiresAt } = await mint(alice, [aliceService]);
      const r = await call(REVOKE, { token: t });
      expect(r.errors).to.equal(undefined);
      expect(r.data!.revokeClientToken).to.deep.include({ id, clientId: alice, expiresAt });
      expect(codeOf(await call(ACCOUNT, { s: aliceService }, t))).to.equal('UNAUTHENTICATED');
      const [row] = await stack.db.query(
        'SELECT client_id, expires_at, revoked_by FROM mod_mikrotikvpn_client_token_revocations WHERE token_id = ?',
        [id],
      );
      expect(row).to.deep.equal({
        client_id: alice,
        expires_at: new Date(expiresAt),
        revoked_by: 'apikey:bridge',
      });
      const forged = new ClientTokens([Buffer.alloc(32, 7)]).mint(alice, [aliceService], 600).token;
      expect(codeOf(await call(REVOKE, { token: forged }))).to.equal('VALIDATION');
      expect(codeOf(await call(REVOKE, { id: 'short' }))).to.equal('VALIDATION');
      expect(codeOf(await call(REVOKE, {}))).to.equal('VALIDATION');
      expect(codeOf(await call(REVOKE, { id, token: t }))).to.equal('VALIDATION');
      // Neither a client token nor a read key may revoke.
      const { token: own } = await mint(alice, [aliceService]);
      expect(codeOf(await call(REVOKE, { id }, own))).to.equal('FORBIDDEN');
    });

    it('100 live-status reads with one token make a handful of /ppp/active/print, not 100', async () => {
      sim.connect('alice', { callerId: '198.51.100.9', service: 'l2tp' });
      const { token: t } = await mint(alice, [aliceService]);
      sim.clearCommandLog();
      const started = Date.now();
      for (let i = 0; i < 100; i++) {
        const r = await call(LIVE, { s: aliceService }, t);
        expect(r.errors, JSON.stringify(r.errors)).to.equal(undefined);
        expect(r.data!.vpnAccount.connection).to.deep.equal({ online: true, callerId: '198.51.100.9' });
      }
      // And 50 at once (a page opened in many tabs): they share the read in flight.
      const parallel = await Promise.all(
        Array.from({ length: 50 }, () => call(LIVE, { s: aliceService }, t)),
      );
      expect(parallel.every((r) => r.data?.vpnAccount?.connection?.online === true)).to.equal(true);
      const seconds = (Date.now() - started) / 1000;
      const prints = sim.commandsFor('/ppp/active/print').length;
      // One read per 5 s at most (plus one for a read in flight as the window ends).
      expect(prints).to.be.within(1, Math.ceil(seconds / 5) + 1);
      expect(prints).to.be.at.most(5);

      // An admin's reads are never served from that cache: each request reads the router.
      sim.clearCommandLog();
      for (let i = 0; i < 3; i++) expect((await call(LIVE, { s: aliceService })).errors).to.equal(undefined);
      expect(sim.commandsFor('/ppp/active/print')).to.have.length(3);
    });

    it('a token sees a new connection within a few seconds', async () => {
      const { token: t } = await mint(bob, [bobService]);
      expect((await call(LIVE, { s: bobService }, t)).data!.vpnAccount.connection.online).to.equal(false);
      sim.connect('bob', { callerId: '203.0.113.4', service: 'sstp' });
      let online = false;
      const until = Date.now() + 8_000;
      while (!online && Date.now() < until) {
        online = (await call(LIVE, { s: bobService }, t)).data!.vpnAccount.connection.online;
        if (!online) await new Promise((r) => setTimeout(r, 250));
      }
      expect(online).to.equal(true);
    });

    it('checks a token with one SQL statement per request, however many fields it reads', async () => {
      const { host, port } = stack.tdb.config;
      const counter = await SqlCounter.start({ host, port });
      counter.captureTexts = true;
      const counted = await startServer({
        ...stack.env,
        DATABASE_URL: stack.tdb.url.replace(`:${port}/`, `:${counter.port}/`),
      });
      try {
        await waitForHealthy(counted);
        const { token: t } = await mint(alice, [aliceService]);
        const tenAliases = `query($s: Int!) { ${Array.from({ length: 10 }, (_, i) => `a${i}: vpnAccount(serviceId: $s) { username traffic { balanceBytes } }`).join(' ')} }`;
        await gql(counted.url, ACCOUNT, { s: aliceService }, t); // warm: the pool's connections are open
        for (const [query, variables] of [
          [ACCOUNT, { s: aliceService }],
          [USAGE_PAGE, { s: aliceService, f: DAY_AGO(), t: DAY_AHEAD() }],
          [tenAliases, { s: aliceService }],
        ] as const) {
          counter.reset();
          const r = await gql(counted.url, query, variables, t);
          expect(r.errors, JSON.stringify(r.errors)).to.equal(undefined);
          const checks = counter.texts.filter((text) =>
            text.includes('mod_mikrotikvpn_client_token_revocations'),
          );
          expect(checks, query).to.have.length(1);
          expect(checks[0]).to.include('tblhosting');
        }
      } finally {
        await counted.stop();
        await counter.close();
      }
    });
  });
});
