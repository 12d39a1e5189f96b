import { expect } from 'chai';
import { startStack, type Stack } from '../helpers/stack';
import { codeOf, gql } from '../helpers/test-server';
import { ClientTokens } from '../../src/auth/client-tokens';

const MINT = `mutation($c: Int!, $s: [Int!]!, $t: Int) { mintClientToken(clientId: $c, serviceIds: $s, ttlSeconds: $t) { token expiresAt } }`;
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
  let serverId: number;
  let alice: number;
  let bob: number;
  let aliceService: number;
  let bobService: number;
  let token: string;

  const call = (query: string, variables: Record<string, unknown>, key = stack.admin) =>
    gql(stack.server.url, query, variables, key);

  before(async () => {
    stack = await startStack();
    ({ serverId } = await stack.addRouter());
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
});
