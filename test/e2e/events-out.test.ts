import { expect } from 'chai';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import WebSocket from 'ws';
import { createClient, type Client } from 'graphql-ws';
import { Webhook } from 'standardwebhooks';
import { startStack, type Stack } from '../helpers/stack';
import { codeOf, gql, startServer, waitForHealthy, type TestServer } from '../helpers/test-server';
import { createApiKey } from '../helpers/cli';
import { noteSecret } from '../helpers/suite-traffic';
import { scrape, valueOf } from '../helpers/prometheus';
import type { SimulatedRouter } from '../simulator/simulated-router';
import { CREATE_VPN_ACCOUNT, createAccountVariables } from '../helpers/accounts';

/**
 * Events out, end to end: two server processes on one MariaDB (both deliver webhooks), a simulated
 * router, and a webhook receiver in this process. Retry timing is shortened through the
 * environment (WEBHOOK_RETRY_*), and 127.0.0.1 is opened with WEBHOOK_ALLOWED_TARGETS.
 */

interface Received {
  path: string;
  id: string;
  timestamp: string;
  signature: string;
  body: string;
  answered: 'ok' | '500' | 'close' | 'hang';
}

type Mode = (id: string, attempt: number) => Received['answered'];

const EVENTS = `subscription($after: ID, $types: [String!]) { events(after: $after, types: $types) { id type at payload { serviceId accountId clientId routerId status bytes balanceBytes kind } } }`;

