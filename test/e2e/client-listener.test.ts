import { expect } from 'chai';
import { startStack, type Stack } from '../helpers/stack';
import { createApiKey } from '../helpers/cli';
import { clientPortOf, codeOf, gql } from '../helpers/test-server';
import { CREATE_VPN_ACCOUNT, createAccountVariables } from '../helpers/accounts';

const MINT = `mutation($c: Int!, $s: [Int!]!) { mintClientToken(clientId: $c, serviceIds: $s) { token } }`;
const ACCOUNT = `query($s: Int!) { vpnAccount(serviceId: $s) { serviceId username } }`;

/**
 * CLIENT_PORT: the listener an admin may publish to customers' browsers (the usage page's direct
 * mode). It serves /graphql for client tokens only; admin and read keys are refused there with
 * FORBIDDEN, and nothing else of the server (health, metrics, explorer) is on it.
 */
describe('the client listener (CLIENT_PORT): client tokens only', function () {
  let stack: Stack;
  let clientUrl: string;
  let serviceId: number;
  let token: string;
  let readKey: string;

  before(async () => {
    stack = await startStack({ CLIENT_PORT: '0', GRAPHQL_EXPLORER: 'true' });
    clientUrl = `http://127.0.0.1:${clientPortOf(stack.server)}`;
    const { serverId } = await stack.addRouter();
    const productId = await stack.whmcs.product({ settings: { trafficMonthlyGb: '10' } });
    const clientId = await stack.whmcs.client({ firstname: 'Ada' });
    serviceId = await stack.whmcs.service({ userid: clientId, packageid: productId, server: serverId });
    const created = await gql(
      stack.server.url,
      CREATE_VPN_ACCOUNT,
      createAccountVariables({ serviceId, serverId, productId, username: 'ada' }),
      stack.admin,
    );
    expect(created.errors).to.equal(undefined);
    const minted = await gql(stack.server.url, MINT, { c: clientId, s: [serviceId] }, stack.admin);
    token = minted.data!.mintClientToken.token;
    readKey = await createApiKey(stack.tdb.url, 'reader', 'read');
  });
  after(() => stack?.stop());

  it("answers a client token's own service", async () => {
    const r = await gql(clientUrl, ACCOUNT, { s: serviceId }, token);
    expect(r.errors).to.equal(undefined);
    expect(r.data!.vpnAccount).to.deep.equal({ serviceId, username: 'ada' });
  });

  it('refuses an admin key with FORBIDDEN (HTTP 403), also for what any key could read', async () => {
    for (const query of [ACCOUNT, '{ __typename }', MINT]) {
      const r = await gql(clientUrl, query, { s: serviceId, c: 1 }, stack.admin);
      expect(r.status).to.equal(403);
      expect(codeOf(r)).to.equal('FORBIDDEN');
      expect(r.data ?? null).to.equal(null);
      // The message names the rule, never the key.
      expect(JSON.stringify(r.errors)).to.not.include(stack.admin);
    }
  });

  it('refuses a read key and an unknown key alike with FORBIDDEN', async () => {
    for (const key of [readKey, 'mvpn_not-a-key']) {
      const r = await gql(clientUrl, ACCOUNT, { s: serviceId }, key);
      expect(r.status).to.equal(403);
      expect(codeOf(r)).to.equal('FORBIDDEN');
    }
  });

  it('still asks for a token when none is sent, and refuses a forged one', async () => {
    expect(codeOf(await gql(clientUrl, ACCOUNT, { s: serviceId }))).to.equal('UNAUTHENTICATED');
    expect(codeOf(await gql(clientUrl, ACCOUNT, { s: serviceId }, `${token.slice(0, -4)}AAAA`))).to.equal(
      'UNAUTHENTICATED',
    );
  });

  it('serves nothing but /graphql (no health, metrics or explorer)', async () => {
    for (const p of ['/health', '/health/live', '/metrics', '/explorer']) {
      expect((await fetch(`${clientUrl}${p}`)).status, p).to.equal(404);
    }
  });

  it('leaves the private listener as it was: the admin key works there', async () => {
    const r = await gql(stack.server.url, ACCOUNT, { s: serviceId }, stack.admin);
    expect(r.errors).to.equal(undefined);
  });
});
