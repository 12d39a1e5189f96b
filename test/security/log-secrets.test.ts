import crypto from 'node:crypto';
import fs from 'node:fs';
import { expect } from 'chai';
import { startStack, type Stack } from '../helpers/stack';
import { createApiKey } from '../helpers/cli';
import { codeOf, gql, waitForLogLine } from '../helpers/test-server';
import { ClientTokens } from '../../src/auth/client-tokens';
import { loadEncryptionKeys } from '../../src/config/app-config';
import { generateApiKey } from '../../src/auth/api-keys';
import { startSimulatedRouter, type SimulatedRouter } from '../simulator/simulated-router';
import { createTestPki } from '../simulator/test-pki';

/**
 * A realistic mix of traffic, with failures, through a server process logging at debug level:
 * none of the passwords, keys or tokens used appears in what it wrote (stdout and stderr), nor in
 * any answer but the one that hands a token out.
 */
describe('security: no secret reaches the logs (server process at LOG_LEVEL=debug)', function () {
  this.timeout(120_000);
  let stack: Stack;
  const unique = (label: string) => `${label}-${crypto.randomBytes(9).toString('base64url')}`;
  const ROUTER_PASSWORD = unique('RouterPw');
  const VPN_PASSWORDS = [unique('VpnPw'), unique('VpnPw'), unique('VpnPw')];
  const NEW_PASSWORD = unique('NewPw');
  const TRAPPED_PASSWORD = unique('TrappedPw');
  const WRONG_ROUTER_PASSWORD = unique('WrongRouterPw');
  const REJECTED_PASSWORD = unique('RejectedPw');
  const secrets: Record<string, string> = {};
  const answers: string[] = [];

  const call = async (query: string, variables: Record<string, unknown>, key: string | undefined) => {
    const r = await gql(stack.server.url, query, variables, key);
    answers.push(JSON.stringify(r));
    return r;
  };

  before(async () => {
    stack = await startStack({ LOG_LEVEL: 'debug' });
  });
  after(() => stack?.stop());

  it('runs the traffic: routers, lifecycle with passwords, keys, tokens, failing logins and router errors', async () => {
    const admin = stack.admin;
    const reader = await createApiKey(stack.tdb.url, 'dashboard', 'read');
    const sim = await startSimulatedRouter({ tls: true, users: { api: ROUTER_PASSWORD } });
    stack.routers.push(sim);
    const serverId = await stack.whmcs.server({
      name: 'R1',
      assignedips: ['10.66.0.1', '10.66.0.2', '10.66.0.3', '10.66.0.4', '10.66.0.5'],
    });
    const routerInput = {
      serverId,
      host: '127.0.0.1',
      port: sim.port,
      username: 'api',
      password: ROUTER_PASSWORD,
      caPem: sim.caPem,
    };
    const upsert = `mutation($i: RouterInput!) { upsertRouter(input: $i) { id } }`;
    const routerId = (await call(upsert, { i: routerInput }, admin)).data!.upsertRouter.id as string;
    // A router whose password is refused, and a router input refused by validation.
    const test = `mutation($i: RouterInput!) { testRouterConnection(input: $i) { ok errorCode problems } }`;
    const wrongLogin = await call(test, { i: { ...routerInput, password: WRONG_ROUTER_PASSWORD } }, admin);
    expect(wrongLogin.data!.testRouterConnection.errorCode).to.equal('ROUTER_AUTH_FAILED');
    expect((await call(test, { i: routerInput }, admin)).data!.testRouterConnection.ok).to.equal(true);
    const invalid = await call(
      upsert,
      { i: { ...routerInput, host: 'x'.repeat(300), password: REJECTED_PASSWORD } },
      admin,
    );
    expect(codeOf(invalid)).to.equal('VALIDATION');

    const productId = await stack.whmcs.product({ settings: { trafficMonthlyGb: '10' } });
    const client = await stack.whmcs.client();
    const services: number[] = [];
    const create = `mutation($i: CreateVpnAccountInput!) { createVpnAccount(input: $i) { status } }`;
    for (const [n, password] of VPN_PASSWORDS.entries()) {
      const serviceId = await stack.whmcs.service({ userid: client, packageid: productId, server: serverId });
      services.push(serviceId);
      const r = await call(
        create,
        { i: { serviceId, serverId, productId, username: `user${n}`, password, billingCycle: 'Monthly' } },
        admin,
      );
      expect(r.errors).to.equal(undefined);
    }
    const changePassword = `mutation($s: Int!, $p: String!) { changeVpnPassword(serviceId: $s, password: $p) { status } }`;
    expect((await call(changePassword, { s: services[0], p: NEW_PASSWORD }, admin)).errors).to.equal(
      undefined,
    );
    // The router refuses the password change, and then drops the connection in the middle of a create.
    sim.faults.failOn.push({ path: '/ppp/secret/set', kind: 'trap', message: 'failure: bad password' });
    const trapped = await call(changePassword, { s: services[1], p: TRAPPED_PASSWORD }, admin);
    expect(codeOf(trapped)).to.equal('ROUTER_ERROR');
    sim.faults.failOn.push({ path: '/ppp/secret/add', kind: 'drop' });
    const serviceId = await stack.whmcs.service({ userid: client, packageid: productId, server: serverId });
    const dropped = await call(
      create,
      {
        i: {
          serviceId,
          serverId,
          productId,
          username: 'dropped',
          password: TRAPPED_PASSWORD,
          billingCycle: 'Monthly',
        },
      },
      admin,
    );
    expect(dropped.errors?.[0]?.extensions?.code ?? dropped.data?.createVpnAccount.status).to.be.oneOf([
      'ROUTER_UNREACHABLE',
      'ROUTER_ERROR',
      'PENDING',
    ]);
    // A collection that fails on the router (logged as an error by the server).
    sim.faults.failOn.push({ path: '/queue/simple/print', kind: 'trap', message: 'failure: busy' });
    await call(`mutation { collectTraffic { routers { ok errorCode } } }`, {}, admin);
    await call(`mutation($r: ID) { reconcile(routerId: $r) { repaired } }`, { r: routerId }, admin);

    // Keys and tokens: used, refused, forged, expired.
    const mint = await call(
      `mutation($c: Int!, $s: [Int!]!) { mintClientToken(clientId: $c, serviceIds: $s) { token } }`,
      { c: client, s: [services[0]] },
      admin,
    );
    const token = mint.data!.mintClientToken.token as string;
    answers.pop(); // the one answer that must carry a token
    const account = `query($s: Int!) { vpnAccount(serviceId: $s) { status traffic { balanceBytes } } }`;
    expect((await call(account, { s: services[0] }, token)).errors).to.equal(undefined);
    expect(codeOf(await call(account, { s: services[1] }, token))).to.equal('FORBIDDEN');
    const wrongKey = generateApiKey();
    expect(codeOf(await call(account, { s: services[0] }, wrongKey))).to.equal('UNAUTHENTICATED');
    const keys = loadEncryptionKeys(stack.env);
    const expired = new ClientTokens([...keys.keys.values()]).mint(
      client,
      [services[0]],
      60,
      Date.now() - 7_200_000,
    ).token;
    expect(codeOf(await call(account, { s: services[0] }, expired))).to.equal('UNAUTHENTICATED');
    const forged = new ClientTokens([crypto.randomBytes(32)]).mint(client, [services[1]], 600).token;
    expect(codeOf(await call(account, { s: services[1] }, forged))).to.equal('UNAUTHENTICATED');
    expect(codeOf(await call(`mutation { collectTraffic { samplesWritten } }`, {}, reader))).to.equal(
      'FORBIDDEN',
    );
    expect((await call(`{ routers { id status { reachable } } }`, {}, reader)).errors).to.equal(undefined);
    // A key sent in the wrong header form, and a hostile query.
    await fetch(`${stack.server.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Token ${admin}` },
      body: JSON.stringify({ query: '{ routers { id } }' }),
    });
    await call(`{ ${Array.from({ length: 40 }, (_, i) => `a${i}: routers { id }`).join(' ')} }`, {}, admin);
    // The last request's log line may still be in the pipe when its answer has arrived.
    await waitForLogLine(
      stack.server,
      (l) => l.msg === 'graphql request' && JSON.stringify(l.errors ?? []).includes('QUERY_TOO_COMPLEX'),
    );

    Object.assign(secrets, {
      'router password': ROUTER_PASSWORD,
      'wrong router password': WRONG_ROUTER_PASSWORD,
      'password of a refused input': REJECTED_PASSWORD,
      'new VPN password': NEW_PASSWORD,
      'VPN password the router refused': TRAPPED_PASSWORD,
      'admin API key': admin,
      'read API key': reader,
      'unknown API key': wrongKey,
      'client token': token,
      'expired client token': expired,
      'forged client token': forged,
      'client token signature': token.split('.')[2],
      'encryption key': [...keys.keys.values()][0].toString('base64'),
      'encryption key file': fs.readFileSync(stack.env.ENCRYPTION_KEY_FILE, 'utf8').trim(),
    });
    VPN_PASSWORDS.forEach((p, i) => (secrets[`VPN password ${i}`] = p));
  });

  it('logged the traffic at debug level: one line per request, with the error codes', () => {
    const lines = stack.server.output.map(
      (l) => JSON.parse(l) as { level: number; msg: string; actor?: string },
    );
    const requests = lines.filter((l) => l.msg === 'graphql request');
    expect(requests.length).to.be.at.least(answers.length - 5);
    expect(requests.map((l) => l.actor)).to.include.members(['apikey:bridge', 'apikey:dashboard']);
    // Refusals and router failures show as their codes: the log tells what happened, not with what.
    const codes = requests.flatMap((l) => (l as { errors?: string[] }).errors ?? []);
    expect(codes).to.include.members(['ROUTER_ERROR', 'FORBIDDEN', 'VALIDATION', 'QUERY_TOO_COMPLEX']);
    // Refused keys and tokens are logged (for spotting abuse) by their reason only.
    const refused = lines.filter((l) => l.msg === 'request refused before GraphQL') as { reason?: string }[];
    expect(refused.map((l) => l.reason)).to.include.members(['TOKEN_EXPIRED', 'TOKEN_INVALID', null]);
  });

  it('wrote none of the passwords, keys or tokens (nor their base64) to stdout or stderr', () => {
    const output = stack.server.output.join('\n');
    expect(output.length).to.be.greaterThan(1000);
    expect(Object.keys(secrets)).to.have.length.at.least(15);
    const found = Object.entries(secrets).filter(
      ([, secret]) => output.includes(secret) || output.includes(Buffer.from(secret).toString('base64')),
    );
    expect(found.map(([name]) => name)).to.deep.equal([]);
  });

  it('answered no request with a password, key or token', () => {
    const text = answers.join('\n');
    const found = Object.entries(secrets).filter(([, secret]) => text.includes(secret));
    expect(found.map(([name]) => name)).to.deep.equal([]);
  });
});