describe('events out: signed webhooks with retries, and GraphQL subscriptions', function () {
  this.timeout(120_000);
  let stack: Stack;
  let second: TestServer;
  let sim: SimulatedRouter;
  let serverId: number;
  let productId: number;
  let lowProductId: number;
  let clientA: number;
  let clientB: number;
  let next = 9100;
  let receiver: http.Server;
  let receiverUrl: string;
  const received: Received[] = [];
  const modes = new Map<string, Mode>();
  const attempts = new Map<string, number>();
  const hanging: http.ServerResponse[] = [];
  let expiredToken: string;
  let allEndpoint: number;
  let allDelivered: number;
  const deliveriesMetric = async (outcome: string) =>
    valueOf(await scrape(stack.server.url), 'mvpn_webhook_deliveries_total', { outcome }) +
    valueOf(await scrape(second.url), 'mvpn_webhook_deliveries_total', { outcome });

  const call = (query: string, variables: Record<string, unknown> = {}, server = stack.server) =>
    gql(server.url, query, variables, stack.admin);
  const ok = async (query: string, variables: Record<string, unknown> = {}, server = stack.server) => {
    const r = await call(query, variables, server);
    expect(r.errors, JSON.stringify(r.errors)).to.equal(undefined);
    return r.data!;
  };
  const newService = (userid = clientA, product = productId) =>
    stack.whmcs.service({ id: ++next, userid, packageid: product, server: serverId });
  const create = async (serviceId: number, username: string, product = productId, server = stack.server) =>
    ok(
      CREATE_VPN_ACCOUNT,
      createAccountVariables({ serviceId, serverId, productId: product, username }),
      server,
    );
  const createEndpoint = async (path: string, eventTypes?: string[]) => {
    const data = await ok(
      `mutation($i: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $i) { secret endpoint { id url eventTypes enabled failing } } }`,
      { i: { url: `${receiverUrl}${path}`, eventTypes } },
    );
    noteSecret(data.createWebhookEndpoint.secret);
    return data.createWebhookEndpoint as { secret: string; endpoint: { id: number; eventTypes: string[] } };
  };
  const outbox = async (fromId: string, types?: string[]) =>
    (
      (await stack.db.query(
        `SELECT id, type, service_id FROM mod_mikrotikvpn_outbox WHERE id > ? ${types ? `AND type IN (${types.map(() => '?').join(',')})` : ''} ORDER BY id`,
        [fromId, ...(types ?? [])],
      )) as { id: string; type: string; service_id: number | null }[]
    ).map((r) => ({ id: String(r.id), type: r.type, serviceId: r.service_id }));
  const lastEventId = async () =>
    String((await stack.db.query('SELECT COALESCE(MAX(id), 0) AS id FROM mod_mikrotikvpn_outbox'))[0].id);
  const accepted = (path: string) => received.filter((r) => r.path === path && r.answered === 'ok');
  const waitFor = async (what: string, test: () => boolean | Promise<boolean>, ms = 20_000) => {
    const until = Date.now() + ms;
    while (Date.now() < until) {
      if (await test()) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`timed out waiting for ${what}`);
  };
  const wsClient = (authorization: string, server = stack.server): Client =>
    createClient({
      url: `ws://127.0.0.1:${server.port}/graphql`,
      webSocketImpl: WebSocket,
      connectionParams: { authorization },
      retryAttempts: 0,
      lazy: true,
    });
  /** Collects a subscription's events until stopped; `error` is the close code or error of a refused one. */
  const subscribe = (client: Client, variables: Record<string, unknown> = {}) => {
    const events: { id: string; type: string; payload: Record<string, unknown> }[] = [];
    const state: { error: unknown; done: boolean } = { error: null, done: false };
    const stop = client.subscribe(
      { query: EVENTS, variables },
      {
        next: (r) => {
          if (r.data) events.push((r.data as { events: (typeof events)[number] }).events);
          if (r.errors) state.error = r.errors;
        },
        error: (e) => (state.error = e),
        complete: () => (state.done = true),
      },
    );
    return { events, state, stop };
  };

  before(async () => {
    receiver = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const path = req.url ?? '/';
        const id = String(req.headers['webhook-id']);
        const key = `${path} ${id}`;
        const attempt = (attempts.get(key) ?? 0) + 1;
        attempts.set(key, attempt);
        const answered = (modes.get(path) ?? (() => 'ok'))(id, attempt);
        received.push({
          path,
          id,
          timestamp: String(req.headers['webhook-timestamp']),
          signature: String(req.headers['webhook-signature']),
          body: Buffer.concat(chunks).toString('utf8'),
          answered,
        });
        if (answered === 'ok') res.writeHead(204).end();
        else if (answered === '500') res.writeHead(500).end('boom');
        else if (answered === 'close') req.socket.destroy();
        else hanging.push(res);
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;

    stack = await startStack({
      WEBHOOK_ALLOWED_TARGETS: '127.0.0.1',
      WEBHOOK_INTERVAL_MS: '100',
      WEBHOOK_TIMEOUT_MS: '1000',
      WEBHOOK_RETRY_BASE_MS: '200',
      WEBHOOK_RETRY_MAX_MS: '600',
      WEBHOOK_RETRY_FOR_SECONDS: '8',
      EVENTS_POLL_MS: '100',
    });
    second = await startServer(stack.env);
    await waitForHealthy(second);
    ({ sim, serverId } = await stack.addRouter({
      assignedips: Array.from({ length: 30 }, (_, i) => `10.88.0.${i + 2}`),
    }));
    clientA = await stack.whmcs.client();
    clientB = await stack.whmcs.client({ firstname: 'Other' });
    productId = await stack.whmcs.product({ settings: { trafficMonthlyGb: '10', service: 'l2tp' } });
    lowProductId = await stack.whmcs.product({
      name: 'Small',
      settings: { trafficMonthlyGb: '1', lowTrafficThresholdGb: '0.5', service: 'l2tp' },
    });
    const svc = await newService();
    const minted = await ok(
      `mutation($c: Int!, $s: [Int!]!) { mintClientToken(clientId: $c, serviceIds: $s, ttlSeconds: 10) { token } }`,
      { c: clientA, s: [svc] },
    );
    expiredToken = minted.mintClientToken.token; // used at the end, after its 10 s
  });
  after(async () => {
    for (const res of hanging) res.destroy();
    await second?.stop();
    await stack?.stop();
    await new Promise((r) => receiver?.close(r));
  });

  it('manages endpoints with admin keys only, shows the secret once, and refuses bad URLs naming why', async () => {
    const { secret, endpoint } = await createEndpoint('/first', ['account.created']);
    expect(secret).to.match(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(endpoint.eventTypes).to.deep.equal(['account.created']);
    const listed = await call(`{ webhookEndpoints { id url eventTypes enabled failing } }`);
    expect(JSON.stringify(listed)).not.to.include(secret.slice(6));
    expect(listed.data!.webhookEndpoints.map((e: { id: number }) => e.id)).to.include(endpoint.id);
    const stored = await stack.db.query('SELECT secret_encrypted FROM mod_mikrotikvpn_webhook_endpoints');
    expect(JSON.stringify(stored)).not.to.include(secret.slice(6));

    const refused = async (url: string, pattern: RegExp) => {
      const r = await call(`mutation($u: String!) { createWebhookEndpoint(input: { url: $u }) { secret } }`, {
        u: url,
      });
      expect(codeOf(r), url).to.equal('VALIDATION');
      expect(r.errors![0].message).to.match(pattern);
      expect(r.errors![0].extensions!.field).to.equal('url');
    };
    await refused('http://93.184.216.34/hook', /https/);
    await refused(`https://93.184.216.34/${'x'.repeat(2050)}`, /2048/);
    await refused('https://10.1.2.3/hook', /private/);
    await refused('https://169.254.169.254/latest', /metadata/);
    await refused('https://[::1]/hook', /loopback/);
    await refused('https://[::ffff:192.168.0.1]/hook', /private.*IPv4-mapped/);
    const badType = await call(
      `mutation { createWebhookEndpoint(input: { url: "${receiverUrl}/x", eventTypes: ["nope"] }) { secret } }`,
    );
    expect(codeOf(badType)).to.equal('VALIDATION');

    const readKey = await createApiKey(stack.tdb.url, 'dash', 'read');
    const asRead = await gql(stack.server.url, `{ webhookEndpoints { id } }`, {}, readKey);
    expect(codeOf(asRead)).to.equal('FORBIDDEN');
    const rotated = await ok(`mutation($id: Int!) { rotateWebhookSecret(id: $id) { secret } }`, {
      id: endpoint.id,
    });
    noteSecret(rotated.rotateWebhookSecret.secret);
    expect(rotated.rotateWebhookSecret.secret).to.not.equal(secret);
    expect(
      await ok(`mutation($id: Int!) { deleteWebhookEndpoint(id: $id) }`, { id: endpoint.id }),
    ).to.deep.equal({
      deleteWebhookEndpoint: true,
    });
  });

  it('emits every event type once per change, none for a rolled-back change; each delivery verifies with the library', async () => {
    const types = [
      'account.created',
      'account.suspended',
      'account.unsuspended',
      'account.terminated',
      'account.limited',
      'account.restored',
      'traffic.threshold_reached',
      'traffic.credited',
      'router.unreachable',
      'router.recovered',
      'collection.failed',
    ];
    const { secret, endpoint } = await createEndpoint('/all', types);
    const start = await lastEventId();
    const a1 = await newService();
    await create(a1, 'ev1');
    // A create the router refuses is undone: no account, no event.
    const failed = await newService();
    sim.faults.failOn.push({ path: '/queue/simple/add', kind: 'trap', message: 'failure: simulated' });
    const r = await call(
      CREATE_VPN_ACCOUNT,
      createAccountVariables({ serviceId: failed, serverId, productId, username: 'evfail' }),
    );
    expect(r.errors).to.not.equal(undefined);
    await ok(`mutation($s: Int!) { suspendVpnAccount(serviceId: $s, reason: "Overdue") { status } }`, {
      s: a1,
    });
    await ok(
      `mutation($s: Int!) { suspendVpnAccount(serviceId: $s, reason: "Again") { status } }`,
      { s: a1 },
      second,
    );
    await ok(`mutation($s: Int!) { unsuspendVpnAccount(serviceId: $s) { status } }`, { s: a1 }, second);
    const topUp = `mutation($s: Int!) { topUpTraffic(input: { serviceId: $s, bytes: "2000000000", idempotencyKey: "ev-top-1" }) { id } }`;
    await ok(topUp, { s: a1 });
    await ok(topUp, { s: a1 }, second); // the same key: credited once

    // A small account: below the threshold once (however many debits), then used up, then topped up.
    const a2 = await newService(clientA, lowProductId);
    const { createVpnAccount } = await create(a2, 'ev2', lowProductId);
    const collect = async () => ok(`mutation { collectTraffic { routers { ok errorCode } } }`);
    await collect();
    sim.pushTraffic(createVpnAccount.address, 600_000_000, 0);
    await collect();
    sim.pushTraffic(createVpnAccount.address, 100_000_000, 0);
    await collect();
    sim.pushTraffic(createVpnAccount.address, 400_000_000, 0);
    await collect(); // used up: limited
    await ok(
      `mutation($s: Int!) { topUpTraffic(input: { serviceId: $s, bytes: "1000000000", idempotencyKey: "ev-top-2" }) { id } }`,
      { s: a2 },
    ); // restored
    await ok(`mutation($s: Int!) { terminateVpnAccount(serviceId: $s) { status } }`, { s: a1 });

    // The router goes away (two failed collections, one unreachable event) and comes back.
    sim.faults.refuse = true;
    sim.dropConnections();
    const down = await collect();
    expect(down.collectTraffic.routers[0].ok).to.equal(false);
    await collect();
    sim.faults.refuse = false;
    expect((await collect()).collectTraffic.routers[0].ok).to.equal(true);

    const events = await outbox(start, types);
    const count = (type: string) => events.filter((e) => e.type === type).length;
    expect(Object.fromEntries(types.map((t) => [t, count(t)]))).to.deep.equal({
      'account.created': 2,
      'account.suspended': 1,
      'account.unsuspended': 1,
      'account.terminated': 1,
      'account.limited': 1,
      'account.restored': 1,
      'traffic.threshold_reached': 1,
      'traffic.credited': 2,
      'router.unreachable': 1,
      'router.recovered': 1,
      'collection.failed': 2,
    });
    expect(events.filter((e) => e.serviceId === failed)).to.deep.equal([]);

    await waitFor('every event delivered', () => accepted('/all').length >= events.length);
    const got = accepted('/all');
    expect(got.map((g) => g.id).sort()).to.deep.equal(events.map((e) => e.id).sort());
    const wh = new Webhook(secret);
    for (const g of got) {
      const body = wh.verify(g.body, {
        'webhook-id': g.id,
        'webhook-timestamp': g.timestamp,
        'webhook-signature': g.signature,
      }) as { id: string; type: string; data: Record<string, unknown> };
      expect(body.id).to.equal(g.id);
      expect(types).to.include(body.type);
      expect(g.body).not.to.include('Passw0rd');
    }
    const credit = got
      .map((g) => JSON.parse(g.body) as { type: string; data: Record<string, unknown> })
      .find((b) => b.type === 'traffic.credited')!;
    expect(credit.data).to.include({ serviceId: a1, bytes: '2000000000' });
    // A tampered body does not verify.
    expect(() =>
      wh.verify(got[0].body.replace('"type"', '"typ\\u0065"'), {
        'webhook-id': got[0].id,
        'webhook-timestamp': got[0].timestamp,
        'webhook-signature': got[0].signature,
      }),
    ).to.throw();

    const log = await ok(
      `query($e: Int!) { webhookDeliveries(endpointId: $e, first: 100) { status attempts responseCode durationMs lastError } }`,
      { e: endpoint.id },
    );
    expect(log.webhookDeliveries).to.have.length(events.length);
    for (const d of log.webhookDeliveries)
      expect(d).to.include({ status: 'DELIVERED', attempts: 1, responseCode: 204, lastError: null });
    // Metrics: deliveries by outcome (summed over both processes), and nothing waiting any more.
    expect(await deliveriesMetric('delivered')).to.be.at.least(events.length);
    expect(valueOf(await scrape(second.url), 'mvpn_webhook_queue_age_seconds')).to.equal(0);
    // Disabled: nothing more is sent to it (checked by the last test).
    await ok(
      `mutation($id: Int!) { updateWebhookEndpoint(input: { id: $id, enabled: false }) { enabled } }`,
      { id: endpoint.id },
    );
    allEndpoint = endpoint.id;
    allDelivered = accepted('/all').length;
  });

  it('a change that waited in PENDING for the router is announced once, when reconcile settles it', async () => {
    const types = ['account.suspended', 'account.unsuspended', 'account.limited', 'account.restored'];
    const start = await lastEventId();
    const status = async (s: number) =>
      (await ok(`query($s: Int!) { vpnAccount(serviceId: $s) { status } }`, { s })).vpnAccount
        .status as string;
    const routerAway = (away: boolean) => {
      sim.faults.refuse = away;
      if (away) sim.dropConnections();
    };
    // Unsuspended while the router is away: PENDING, then ACTIVE at reconcile — one unsuspended.
    const a = await newService();
    await create(a, 'evpend1');
    await ok(`mutation($s: Int!) { suspendVpnAccount(serviceId: $s, reason: "Overdue") { status } }`, {
      s: a,
    });
    routerAway(true);
    await call(`mutation($s: Int!) { unsuspendVpnAccount(serviceId: $s) { status } }`, { s: a });
    expect(await status(a)).to.equal('PENDING');
    routerAway(false);
    await ok('mutation { reconcile { repaired } }');
    expect(await status(a)).to.equal('ACTIVE');

    // Used up, then PENDING for a password change, then LIMITED again: nothing more to announce.
    const b = await newService(clientA, lowProductId);
    const { createVpnAccount } = await create(b, 'evpend2', lowProductId);
    sim.pushTraffic(createVpnAccount.address, 1_100_000_000, 0);
    await ok(`mutation { collectTraffic { routers { ok } } }`);
    expect(await status(b)).to.equal('LIMITED');
    routerAway(true);
    await call(
      `mutation($s: Int!, $pw: String!) { changeVpnPassword(serviceId: $s, password: $pw) { status } }`,
      {
        s: b,
        pw: 'N3wPassw0rd!',
      },
    );
    expect(await status(b)).to.equal('PENDING');
    routerAway(false);
    await ok('mutation { reconcile { repaired } }');
    expect(await status(b)).to.equal('LIMITED');

    const events = await outbox(start, types);
    const of = (s: number) => events.filter((e) => e.serviceId === s).map((e) => e.type);
    expect(of(a)).to.deep.equal(['account.suspended', 'account.unsuspended']);
    expect(of(b)).to.deep.equal(['account.limited']);
  });

  it('a receiver that answers 500, closes the connection, then hangs gets each event once after retries, and never slows a button', async () => {
    modes.set('/flaky', (_id, attempt) =>
      attempt === 1 ? '500' : attempt === 2 ? 'close' : attempt === 3 ? 'hang' : 'ok',
    );
    const { endpoint } = await createEndpoint('/flaky', ['account.created', 'account.suspended']);
    const s = await newService();
    await create(s, 'ev3');
    await waitFor('a hanging delivery', () =>
      received.some((g) => g.path === '/flaky' && g.answered === 'hang'),
    );
    const t0 = Date.now();
    await ok(`mutation($s: Int!) { suspendVpnAccount(serviceId: $s) { status } }`, { s });
    expect(Date.now() - t0).to.be.below(2000);
    await waitFor('both delivered', () => accepted('/flaky').length >= 2);
    await new Promise((r) => setTimeout(r, 500));
    const ids = accepted('/flaky').map((g) => g.id);
    expect(new Set(ids).size).to.equal(ids.length); // once each
    expect(ids).to.have.length(2);
    for (const id of ids) {
      const tries = received.filter((g) => g.path === '/flaky' && g.id === id).map((g) => g.answered);
      expect(tries).to.deep.equal(['500', 'close', 'hang', 'ok']); // the same webhook-id every time
    }
    const log = await ok(
      `query($e: Int!) { webhookDeliveries(endpointId: $e) { status attempts responseCode } }`,
      { e: endpoint.id },
    );
    expect(log.webhookDeliveries).to.deep.equal([
      { status: 'DELIVERED', attempts: 4, responseCode: 204 },
      { status: 'DELIVERED', attempts: 4, responseCode: 204 },
    ]);
    await ok(`mutation($id: Int!) { deleteWebhookEndpoint(id: $id) }`, { id: endpoint.id });
  });

  it('a SIGKILL of the delivering process mid-delivery: another process delivers the event, with the same webhook-id', async () => {
    modes.set('/kill', (_id, attempt) => (attempt === 1 ? 'hang' : 'ok'));
    const { endpoint } = await createEndpoint('/kill', ['account.created']);
    const s = await newService();
    await create(s, 'ev4');
    await waitFor('the first attempt', () => received.some((g) => g.path === '/kill'));
    const id = received.find((g) => g.path === '/kill')!.id;
    const started = (srv: TestServer) =>
      srv.output.some((l) => l.includes('webhook delivery started') && l.includes(`"eventId":"${id}"`));
    // The log line may reach the test's pipe after the request reaches the receiver.
    await waitFor('the delivering process to say so', () => started(stack.server) || started(second));
    const victim = started(stack.server) ? stack.server : second;
    await victim.stop('SIGKILL');
    await waitFor('redelivery by the survivor', () => accepted('/kill').length === 1, 15_000);
    expect(accepted('/kill')[0].id).to.equal(id);
    expect(received.filter((g) => g.path === '/kill').map((g) => g.id)).to.deep.equal([id, id]);
    // Put a process back where the killed one was.
    const replacement = await startServer(stack.env);
    await waitForHealthy(replacement);
    if (victim === stack.server) stack.server = replacement;
    else second = replacement;
    await ok(`mutation($id: Int!) { deleteWebhookEndpoint(id: $id) }`, { id: endpoint.id });
  });

  it('gives up after the retry window: the endpoint is marked failing and an event says so; redeliverWebhook sends it again', async () => {
    let up = false;
    modes.set('/dead', () => (up ? 'ok' : '500'));
    const { endpoint } = await createEndpoint('/dead', ['account.created']);
    const watch = await createEndpoint('/watch', ['webhook.failing']);
    const s = await newService();
    await create(s, 'ev5');
    const query = `query($e: Int!) { webhookDeliveries(endpointId: $e) { id eventId status attempts lastError } }`;
    let log: { id: string; eventId: string; status: string; attempts: number; lastError: string }[] = [];
    await waitFor(
      'the delivery to give up',
      async () => {
        log = (await ok(query, { e: endpoint.id })).webhookDeliveries;
        return log[0]?.status === 'FAILED';
      },
      20_000,
    );
    expect(log[0].attempts).to.be.greaterThan(3);
    expect(await deliveriesMetric('failed')).to.be.at.least(1);
    expect(await deliveriesMetric('retry')).to.be.at.least(3);
    expect(log[0].lastError).to.equal('answered 500');
    const listed = (await ok(`{ webhookEndpoints { id failing } }`)).webhookEndpoints as {
      id: number;
      failing: boolean;
    }[];
    expect(listed.find((e) => e.id === endpoint.id)!.failing).to.equal(true);
    await waitFor('the failing event', () => accepted('/watch').length === 1);
    expect(JSON.parse(accepted('/watch')[0].body).data).to.include({ endpointId: endpoint.id });

    up = true;
    const again = await ok(`mutation($d: ID!) { redeliverWebhook(deliveryId: $d) { status } }`, {
      d: log[0].id,
    });
    expect(again.redeliverWebhook.status).to.equal('PENDING');
    await waitFor('the redelivery', () => accepted('/dead').length === 1);
    expect(accepted('/dead')[0].id).to.equal(log[0].eventId);
    await waitFor('failing cleared', async () => {
      const l = (await ok(`{ webhookEndpoints { id failing } }`)).webhookEndpoints as {
        id: number;
        failing: boolean;
      }[];
      return !l.find((e) => e.id === endpoint.id)!.failing;
    });
    await ok(`mutation($id: Int!) { deleteWebhookEndpoint(id: $id) }`, { id: endpoint.id });
    await ok(`mutation($id: Int!) { deleteWebhookEndpoint(id: $id) }`, { id: watch.endpoint.id });
  });

  it("subscriptions: a client token sees only its own account's events, an API key all; bad tokens are refused at connect", async () => {
    const mine = await newService(clientA);
    const theirs = await newService(clientB);
    const token = (
      await ok(
        `mutation($c: Int!, $s: [Int!]!) { mintClientToken(clientId: $c, serviceIds: $s) { token id } }`,
        {
          c: clientA,
          s: [mine],
        },
      )
    ).mintClientToken;
    noteSecret(token.token);
    const clientWs = wsClient(`Bearer ${token.token}`);
    const adminWs = wsClient(`Bearer ${stack.admin}`, second);
    const asClient = subscribe(clientWs);
    const asAdmin = subscribe(adminWs, { types: ['account.created', 'account.suspended'] });
    await new Promise((r) => setTimeout(r, 500)); // both subscribed (they start from now)
    await create(mine, 'ev6');
    await create(theirs, 'ev7', productId, second);
    await ok(`mutation($s: Int!) { suspendVpnAccount(serviceId: $s) { status } }`, { s: theirs });
    await ok(`mutation($s: Int!) { suspendVpnAccount(serviceId: $s) { status } }`, { s: mine });
    await waitFor('admin events', () => asAdmin.events.length >= 4);
    await waitFor('client events', () => asClient.events.length >= 2);
    await new Promise((r) => setTimeout(r, 400));
    expect(asClient.state.error).to.equal(null);
    expect(asClient.events.map((e) => [e.type, e.payload.serviceId])).to.deep.equal([
      ['account.created', mine],
      ['account.suspended', mine],
    ]);
    expect(asAdmin.events.map((e) => [e.type, e.payload.serviceId])).to.deep.equal([
      ['account.created', mine],
      ['account.created', theirs],
      ['account.suspended', theirs],
      ['account.suspended', mine],
    ]);

    // Revoked while subscribed: the stream ends; a new connection is refused.
    await ok(`mutation($id: String!) { revokeClientToken(id: $id) { id } }`, { id: token.id });
    await waitFor('the stream to end', () => asClient.state.error !== null || asClient.state.done);
    const refusedCode = async (authorization: string) => {
      const c = wsClient(authorization);
      const sub = subscribe(c);
      await waitFor('refusal', () => sub.state.error !== null || sub.state.done, 5000);
      await c.dispose();
      return (sub.state.error as { code?: number }).code;
    };
    expect(await refusedCode(`Bearer ${token.token}`)).to.equal(4403);
    expect(await refusedCode(`Bearer ${expiredToken}`)).to.equal(4403); // minted with 10 s, long ago
    expect(await refusedCode(`Bearer ${token.token.slice(0, -2)}xx`)).to.equal(4403);
    expect(await refusedCode('Bearer not-a-key')).to.equal(4403);
    expect(await refusedCode('')).to.equal(4403);
    asAdmin.stop();
    await clientWs.dispose();
    await adminWs.dispose();
  });

  it('subscriptions resume after a server restart from the last event id, missing none and repeating none', async () => {
    const s = await newService(clientB);
    const c1 = wsClient(`Bearer ${stack.admin}`);
    const first = subscribe(c1, { types: ['account.created', 'account.suspended', 'account.unsuspended'] });
    await new Promise((r) => setTimeout(r, 300));
    await create(s, 'ev8');
    await waitFor('the first event', () => first.events.length === 1);
    const lastSeen = first.events[0].id;
    await c1.dispose();
    // An event past the retention (EVENTS_RETENTION_DAYS, 30) is pruned by the next process to start.
    const oldest = (await outbox('0'))[0].id;
    await stack.db.query('UPDATE mod_mikrotikvpn_outbox SET at = at - INTERVAL 31 DAY WHERE id = ?', [
      oldest,
    ]);
    await stack.server.stop(); // SIGTERM: closes subscriptions and stops
    // Meanwhile, on the other process:
    await ok(`mutation($s: Int!) { suspendVpnAccount(serviceId: $s) { status } }`, { s }, second);
    await ok(`mutation($s: Int!) { unsuspendVpnAccount(serviceId: $s) { status } }`, { s }, second);
    stack.server = await startServer(stack.env);
    await waitForHealthy(stack.server);
    const c2 = wsClient(`Bearer ${stack.admin}`);
    const resumed = subscribe(c2, {
      after: lastSeen,
      types: ['account.created', 'account.suspended', 'account.unsuspended'],
    });
    await waitFor('the missed events', () => resumed.events.length >= 2);
    await new Promise((r) => setTimeout(r, 400));
    expect(resumed.events.map((e) => [e.type, e.payload.serviceId])).to.deep.equal([
      ['account.suspended', s],
      ['account.unsuspended', s],
    ]);
    expect(resumed.events.every((e) => BigInt(e.id) > BigInt(lastSeen))).to.equal(true);
    await c2.dispose();
    await waitFor('the old event pruned', async () => (await outbox('0'))[0].id !== oldest);
    expect(
      await stack.db.query('SELECT id FROM mod_mikrotikvpn_webhook_deliveries WHERE event_id = ?', [oldest]),
    ).to.deep.equal([]);
    // The endpoint disabled in the second test got nothing since, and has nothing waiting.
    expect(accepted('/all').length).to.equal(allDelivered);
    const waiting = await stack.db.query(
      "SELECT COUNT(*) AS n FROM mod_mikrotikvpn_webhook_deliveries WHERE endpoint_id = ? AND status IN ('PENDING', 'IN_FLIGHT')",
      [allEndpoint],
    );
    expect(Number(waiting[0].n)).to.equal(0);
  });
});
