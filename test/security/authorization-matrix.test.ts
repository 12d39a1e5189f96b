import { expect } from 'chai';
import { isObjectType } from 'graphql';
import { startStack, type Stack } from '../helpers/stack';
import { createApiKey } from '../helpers/cli';
import { gql, type GqlResult } from '../helpers/test-server';
import { createSchema } from '../../src/schema';
import { ClientTokens } from '../../src/auth/client-tokens';
import { loadEncryptionKeys } from '../../src/config/app-config';
import { generateApiKey } from '../../src/auth/api-keys';
import type { SimulatedRouter } from '../simulator/simulated-router';

/**
 * Every Query and Mutation field × every kind of caller, each cell asserting the exact outcome.
 * The rows are checked against the schema itself: a new field without a row fails this test.
 */

type Identity = 'none' | 'wrongKey' | 'readKey' | 'expiredClient' | 'otherClient' | 'ownerClient';
const IDENTITIES: Identity[] = ['none', 'wrongKey', 'readKey', 'expiredClient', 'otherClient', 'ownerClient'];

/**
 * Who may call a field: admin keys only, any API key, or also the client token of the service's owner;
 * `ownerOrAdmin`: an admin key or the owner's token, never a read key (a WireGuard config's keys).
 */
type Access = 'admin' | 'anyKey' | 'owner' | 'ownerOrAdmin';
type Outcome = 'DATA' | 'UNAUTHENTICATED' | 'FORBIDDEN';

interface Ids {
  aliceService: number;
  aliceSpare: number;
  alice: number;
  productId: number;
  serverId: number;
  routerId: string;
  sim: SimulatedRouter;
}

interface Row {
  type: 'Query' | 'Mutation';
  field: string;
  access: Access;
  /** The operation, aimed at Alice's (the owner's) service, router and product. */
  doc(ids: Ids): string;
  /** Extra rows for sensitive fields below the root (not counted in the schema check). */
  nested?: boolean;
}