describe('security: a router presenting a different self-signed certificate is refused (MITM)', function () {
  this.timeout(60_000);
  let stack: Stack;
  let impostor: SimulatedRouter | undefined;
  after(async () => {
    await impostor?.close();
    await stack?.stop();
  });

  it('refuses the impostor with ROUTER_TLS_FAILED before sending the login, and changes nothing', async () => {
    stack = await startStack();
    // The genuine router: a self-signed certificate, pinned by fingerprint (the usual MikroTik setup).
    const genuine = await startSimulatedRouter({
      tls: true,
      pki: createTestPki({ selfSignedLeaf: true }),
      users: { api: 'router-pass' },
    });
    stack.routers.push(genuine);
    const port = genuine.port;
    const serverId = await stack.whmcs.server({ name: 'pinned', assignedips: ['10.55.0.1', '10.55.0.2'] });
    const up = await gql(
      stack.server.url,
      `mutation($i: RouterInput!) { upsertRouter(input: $i) { id } }`,
      {
        i: {
          serverId,
          host: '127.0.0.1',
          port,
          username: 'api',
          password: 'router-pass',
          fingerprintSha256: genuine.fingerprintSha256,
        },
      },
      stack.admin,
    );
    expect(up.errors).to.equal(undefined);
    const productId = await stack.whmcs.product({ settings: { trafficMonthlyGb: '10' } });
    const client = await stack.whmcs.client();
    const serviceId = await stack.whmcs.service({ userid: client, packageid: productId, server: serverId });
    const create = await gql(
      stack.server.url,
      `mutation($i: CreateVpnAccountInput!) { createVpnAccount(input: $i) { status } }`,
      {
        i: {
          serviceId,
          serverId,
          productId,
          username: 'pinned-user',
          password: 'Passw0rd!',
          billingCycle: 'Monthly',
        },
      },
      stack.admin,
    );
    expect(create.data?.createVpnAccount.status).to.equal('ACTIVE');

    // Someone else answers on the router's address with their own self-signed certificate.
    await genuine.close();
    impostor = await startSimulatedRouter({
      tls: true,
      port,
      pki: createTestPki({ selfSignedLeaf: true, commonName: 'simulated-router' }),
      users: { api: 'router-pass' },
    });
    expect(impostor.fingerprintSha256).to.not.equal(genuine.fingerprintSha256);
    const suspend = await gql(
      stack.server.url,
      `mutation($s: Int!) { suspendVpnAccount(serviceId: $s) { status statusReason } }`,
      { s: serviceId },
      stack.admin,
    );
    const status = await gql(
      stack.server.url,
      `{ routers { status { reachable errorCode } } }`,
      {},
      stack.admin,
    );
    expect(status.data!.routers[0].status).to.deep.equal({
      reachable: false,
      errorCode: 'ROUTER_TLS_FAILED',
    });
    expect(codeOf(suspend)).to.equal('ROUTER_TLS_FAILED');
    expect(suspend.errors![0].message).to.not.include('router-pass');
    // The impostor never saw a login (so never the router password) nor any command.
    expect(impostor.commandLog).to.have.length(0);
  });
});
