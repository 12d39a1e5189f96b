import { expect } from 'chai';
import { startStack, type Stack } from '../helpers/stack';
import { codeOf, gql, startServer, waitForHealthy } from '../helpers/test-server';
import { scrape, valueOf } from '../helpers/prometheus';
import { METRIC_NAMES } from '../../src/metrics';
import type { SimulatedRouter } from '../simulator/simulated-router';

const GB = 1_000_000_000;
const PASSWORD = 'Zebra-Quokka-71!';
const CREATE = `mutation($i: CreateVpnAccountInput!) { createVpnAccount(input: $i) { serviceId address status } }`;
const COLLECT = `mutation { collectTraffic { routers { routerId ok errorCode } } }`;

interface LogLine {
  level: number;
  msg: string;
  requestId?: string;
  [key: string]: unknown;
}

describe('operations: /metrics, request ids and structured logs (server process + MariaDB + simulated routers)', function () {
  let stack: Stack;
  let sim: SimulatedRouter;
  let serverId: number;
  let routerId: string;
  let productId: number;
  let client: number;
  let next = 8800;

  const call = (query: string, variables: Record<string, unknown> = {}) =>
    gql(stack.server.url, query, variables, stack.admin);
  const logLines = (): LogLine[] =>
    stack.server.output.flatMap((line) => {
      try {
        return [JSON.parse(line) as LogLine];
      } catch {
        return [];
      }
    });
  const newService = () =>
    stack.whmcs.service({ id: ++next, userid: client, packageid: productId, server: serverId });
  const createInput = (serviceId: number) => ({
    serviceId,
    serverId,
    productId,
    username: `obs${serviceId}`,
    password: PASSWORD,
    billingCycle: 'Monthly',
  });

  before(async () => {
    stack = await startStack();
    ({ sim, serverId, routerId } = await stack.addRouter({
      assignedips: Array.from({ length: 20 }, (_, i) => `10.70.0.${i + 2}`),
    }));
    sim.state.bootTime = Date.now() - 3_600_000;
    client = await stack.whmcs.client();
    productId = await stack.whmcs.product({
      name: 'VPN 1 GB',
      settings: { trafficMonthlyGb: '1', limitedTemplate: 'VPN out' },
    });
  });
  after(() => stack?.stop());

  it('gives every request an id: keeps a sane X-Request-Id, replaces anything else, returns it', async () => {
    const kept = await fetch(`${stack.server.url}/health`, { headers: { 'x-request-id': 'whmcs-42.a:b' } });
    expect(kept.headers.get('x-request-id')).to.equal('whmcs-42.a:b');
    for (const bad of ['x'.repeat(65), 'has spaces in it', '<script>']) {
      const replaced = await fetch(`${stack.server.url}/health`, { headers: { 'x-request-id': bad } });
      expect(replaced.headers.get('x-request-id')).to.match(/^[0-9a-f-]{36}$/);
    }
    const fresh = await fetch(`${stack.server.url}/health`);
    expect(fresh.headers.get('x-request-id')).to.match(/^[0-9a-f-]{36}$/);
  });

  it('logs one line per lifecycle action, with the request id and without the password', async () => {
    const serviceId = await newService();
    const response = await fetch(`${stack.server.url}/graphql`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${stack.admin}`,
        'x-request-id': 'req-create-1',
      },
      body: JSON.stringify({ query: CREATE, variables: { i: createInput(serviceId) } }),
    });
    const body = (await response.json()) as { data: { createVpnAccount: { status: string } } };
    expect(body.data.createVpnAccount.status).to.equal('ACTIVE');
    expect(response.headers.get('x-request-id')).to.equal('req-create-1');
    await new Promise((r) => setTimeout(r, 200)); // let the access line reach us

    const ofRequest = logLines().filter((l) => l.requestId === 'req-create-1');
    const actions = ofRequest.filter((l) => l.msg === 'lifecycle action');
    expect(actions).to.have.length(1);
    expect(actions[0]).to.include({ action: 'create', serviceId, outcome: 'ok', status: 'ACTIVE' });
    expect(actions[0].durationMs).to.be.a('number');
    expect(ofRequest.filter((l) => l.msg === 'http request')).to.have.length(1);
    expect(stack.server.output.join('\n')).not.to.include(PASSWORD);
    expect(stack.server.output.join('\n')).not.to.include(stack.admin);

    // A failed action is one line too, with its error code and still no password.
    const failed = await fetch(`${stack.server.url}/graphql`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${stack.admin}`,
        'x-request-id': 'req-pw-1',
      },
      body: JSON.stringify({
        query: `mutation($s: Int!, $p: String!) { changeVpnPassword(serviceId: $s, password: $p) { status } }`,
        variables: { s: 999_999, p: PASSWORD },
      }),
    });
    expect(((await failed.json()) as { errors: unknown[] }).errors).to.have.length(1);
    await new Promise((r) => setTimeout(r, 200));
    const failedLines = logLines().filter((l) => l.requestId === 'req-pw-1' && l.msg === 'lifecycle action');
    expect(failedLines).to.have.length(1);
    expect(failedLines[0]).to.include({
      action: 'change-password',
      outcome: 'failed',
      errorCode: 'NOT_FOUND',
    });
    expect(stack.server.output.join('\n')).not.to.include(PASSWORD);
  });

  it('exports collection, router error, account, notification and GraphQL metrics that move with real activity', async () => {
    const before = await scrape(stack.server.url);
    const serviceId = await newService();
    const created = await call(CREATE, { i: createInput(serviceId) });
    expect(created.errors).to.equal(undefined);
    const address = created.data!.createVpnAccount.address as string;

    await call(COLLECT); // baseline counters
    sim.pushTraffic(address, 2 * GB, GB / 2); // 2.5 GB: more than the 1 GB allowance
    const collected = await call(COLLECT);
    expect(collected.errors).to.equal(undefined);
    const notFound = await call(`query { vpnAccount(serviceId: 424242) { status } }`);
    expect(notFound.data!.vpnAccount).to.equal(null);
    await call(`{ nope }`); // invalid: counted, but not under the client's words

    // A second router that is down: the collection fails and router errors are counted by code.
    const down = await stack.addRouter({ assignedips: ['10.71.0.2'] });
    await down.sim.close();
    const failing = await call(COLLECT);
    expect(
      failing.data!.collectTraffic.routers.find((r: { routerId: string }) => r.routerId === down.routerId),
    ).to.include({ ok: false, errorCode: 'ROUTER_UNREACHABLE' });

    const after = await scrape(stack.server.url);
    const delta = (name: string, labels: Record<string, string> = {}) =>
      valueOf(after, name, labels) - valueOf(before, name, labels);

    expect(delta('mvpn_collection_duration_seconds_count', { router: routerId })).to.equal(3);
    expect(delta('mvpn_collected_bytes_total', { router: routerId, direction: 'download' })).to.equal(2 * GB);
    expect(delta('mvpn_collected_bytes_total', { router: routerId, direction: 'upload' })).to.equal(GB / 2);
    expect(
      valueOf(after, 'mvpn_collection_failures_total', { router: down.routerId, code: 'ROUTER_UNREACHABLE' }),
    ).to.equal(1);
    expect(delta('mvpn_router_errors_total', { code: 'ROUTER_UNREACHABLE' })).to.be.at.least(1);
    // The account used up its traffic and was limited; a notification waits for WHMCS.
    expect(valueOf(after, 'mvpn_accounts', { status: 'LIMITED' })).to.equal(1);
    // Created ACTIVE, then limited: the ACTIVE count ends where it started.
    expect(delta('mvpn_accounts', { status: 'ACTIVE' })).to.equal(0);
    expect(valueOf(after, 'mvpn_notifications_pending')).to.equal(1);
    expect(delta('mvpn_graphql_requests_total', { operation: 'mutation', outcome: 'ok' })).to.be.at.least(4);
    expect(delta('mvpn_graphql_requests_total', { operation: 'query', outcome: 'ok' })).to.equal(1);
    expect(delta('mvpn_graphql_requests_total', { operation: 'unknown', outcome: 'VALIDATION' })).to.equal(1);
    expect(delta('mvpn_graphql_request_duration_seconds_count', { operation: 'mutation' })).to.be.at.least(4);
    // Every metric the dashboard and the docs name is exported.
    const exported = new Set(after.map((sample) => sample.name.replace(/_(bucket|count|sum)$/, '')));
    expect([...METRIC_NAMES].filter((name) => !exported.has(name))).to.deep.equal([]);
    // Labels are bounded: no client-chosen operation names or field names.
    const labelValues = after.flatMap((s) => Object.values(s.labels));
    expect(labelValues).not.to.include('nope');
  });

  it('protects /metrics with METRICS_TOKEN when set, and turns it off with METRICS_ENABLED=false', async () => {
    const guarded = await startServer({ ...stack.env, METRICS_TOKEN: 'scrape-token-123' });
    const off = await startServer({ ...stack.env, METRICS_ENABLED: 'false' });
    try {
      await waitForHealthy(guarded);
      await waitForHealthy(off);
      expect((await fetch(`${guarded.url}/metrics`)).status).to.equal(401);
      const wrong = await fetch(`${guarded.url}/metrics`, { headers: { authorization: 'Bearer nope' } });
      expect(wrong.status).to.equal(401);
      const samples = await scrape(guarded.url, 'scrape-token-123');
      // Gauges read the shared database: this instance sees the accounts the other one made.
      expect(valueOf(samples, 'mvpn_accounts')).to.be.at.least(2);
      expect((await fetch(`${off.url}/metrics`)).status).to.equal(404);
      expect(guarded.output.join('\n')).not.to.include('scrape-token-123');
    } finally {
      await guarded.stop();
      await off.stop();
    }
  });

  it('logs an unexpected failure with the id of the request that met it', async () => {
    // A table that vanished under the server: a failure no caller can cause or fix. Asked with the
    // table gone, the request is answered INTERNAL_SERVER_ERROR and its id logged.
    const withTableGone = async (table: string, requestId: string) => {
      await stack.db.query(`RENAME TABLE ${table} TO gone_table`);
      try {
        const response = await fetch(`${stack.server.url}/graphql`, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            authorization: `Bearer ${stack.admin}`,
            'x-request-id': requestId,
          },
          body: JSON.stringify({ query: '{ routers { id } }' }),
        });
        const body = (await response.json()) as { errors: { extensions: { code: string } }[] };
        expect(body.errors[0].extensions.code).to.equal('INTERNAL_SERVER_ERROR');
        await new Promise((r) => setTimeout(r, 200));
        return response;
      } finally {
        await stack.db.query(`RENAME TABLE gone_table TO ${table}`);
      }
    };
    const unexpected = () =>
      logLines()
        .filter((l) => l.msg === 'unexpected error in a request')
        .map((l) => l.requestId);
    const response = await withTableGone('mod_mikrotikvpn_routers', 'req-broken-1');
    // Balances and tokens are never kept by a browser or proxy, errors included.
    expect(response.headers.get('cache-control')).to.equal('no-store');
    expect(response.headers.get('etag')).to.equal(null);
    expect(unexpected()).to.deep.equal(['req-broken-1']);
    // The same while the caller is being authenticated, before any GraphQL request exists.
    await withTableGone('mod_mikrotikvpn_api_keys', 'req-broken-2');
    expect(unexpected()).to.deep.equal(['req-broken-1', 'req-broken-2']);
  });

  it('counts refused requests, and answers the health probe without logging it at info level', async () => {
    const before = await scrape(stack.server.url);
    const r = await gql(stack.server.url, '{ __typename }', {}, 'not-a-key');
    expect(codeOf(r)).to.equal('UNAUTHENTICATED');
    // Refused before any operation ran, and still counted (a spike means a wrong or stolen key).
    const after = await scrape(stack.server.url);
    const labels = { operation: 'unknown', outcome: 'UNAUTHENTICATED' };
    expect(
      valueOf(after, 'mvpn_graphql_requests_total', labels) -
        valueOf(before, 'mvpn_graphql_requests_total', labels),
    ).to.equal(1);
    // The test servers log at debug (for the suite-wide secrets scan); at info the probes are silent.
    const probes = logLines().filter((l) => l.msg === 'http request' && l.path === '/health');
    expect(probes.length).to.be.greaterThan(0);
    expect(probes.filter((l) => Number(l.level) >= 30)).to.have.length(0);
  });

  it('writes nothing but JSON lines, also after byte amounts (BigInt inputs) in literals and variables', async () => {
    const serviceId = await newService();
    await call(CREATE, { i: createInput(serviceId) });
    const literal = await call(
      `mutation { topUpTraffic(input: { serviceId: ${serviceId}, bytes: "1000000000", idempotencyKey: "obs-lit" }) { bytes } }`,
    );
    expect(literal.errors).to.equal(undefined);
    const variable = await call(
      `mutation($i: TopUpTrafficInput!) { topUpTraffic(input: $i) { bytes balanceAfterBytes } }`,
      { i: { serviceId, bytes: '9007199254740993', idempotencyKey: 'obs-var' } },
    );
    expect(variable.errors).to.equal(undefined);
    await new Promise((r) => setTimeout(r, 200));
    const notJson = stack.server.output.filter((line) => {
      try {
        JSON.parse(line);
        return false;
      } catch {
        return true;
      }
    });
    expect(notJson).to.deep.equal([]);
  });
});