const ROWS: Row[] = [
  // Queries
  {
    type: 'Query',
    field: 'pendingNotifications',
    access: 'admin',
    doc: () => `{ pendingNotifications { id } }`,
  },
  {
    type: 'Query',
    field: 'product',
    access: 'anyKey',
    doc: (i) => `{ product(id: ${i.productId}) { id name } }`,
  },
  { type: 'Query', field: 'products', access: 'anyKey', doc: () => `{ products { id } }` },
  {
    type: 'Query',
    field: 'trafficUsageForServer',
    access: 'anyKey',
    doc: (i) => `{ trafficUsageForServer(serverId: ${i.serverId}) { from services { serviceId bytes } } }`,
  },
  { type: 'Query', field: 'webhookEndpoints', access: 'admin', doc: () => `{ webhookEndpoints { id url } }` },
  {
    type: 'Query',
    field: 'webhookDeliveries',
    access: 'admin',
    doc: () => `{ webhookDeliveries(endpointId: 1) { id status } }`,
  },
  {
    type: 'Query',
    field: 'router',
    access: 'anyKey',
    doc: (i) => `{ router(id: "${i.routerId}") { id host } }`,
  },
  {
    type: 'Query',
    field: 'routerForServer',
    access: 'anyKey',
    doc: (i) => `{ routerForServer(serverId: ${i.serverId}) { id } }`,
  },
  {
    type: 'Query',
    field: 'routerProfiles',
    access: 'anyKey',
    doc: (i) => `{ routerProfiles(routerId: "${i.routerId}") }`,
  },
  {
    type: 'Query',
    field: 'sessions',
    access: 'owner',
    doc: (i) => `{ sessions(serviceId: ${i.aliceService}) { nodes { id callerId } } }`,
  },
  {
    type: 'Query',
    field: 'sessionsByCallerId',
    access: 'anyKey',
    doc: () => `{ sessionsByCallerId(callerId: "198.51.100.7") { nodes { serviceId } } }`,
  },
  {
    type: 'Query',
    field: 'addressOwner',
    access: 'anyKey',
    doc: () => `{ addressOwner(address: "10.0.0.1", at: "2026-11-01T00:00:00Z") { ours reason } }`,
  },
  {
    type: 'Query',
    field: 'routerWireGuardInterfaces',
    access: 'anyKey',
    doc: (i) => `{ routerWireGuardInterfaces(routerId: "${i.routerId}") { name listenPort } }`,
  },
  { type: 'Query', field: 'routers', access: 'anyKey', doc: () => `{ routers { id username } }` },
  {
    type: 'Query',
    field: 'vpnAccount',
    access: 'owner',
    doc: (i) =>
      `{ vpnAccount(serviceId: ${i.aliceService}) { serviceId username traffic { balanceBytes } } }`,
  },
  {
    type: 'Query',
    field: 'vpnAccounts',
    access: 'anyKey',
    doc: (i) => `{ vpnAccounts(filter: { clientId: ${i.alice} }) { nodes { username } } }`,
  },
  // Sensitive fields below the root
  {
    type: 'Query',
    field: 'vpnAccount',
    nested: true,
    access: 'ownerOrAdmin',
    doc: (i) =>
      `{ vpnAccount(serviceId: ${i.aliceService}) { wireGuardConfig { text } wireguard { publicKey } } }`,
  },
  {
    type: 'Query',
    field: 'vpnAccount',
    nested: true,
    access: 'anyKey',
    doc: (i) => `{ vpnAccount(serviceId: ${i.aliceService}) { routerProblem } }`,
  },
  {
    type: 'Query',
    field: 'vpnAccount',
    nested: true,
    access: 'anyKey',
    doc: (i) => `{ vpnAccount(serviceId: ${i.aliceService}) { router { host username } } }`,
  },
  {
    type: 'Query',
    field: 'product',
    nested: true,
    access: 'admin',
    doc: (i) => `{ product(id: ${i.productId}) { l2tpPsk } }`,
  },
  {
    type: 'Query',
    field: 'vpnAccount',
    nested: true,
    access: 'owner',
    doc: (i) =>
      `{ vpnAccount(serviceId: ${i.aliceService}) { usage(from: "2026-11-01T00:00:00Z", to: "2027-01-01T00:00:00Z") { day } topUps { nodes { bytes } } connection { online } } }`,
  },
  // Mutations: every one aimed at a real object, so a hole would show as a change.
  {
    type: 'Mutation',
    field: 'acknowledgeNotifications',
    access: 'admin',
    doc: () => `mutation { acknowledgeNotifications(ids: ["1"]) }`,
  },
  {
    type: 'Mutation',
    field: 'changeVpnPackage',
    access: 'admin',
    doc: (i) =>
      `mutation { changeVpnPackage(serviceId: ${i.aliceService}, productId: ${i.productId}) { status } }`,
  },
  {
    type: 'Mutation',
    field: 'changeVpnPassword',
    access: 'admin',
    doc: (i) =>
      `mutation { changeVpnPassword(serviceId: ${i.aliceService}, password: "Hijack3d!") { status } }`,
  },
  {
    type: 'Mutation',
    field: 'setProductPolicy',
    access: 'admin',
    // The default policy: whoever gets through changes nothing the other cells depend on.
    doc: (i) =>
      `mutation { setProductPolicy(input: { productId: ${i.productId}, onExhausted: "cutoff" }) { id } }`,
  },
  {
    type: 'Mutation',
    field: 'collectTraffic',
    access: 'admin',
    doc: () => `mutation { collectTraffic { samplesWritten } }`,
  },
  {
    type: 'Mutation',
    field: 'createVpnAccount',
    access: 'admin',
    doc: (i) =>
      `mutation { createVpnAccount(input: { serviceId: ${i.aliceSpare}, serverId: ${i.serverId}, productId: ${i.productId}, username: "intruder", password: "Intrud3r!", billingCycle: "Monthly" }) { status } }`,
  },
  {
    type: 'Mutation',
    field: 'mintClientToken',
    access: 'admin',
    doc: (i) =>
      `mutation { mintClientToken(clientId: ${i.alice}, serviceIds: [${i.aliceService}]) { token } }`,
  },
  { type: 'Mutation', field: 'reconcile', access: 'admin', doc: () => `mutation { reconcile { repaired } }` },
  {
    type: 'Mutation',
    field: 'revokeClientToken',
    access: 'admin',
    doc: () => `mutation { revokeClientToken(id: "matrix-token-id-0000000") { id } }`,
  },
  {
    type: 'Mutation',
    field: 'renewVpnAccount',
    access: 'admin',
    doc: (i) => `mutation { renewVpnAccount(serviceId: ${i.aliceService}, cycleKey: "matrix-cycle") { id } }`,
  },
  {
    type: 'Mutation',
    field: 'reportNotificationFailure',
    access: 'admin',
    doc: () => `mutation { reportNotificationFailure(id: "1", error: "x") }`,
  },
  {
    type: 'Mutation',
    field: 'regenerateWireGuardKeys',
    access: 'admin',
    doc: (i) => `mutation { regenerateWireGuardKeys(serviceId: ${i.aliceService}) { status } }`,
  },
  {
    type: 'Mutation',
    field: 'resetVpnConnection',
    access: 'admin',
    doc: (i) => `mutation { resetVpnConnection(serviceId: ${i.aliceService}) { status } }`,
  },
  {
    type: 'Mutation',
    field: 'suspendVpnAccount',
    access: 'admin',
    doc: (i) => `mutation { suspendVpnAccount(serviceId: ${i.aliceService}) { status } }`,
  },
  {
    type: 'Mutation',
    field: 'terminateVpnAccount',
    access: 'admin',
    doc: (i) => `mutation { terminateVpnAccount(serviceId: ${i.aliceService}) { status } }`,
  },
  {
    type: 'Mutation',
    field: 'terminateVpnService',
    access: 'admin',
    doc: (i) =>
      `mutation { terminateVpnService(serviceId: ${i.aliceService}) { ... on VpnAccount { status } ... on ErrorResult { errorCode } } }`,
  },
  {
    type: 'Mutation',
    field: 'creditHostingAddon',
    access: 'admin',
    doc: () =>
      `mutation { creditHostingAddon(hostingAddonId: 999999, event: ACTIVATION) { ... on ErrorResult { errorCode } } }`,
  },
  {
    type: 'Mutation',
    field: 'testRouterConnection',
    access: 'admin',
    doc: (i) =>
      `mutation { testRouterConnection(input: { serverId: ${i.serverId}, host: "127.0.0.1", port: ${i.sim.port}, username: "api", password: "router-pass", caPem: ${JSON.stringify(i.sim.caPem)} }) { ok } }`,
  },
  {
    type: 'Mutation',
    field: 'topUpTraffic',
    access: 'admin',
    doc: (i) =>
      `mutation { topUpTraffic(input: { serviceId: ${i.aliceService}, bytes: "1000000000000", idempotencyKey: "matrix" }) { id } }`,
  },
  {
    type: 'Mutation',
    field: 'unsuspendVpnAccount',
    access: 'admin',
    doc: (i) => `mutation { unsuspendVpnAccount(serviceId: ${i.aliceService}) { status } }`,
  },
  {
    type: 'Mutation',
    field: 'createWebhookEndpoint',
    access: 'admin',
    doc: () =>
      `mutation { createWebhookEndpoint(input: { url: "https://93.184.216.34/matrix" }) { secret } }`,
  },
  {
    type: 'Mutation',
    field: 'updateWebhookEndpoint',
    access: 'admin',
    doc: () => `mutation { updateWebhookEndpoint(input: { id: 1, enabled: false }) { id } }`,
  },
  {
    type: 'Mutation',
    field: 'rotateWebhookSecret',
    access: 'admin',
    doc: () => `mutation { rotateWebhookSecret(id: 1) { secret } }`,
  },
  {
    type: 'Mutation',
    field: 'deleteWebhookEndpoint',
    access: 'admin',
    doc: () => `mutation { deleteWebhookEndpoint(id: 1) }`,
  },
  {
    type: 'Mutation',
    field: 'redeliverWebhook',
    access: 'admin',
    doc: () => `mutation { redeliverWebhook(deliveryId: "1") { id } }`,
  },
  {
    type: 'Mutation',
    field: 'upsertRouter',
    access: 'admin',
    doc: (i) =>
      `mutation { upsertRouter(input: { serverId: ${i.serverId}, host: "10.6.6.6", username: "evil", password: "evil", tls: false }) { id } }`,
  },
];

/** The designed outcome of one cell. */
function expected(access: Access, who: Identity): Outcome {
  if (who === 'none' || who === 'wrongKey' || who === 'expiredClient') return 'UNAUTHENTICATED';
  if (who === 'readKey') return access === 'admin' || access === 'ownerOrAdmin' ? 'FORBIDDEN' : 'DATA';
  // Client tokens: only the owner, only the owner's service.
  if (who === 'ownerClient') return access === 'owner' || access === 'ownerOrAdmin' ? 'DATA' : 'FORBIDDEN';
  return 'FORBIDDEN';
}

describe('security: authorization matrix (every query and mutation × every kind of caller)', function () {
  this.timeout(180_000);
  let stack: Stack;
  let ids: Ids;
  let bobService: number;
  const credentials = {} as Record<Identity, string | undefined>;

  const snapshot = async () =>
    JSON.stringify(
      await stack.db.query(`SELECT
        (SELECT GROUP_CONCAT(CONCAT(service_id, status, balance_bytes, username) ORDER BY id) FROM mod_mikrotikvpn_accounts) accounts,
        (SELECT COUNT(*) FROM mod_mikrotikvpn_traffic_topups) topups,
        (SELECT COUNT(*) FROM mod_mikrotikvpn_events) events,
        (SELECT COUNT(*) FROM mod_mikrotikvpn_outbox) outbox,
        (SELECT GROUP_CONCAT(CONCAT(url, enabled, secret_encrypted)) FROM mod_mikrotikvpn_webhook_endpoints) webhooks,
        (SELECT GROUP_CONCAT(CONCAT(host, username, password_encrypted)) FROM mod_mikrotikvpn_routers) routers`),
    );

  before(async () => {
    stack = await startStack();
    const { sim, serverId, routerId } = await stack.addRouter();
    const productId = await stack.whmcs.product({
      settings: { trafficMonthlyGb: '10', l2tpPsk: 'psk-secret' },
    });
    const alice = await stack.whmcs.client({ firstname: 'Alice' });
    const bob = await stack.whmcs.client({ firstname: 'Bob' });
    const aliceService = await stack.whmcs.service({ userid: alice, packageid: productId, server: serverId });
    const aliceSpare = await stack.whmcs.service({ userid: alice, packageid: productId, server: serverId });
    bobService = await stack.whmcs.service({ userid: bob, packageid: productId, server: serverId });
    ids = { aliceService, aliceSpare, alice, productId, serverId, routerId, sim };
    for (const [serviceId, username] of [
      [aliceService, 'alice-vpn'],
      [bobService, 'bob-vpn'],
    ] as [number, string][]) {
      const r = await gql(
        stack.server.url,
        `mutation($i: CreateVpnAccountInput!) { createVpnAccount(input: $i) { status } }`,
        { i: { serviceId, serverId, productId, username, password: 'Passw0rd!', billingCycle: 'Monthly' } },
        stack.admin,
      );
      expect(r.errors).to.equal(undefined);
    }
    const mint = async (clientId: number, serviceId: number) => {
      const r = await gql(
        stack.server.url,
        `mutation { mintClientToken(clientId: ${clientId}, serviceIds: [${serviceId}]) { token } }`,
        {},
        stack.admin,
      );
      return r.data!.mintClientToken.token as string;
    };
    credentials.none = undefined;
    credentials.wrongKey = generateApiKey();
    credentials.readKey = await createApiKey(stack.tdb.url, 'dashboard', 'read');
    // Signed with the server's own key, but its hour is over.
    credentials.expiredClient = new ClientTokens([...loadEncryptionKeys(stack.env).keys.values()]).mint(
      alice,
      [aliceService],
      600,
      Date.now() - 3_600_000,
    ).token;
    credentials.otherClient = await mint(bob, bobService);
    credentials.ownerClient = await mint(alice, aliceService);
  });
  after(() => stack?.stop());

  it('has a row for every Query and Mutation field of the schema', async () => {
    const schema = await createSchema();
    const inSchema: string[] = [];
    for (const type of [schema.getQueryType(), schema.getMutationType()]) {
      if (isObjectType(type)) inSchema.push(...Object.keys(type.getFields()).map((f) => `${type.name}.${f}`));
    }
    const rows = new Set(ROWS.filter((r) => !r.nested).map((r) => `${r.type}.${r.field}`));
    expect(
      inSchema.filter((f) => !rows.has(f)),
      'fields without a matrix row',
    ).to.deep.equal([]);
    expect(
      [...rows].filter((f) => !inSchema.includes(f)),
      'rows without a field',
    ).to.deep.equal([]);
  });

  it('answers every cell exactly as designed, and the refused ones change nothing', async () => {
    const before = await snapshot();
    const failures: string[] = [];
    let cells = 0;
    let crossCustomer = 0;
    let crossCustomerDenied = 0;
    for (const row of ROWS) {
      for (const who of IDENTITIES) {
        cells++;
        const want = expected(row.access, who);
        const r = await gql(stack.server.url, row.doc(ids), {}, credentials[who]);
        const got = outcomeOf(r, row.field);
        const label = `${row.type}.${row.field}${row.nested ? ' (nested)' : ''} as ${who}`;
        if (got !== want)
          failures.push(`${label}: ${got}, expected ${want} ${JSON.stringify(r.errors ?? r.data)}`);
        if (want === 'UNAUTHENTICATED' && r.status !== 401) failures.push(`${label}: HTTP ${r.status}`);
        if (who === 'expiredClient' && r.errors?.[0]?.extensions?.reason !== 'TOKEN_EXPIRED')
          failures.push(`${label}: not reported as TOKEN_EXPIRED`);
        if (who === 'otherClient') {
          // Bob's token, aimed at Alice's service, router and products.
          crossCustomer++;
          if (got !== 'DATA' && !leaksAlice(r)) crossCustomerDenied++;
        }
      }
    }
    expect(failures, failures.join('\n')).to.deep.equal([]);
    expect(cells).to.equal(ROWS.length * IDENTITIES.length);
    expect(crossCustomerDenied).to.equal(crossCustomer);
    expect(await snapshot()).to.equal(before);
    console.log(
      `      authorization matrix: ${cells} cells (${ROWS.length} rows × ${IDENTITIES.length} callers), ` +
        `${crossCustomerDenied}/${crossCustomer} cross-customer attempts denied`,
    );
  });

  it("denies every way a customer's token might reach another customer's service", async () => {
    const attempts: { query: string; variables?: Record<string, unknown> }[] = [
      { query: `{ vpnAccount(serviceId: ${ids.aliceService}) { serviceId } }` },
      {
        query: `query($s: Int!) { vpnAccount(serviceId: $s) { username } }`,
        variables: { s: ids.aliceService },
      },
      { query: `{ vpnAccount(serviceId: ${ids.aliceSpare}) { serviceId } }` },
      {
        query: `{ a: vpnAccount(serviceId: ${bobService}) { serviceId } b: vpnAccount(serviceId: ${ids.aliceService}) { username } }`,
      },
      { query: `{ vpnAccount(serviceId: ${bobService}) { router { accounts { nodes { username } } } } }` },
      { query: `{ vpnAccounts(filter: { clientId: ${ids.alice} }) { nodes { username } } }` },
      { query: `{ vpnAccounts { nodes { username } } }` },
      { query: `{ routers { accounts { nodes { username } } } }` },
      { query: `{ router(id: "${ids.routerId}") { accounts { nodes { username } } } }` },
      {
        query: `{ vpnAccount(serviceId: ${ids.aliceService}) { usage(from: "2026-11-01T00:00:00Z", to: "2027-01-01T00:00:00Z") { day } } }`,
      },
      { query: `{ vpnAccount(serviceId: ${ids.aliceService}) { topUps { nodes { bytes } } } }` },
      { query: `{ vpnAccount(serviceId: ${ids.aliceService}) { connection { online address } } }` },
      {
        query: `mutation { mintClientToken(clientId: ${ids.alice}, serviceIds: [${ids.aliceService}]) { token } }`,
      },
      {
        query: `mutation { changeVpnPassword(serviceId: ${ids.aliceService}, password: "Hijack3d!") { username } }`,
      },
    ];
    let denied = 0;
    for (const a of attempts) {
      const r = await gql(stack.server.url, a.query, a.variables ?? {}, credentials.otherClient);
      expect(
        r.errors?.some((e) => e.extensions?.code === 'FORBIDDEN'),
        a.query,
      ).to.equal(true);
      expect(leaksAlice(r), a.query).to.equal(false);
      denied++;
    }
    expect(denied).to.equal(attempts.length);
    // The mixed query still answers Bob's own half: the refusal is per field, not a blanket error.
    const mixed = await gql(stack.server.url, attempts[3].query, {}, credentials.otherClient);
    expect(mixed.data).to.deep.equal({ a: { serviceId: bobService }, b: null });
  });

  /** Anything of Alice's in an answer to Bob: her PPP user name, client id or router host. */
  function leaksAlice(r: GqlResult): boolean {
    const text = JSON.stringify(r.data ?? null);
    return (
      text.includes('alice-vpn') ||
      text.includes('127.0.0.1') ||
      new RegExp(`:${ids.aliceService}[,}]`).test(text)
    );
  }
});

function outcomeOf(r: GqlResult, field: string): Outcome | string {
  const code = r.errors?.[0]?.extensions?.code;
  // A refused nullable field below the root leaves its parent with nothing but nulls: no data.
  if (code) return onlyNulls(r.data?.[field] ?? null) ? code : `${code} with data`;
  return r.data?.[field] != null ? 'DATA' : 'null data';
}

function onlyNulls(value: unknown): boolean {
  if (value === null || value === undefined) return true;
  if (typeof value !== 'object') return false;
  return Object.values(value as Record<string, unknown>).every(onlyNulls);
}
