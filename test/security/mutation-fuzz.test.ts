import { expect } from 'chai';
import fc from 'fast-check';
import { startStack, type Stack } from '../helpers/stack';
import { gql, startServer, waitForHealthy } from '../helpers/test-server';
import { ErrorCode } from '../../src/errors/error-code';
import { createSchema } from '../../src/schema';
import type { SimulatedRouter } from '../simulator/simulated-router';
import { queueName } from '../../src/services/lifecycle/desired-state';

/**
 * Property-based fuzzing of every mutation's input through the real server process: random sequences
 * of mutations with odd, hostile and wrongly typed values. Every answer is data or a typed error
 * (never a 500, never INTERNAL_SERVER_ERROR), and after every sequence the database and the router
 * agree: no account without its secret, no secret without its account, no balance without its ledger.
 * The second property sends each sequence's calls all at once, alternately to two server processes.
 *
 * Runs (per property): MVPN_FUZZ_RUNS, else 2000 with MVPN_FAULTS=full, else 60. Reproduce with MVPN_FUZZ_SEED=<seed>.
 */
const RUNS = Number(process.env.MVPN_FUZZ_RUNS) || (process.env.MVPN_FAULTS === 'full' ? 2000 : 60);
const SEED = Number(process.env.MVPN_FUZZ_SEED) || Date.now() ^ (Math.random() * 0x7fffffff);

/** Codes a fuzzed mutation may end with: every typed one, not "unexpected" or "database down". */
const TYPED = new Set<string>(
  Object.values(ErrorCode).filter(
    (c) => c !== ErrorCode.INTERNAL_SERVER_ERROR && c !== ErrorCode.DATABASE_UNAVAILABLE,
  ),
);

const MUTATIONS = [
  'createVpnAccount',
  'suspendVpnAccount',
  'unsuspendVpnAccount',
  'terminateVpnAccount',
  'terminateVpnService',
  'changeVpnPackage',
  'changeVpnPassword',
  'regenerateWireGuardKeys',
  'resetVpnConnection',
  'reconcile',
  'renewVpnAccount',
  'topUpTraffic',
  'creditHostingAddon',
  'collectTraffic',
  'acknowledgeNotifications',
  'reportNotificationFailure',
  'mintClientToken',
  'revokeClientToken',
  'testRouterConnection',
  'upsertRouter',
  'createWebhookEndpoint',
  'updateWebhookEndpoint',
  'rotateWebhookSecret',
  'deleteWebhookEndpoint',
  'redeliverWebhook',
  'setProductPolicy',
] as const;
type MutationName = (typeof MUTATIONS)[number];

interface Call {
  mutation: MutationName;
  query: string;
  variables: Record<string, unknown>;
}

describe('security: property-based fuzzing of every mutation (server process + simulator)', function () {
  this.timeout(RUNS * 15_000 + 120_000);
  let stack: Stack;
  let sim: SimulatedRouter;
  let serverId: number;
  let spareServerId: number;
  let routerId: string;
  let clientId: number;
  const products: number[] = [];
  const services: number[] = [];
  let requests = 0;
  const answered = new Map<string, number>();

  before(async () => {
    stack = await startStack();
    ({ sim, serverId, routerId } = await stack.addRouter({
      assignedips: ['10.77.0.1', '10.77.0.2', '10.77.0.3', '10.77.0.4', '10.77.0.5', '10.77.0.6'],
    }));
    spareServerId = await stack.whmcs.server({ name: 'spare' });
    products.push(await stack.whmcs.product({ settings: { trafficMonthlyGb: '10' } }));
    products.push(await stack.whmcs.product({ settings: { trafficMonthlyGb: '0', profile: 'default' } }));
    clientId = await stack.whmcs.client();
    for (let i = 0; i < 6; i++)
      services.push(
        await stack.whmcs.service({ userid: clientId, packageid: products[i % 2], server: serverId }),
      );
    console.log(
      `      fuzz seed ${SEED}, ${RUNS} runs (reproduce: MVPN_FUZZ_SEED=${SEED} MVPN_FUZZ_RUNS=${RUNS})`,
    );
  });
  after(() => stack?.stop());

  // --- values: mostly plausible, often odd, sometimes hostile
  const oddString = fc.oneof(
    fc.string({ maxLength: 40 }),
    fc.string({ unit: 'grapheme', maxLength: 20 }),
    fc.constantFrom(
      '',
      ' ',
      'a'.repeat(300),
      'b'.repeat(5000),
      "'; DROP TABLE mod_mikrotikvpn_accounts; --",
      '=name=admin',
      '?name=x',
      '.id=*1',
      'line\nbreak',
      'nul\u0000byte',
      '\u202eevil',
      '../../etc/passwd',
      '$(reboot)',
      '%s%n',
      '😀',
    ),
  );
  const someId = fc.oneof(
    fc.constantFrom(...[0, -1, 2147483647, -2147483648, 1]),
    fc.integer({ min: -5, max: 2_000_000_000 }),
  );
  const pickService = fc.oneof(
    { weight: 4, arbitrary: fc.nat({ max: 5 }).map((i) => services[i]) },
    { weight: 1, arbitrary: someId },
  );
  const pickProduct = fc.oneof(
    { weight: 3, arbitrary: fc.nat({ max: 1 }).map((i) => products[i]) },
    { weight: 1, arbitrary: someId },
  );
  const username = fc.oneof(
    { weight: 3, arbitrary: fc.stringMatching(/^[a-z][a-z0-9._@-]{0,20}$/) },
    { weight: 1, arbitrary: oddString },
  );
  const password = fc.oneof(
    { weight: 3, arbitrary: fc.stringMatching(/^[!-~]{1,40}$/) },
    { weight: 1, arbitrary: oddString },
  );
  const cycle = fc.oneof(
    fc.constantFrom('Monthly', 'Quarterly', 'Semi-Annually', 'Annually', 'One Time', 'Free Account'),
    oddString,
  );
  const bytes = fc.oneof(
    fc.bigInt({ min: -(10n ** 13n), max: 10n ** 13n }).map(String),
    fc.constantFrom(
      '0',
      '-1',
      '9223372036854775807',
      '9223372036854775808',
      '-9223372036854775809',
      '1e9',
      'abc',
      '',
      '١٢٣',
    ),
  );
  const idString = fc.oneof(
    fc.nat({ max: 50 }).map(String),
    oddString,
    fc.constantFrom('0', '-1', '99999999999', '1.5'),
  );
  const optional = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: undefined });
  const host = fc.constantFrom(
    '127.0.0.1',
    'localhost',
    '',
    ' ',
    '::1',
    '127.0.0.1:80',
    'a b',
    '-x',
    'x'.repeat(300),
    'ünïcode',
  );

  /** Webhook URLs: refused ones, and TEST-NET addresses (accepted, never answering) — never a name to resolve. */
  const webhookUrl = fc.oneof(
    fc.constantFrom(
      'https://203.0.113.7/hook',
      'https://10.0.0.1/hook',
      'https://169.254.169.254/latest',
      'https://[::1]/',
      'https://[::ffff:127.0.0.1]/',
      'http://203.0.113.7/hook',
      'https://user:pw@203.0.113.7/',
      'ftp://203.0.113.7/',
      `https://203.0.113.7/${'x'.repeat(2100)}`,
      '',
    ),
    oddString,
  );
  const eventTypes = fc.array(
    fc.oneof(fc.constantFrom('account.created', 'traffic.credited', 'router.recovered'), oddString),
    { maxLength: 4 },
  );

  const call = (
    mutation: MutationName,
    signature: string,
    args: string,
    select: string,
    variables: Record<string, unknown>,
  ): Call => ({
    mutation,
    query: `mutation${signature ? `(${signature})` : ''} { ${mutation}${args ? `(${args})` : ''} ${select} }`,
    variables,
  });

  /** Built once the stack exists (the arbitraries close over its ids). */
  const arbitraries = (): Record<MutationName, fc.Arbitrary<Call>> => ({
    createVpnAccount: fc
      .record({
        serviceId: pickService,
        serverId: fc.oneof({ weight: 4, arbitrary: fc.constant(-999) }, { weight: 1, arbitrary: someId }),
        productId: pickProduct,
        username,
        password,
        billingCycle: cycle,
      })
      .map((i) =>
        call('createVpnAccount', '$i: CreateVpnAccountInput!', 'input: $i', '{ status username }', {
          i: { ...i, serverId: i.serverId === -999 ? serverId : i.serverId },
        }),
      ),
    suspendVpnAccount: fc
      .record({ s: pickService, r: optional(oddString) })
      .map((v) =>
        call('suspendVpnAccount', '$s: Int!, $r: String', 'serviceId: $s, reason: $r', '{ status }', v),
      ),
    unsuspendVpnAccount: pickService.map((s) =>
      call('unsuspendVpnAccount', '$s: Int!', 'serviceId: $s', '{ status }', { s }),
    ),
    terminateVpnAccount: pickService.map((s) =>
      call('terminateVpnAccount', '$s: Int!', 'serviceId: $s', '{ status }', { s }),
    ),
    terminateVpnService: pickService.map((s) =>
      call(
        'terminateVpnService',
        '$s: Int!',
        'serviceId: $s',
        '{ ... on VpnAccount { status } ... on ErrorResult { errorCode } }',
        { s },
      ),
    ),
    creditHostingAddon: fc
      .record({ a: someId, e: fc.constantFrom('ACTIVATION', 'RENEWAL') })
      .map((v) =>
        call(
          'creditHostingAddon',
          '$a: Int!, $e: AddonEvent!',
          'hostingAddonId: $a, event: $e',
          '{ ... on TrafficTopUp { id } ... on ErrorResult { errorCode } }',
          v,
        ),
      ),
    changeVpnPackage: fc
      .record({ s: pickService, p: pickProduct })
      .map((v) =>
        call('changeVpnPackage', '$s: Int!, $p: Int!', 'serviceId: $s, productId: $p', '{ status }', v),
      ),
    setProductPolicy: fc
      .record({
        productId: pickProduct,
        onExhausted: fc.oneof(fc.constantFrom('cutoff', 'throttle', 'overage', 'THROTTLE'), oddString),
        throttleDownloadMbps: optional(
          fc.oneof(fc.constantFrom('0', '1', '0.5', '1e3', '-1', '999999'), oddString),
        ),
        throttleUploadMbps: optional(fc.oneof(fc.constantFrom('0', '2', '0,5'), oddString)),
        throttledTemplate: optional(oddString),
        overageCeilingGb: optional(fc.oneof(fc.constantFrom('0', '3', '100000001', '-2'), oddString)),
      })
      .map((i) =>
        call('setProductPolicy', '$i: ProductPolicyInput!', 'input: $i', '{ id policy { onExhausted } }', {
          i,
        }),
      ),
    changeVpnPassword: fc
      .record({ s: pickService, p: password })
      .map((v) =>
        call('changeVpnPassword', '$s: Int!, $p: String!', 'serviceId: $s, password: $p', '{ status }', v),
      ),
    resetVpnConnection: pickService.map((s) =>
      call('resetVpnConnection', '$s: Int!', 'serviceId: $s', '{ status }', { s }),
    ),
    regenerateWireGuardKeys: pickService.map((s) =>
      call('regenerateWireGuardKeys', '$s: Int!', 'serviceId: $s', '{ status wireguard { publicKey } }', {
        s,
      }),
    ),
    reconcile: optional(fc.oneof(fc.constant('ROUTER'), idString)).map((r) =>
      call('reconcile', '$r: ID', 'routerId: $r', '{ repaired accountsChecked }', {
        r: r === 'ROUTER' ? routerId : r,
      }),
    ),
    renewVpnAccount: fc
      .record({ s: pickService, k: oddString, i: optional(someId) })
      .map((v) =>
        call(
          'renewVpnAccount',
          '$s: Int!, $k: String!, $i: Int',
          'serviceId: $s, cycleKey: $k, invoiceId: $i',
          '{ id bytes }',
          v,
        ),
      ),
    topUpTraffic: fc
      .record({
        serviceId: pickService,
        bytes,
        idempotencyKey: fc.oneof(fc.uuid(), oddString),
        invoiceId: optional(someId),
        description: optional(oddString),
        kind: optional(fc.constantFrom('ADDON', 'ADJUSTMENT', 'CYCLE')),
      })
      .map((i) =>
        call('topUpTraffic', '$i: TopUpTrafficInput!', 'input: $i', '{ id bytes balanceAfterBytes }', { i }),
      ),
    collectTraffic: fc
      .record({
        r: optional(fc.oneof(fc.constant('ROUTER'), idString)),
        f: optional(fc.constantFrom('CRON', 'DAILY')),
      })
      .map((v) =>
        call(
          'collectTraffic',
          '$r: ID, $f: CollectionFrequency',
          'routerId: $r, frequency: $f',
          '{ accountsCollected }',
          {
            ...v,
            r: v.r === 'ROUTER' ? routerId : v.r,
          },
        ),
      ),
    acknowledgeNotifications: fc
      .array(idString, { maxLength: 20 })
      .map((ids) => call('acknowledgeNotifications', '$ids: [ID!]!', 'ids: $ids', '', { ids })),
    reportNotificationFailure: fc
      .record({ id: idString, e: oddString })
      .map((v) => call('reportNotificationFailure', '$id: ID!, $e: String!', 'id: $id, error: $e', '', v)),
    mintClientToken: fc
      .record({
        c: fc.oneof(fc.constant(0), someId),
        s: fc.array(pickService, { maxLength: 5 }),
        t: optional(someId),
      })
      .map((v) =>
        call(
          'mintClientToken',
          '$c: Int!, $s: [Int!]!, $t: Int',
          'clientId: $c, serviceIds: $s, ttlSeconds: $t',
          '{ expiresAt }',
          { ...v, c: v.c === 0 ? clientId : v.c },
        ),
      ),
    revokeClientToken: fc
      .record({
        id: optional(fc.oneof(oddString, fc.stringMatching(/^[A-Za-z0-9_-]{22}$/))),
        token: optional(
          fc.oneof(
            oddString,
            oddString.map((t) => `mvpnc.${t}`),
            fc.constant('mvpnc.e30.AAAA'),
          ),
        ),
      })
      .map((v) =>
        call('revokeClientToken', '$id: String, $token: String', 'id: $id, token: $token', '{ id }', v),
      ),
    testRouterConnection: fc
      .record({
        host,
        port: optional(fc.oneof(fc.constant(-7), fc.integer({ min: -1, max: 70000 }))),
        username: oddString,
        password: optional(oddString),
        tls: optional(fc.boolean()),
        fingerprintSha256: optional(fc.oneof(oddString, fc.constant('AB'.repeat(32)))),
      })
      .map((i) =>
        call('testRouterConnection', '$i: RouterInput!', 'input: $i', '{ ok errorCode problems }', {
          i: { ...i, serverId: spareServerId, port: i.port === -7 ? sim.port : i.port, caPem: sim.caPem },
        }),
      ),
    upsertRouter: fc
      .record({
        serverId: fc.oneof(fc.constant(0), someId),
        host,
        port: optional(fc.integer({ min: -1, max: 70000 })),
        username: oddString,
        password: optional(oddString),
        name: optional(oddString),
        tls: optional(fc.boolean()),
        caPem: optional(oddString),
        fingerprintSha256: optional(oddString),
      })
      // Never the live router's server record: the fuzz must not cut itself off from the router.
      .filter((i) => i.serverId !== serverId)
      .map((i) =>
        call('upsertRouter', '$i: RouterInput!', 'input: $i', '{ id }', {
          i: { ...i, serverId: i.serverId === 0 ? spareServerId : i.serverId },
        }),
      ),
    createWebhookEndpoint: fc
      .record({ url: webhookUrl, eventTypes: optional(eventTypes), enabled: optional(fc.boolean()) })
      .map((i) =>
        call('createWebhookEndpoint', '$i: CreateWebhookEndpointInput!', 'input: $i', '{ endpoint { id } }', {
          i,
        }),
      ),
    updateWebhookEndpoint: fc
      .record({
        id: fc.oneof(fc.nat({ max: 5 }), someId),
        url: optional(webhookUrl),
        eventTypes: optional(eventTypes),
        enabled: optional(fc.boolean()),
        description: optional(oddString),
      })
      .map((i) =>
        call('updateWebhookEndpoint', '$i: UpdateWebhookEndpointInput!', 'input: $i', '{ id }', { i }),
      ),
    rotateWebhookSecret: fc
      .oneof(fc.nat({ max: 5 }), someId)
      .map((id) => call('rotateWebhookSecret', '$id: Int!', 'id: $id', '{ endpoint { id } }', { id })),
    deleteWebhookEndpoint: fc
      .oneof(fc.nat({ max: 5 }), someId)
      .map((id) => call('deleteWebhookEndpoint', '$id: Int!', 'id: $id', '', { id })),
    redeliverWebhook: idString.map((d) =>
      call('redeliverWebhook', '$d: ID!', 'deliveryId: $d', '{ id }', { d }),
    ),
  });

  /** Sometimes a variable of the wrong type entirely: GraphQL must refuse it as VALIDATION. */
  const maybeMistyped = (arb: fc.Arbitrary<Call>) =>
    fc.oneof(
      { weight: 9, arbitrary: arb },
      {
        weight: 1,
        arbitrary: fc.tuple(arb, fc.anything({ maxDepth: 2 })).map(([c, junk]) => {
          const names = Object.keys(c.variables);
          return names.length ? { ...c, variables: { ...c.variables, [names[0]]: junk } } : c;
        }),
      },
    );

  async function send(c: Call, url = stack.server.url): Promise<string | null> {
    const r = await gql(url, c.query, c.variables, stack.admin);
    requests++;
    const code = r.errors?.[0]?.extensions?.code ?? 'DATA';
    answered.set(code, (answered.get(code) ?? 0) + 1);
    if (r.status >= 500) return `HTTP ${r.status}: ${JSON.stringify(r.errors)}`;
    for (const e of r.errors ?? []) {
      if (!TYPED.has(String(e.extensions?.code)))
        return `untyped error ${JSON.stringify(e)}\nthe server logged:\n${loggedErrors().join('\n')}`;
    }
    if (!r.errors && r.data?.[c.mutation] === undefined) return 'neither data nor an error';
    const secret = secretOf(c);
    if (secret && secret.length >= 10 && JSON.stringify(r).includes(secret)) return 'the password came back';
    return null;
  }

  /** The server's error lines (an unexpected error is logged with its cause, masked for the caller). */
  function loggedErrors(): string[] {
    return stack.server.output.filter((l) => l.includes('"level":50')).slice(-3);
  }

  /** The password a call carries, if any. */
  function secretOf(c: Call): string | undefined {
    const v = c.variables as { p?: unknown; i?: { password?: unknown } };
    const value = c.mutation === 'changeVpnPassword' ? v.p : v.i?.password;
    return typeof value === 'string' ? value : undefined;
  }

  /** What must hold between the database and the router whatever was sent. */
  async function invariants(): Promise<string[]> {
    const problems: string[] = [];
    const accounts: {
      service_id: number;
      username: string;
      status: string;
      balance: string;
      ledger: string | null;
      used: string | null;
    }[] = await stack.db
      .query(`SELECT a.service_id, a.username, a.status, CAST(a.balance_bytes AS CHAR) balance,
          (SELECT CAST(SUM(t.bytes) AS CHAR) FROM mod_mikrotikvpn_traffic_topups t WHERE t.account_id = a.id) ledger,
          (SELECT CAST(SUM(s.download_bytes + s.upload_bytes) AS CHAR) FROM mod_mikrotikvpn_traffic_samples s WHERE s.account_id = a.id) used
        FROM mod_mikrotikvpn_accounts a`);
    const secrets = new Map([...sim.state.secrets.values()].map((s) => [s.name, s]));
    const live = new Set<string>();
    for (const a of accounts) {
      const balance = BigInt(a.balance);
      const expected = BigInt(a.ledger ?? '0') - BigInt(a.used ?? '0');
      if (balance !== expected)
        problems.push(`service ${a.service_id}: balance ${balance}, ledger says ${expected}`);
      if (a.status === 'TERMINATED') continue;
      live.add(a.username);
      if (a.status === 'PENDING') continue; // a router step is still to be done, and the account says so
      const secret = secrets.get(a.username);
      if (!secret) problems.push(`service ${a.service_id} is ${a.status} but has no secret on the router`);
      // A THROTTLED account (quota policy "slow down") stays online, slowed down by its queue.
      else if (secret.disabled !== (a.status !== 'ACTIVE' && a.status !== 'THROTTLED'))
        problems.push(
          `service ${a.service_id} is ${a.status} but its secret is ${secret.disabled ? 'disabled' : 'enabled'}`,
        );
    }
    for (const name of secrets.keys()) if (!live.has(name)) problems.push(`secret ${name} has no account`);
    const halfLedger = await stack.db.query(
      `SELECT id FROM mod_mikrotikvpn_traffic_topups WHERE balance_after_bytes - balance_before_bytes <> bytes`,
    );
    if (halfLedger.length)
      problems.push(`${halfLedger.length} ledger rows whose before/after differ from their bytes`);
    return problems;
  }

  it('fuzzes every mutation of the schema (a new mutation without an arbitrary fails here)', async () => {
    const fields = Object.keys((await createSchema()).getMutationType()?.getFields() ?? {});
    expect([...MUTATIONS].sort()).to.deep.equal(fields.sort());
  });

  it(`answers ${MUTATIONS.length} mutations' fuzzed input only with data or typed errors, leaving database and router consistent`, async () => {
    const calls = arbitraries();
    const anyCall = fc.oneof(...MUTATIONS.map((m) => maybeMistyped(calls[m])));
    const seen = new Set<MutationName>();
    await fc.assert(
      fc.asyncProperty(fc.array(anyCall, { minLength: 1, maxLength: 6 }), async (sequence) => {
        for (const c of sequence) {
          seen.add(c.mutation);
          const problem = await send(c);
          if (problem) throw new Error(`${c.mutation} ${JSON.stringify(c.variables)}: ${problem}`);
        }
        const problems = await invariants();
        if (problems.length)
          throw new Error(`after ${sequence.map((c) => c.mutation).join(', ')}:\n${problems.join('\n')}`);
      }),
      { numRuns: RUNS, seed: SEED, endOnFailure: true },
    );
    console.log(
      `      ${RUNS} fuzz runs, ${requests} mutations sent; answers: ${[...answered].map(([k, v]) => `${k} ${v}`).join(', ')}`,
    );
    if (RUNS >= 40) expect([...seen].sort()).to.deep.equal([...MUTATIONS].sort());
    // The fuzz must also succeed sometimes, or it only tested the validators.
    expect(answered.get('DATA') ?? 0).to.be.greaterThan(0);
  });

  /**
   * Well-formed lifecycle and billing calls on the given services and products, so that calls sent
   * at once meet on the same account (the odd values are the first property's job).
   */
  const plausibleCall = (ours: number[], limited: number[]): fc.Arbitrary<Call> => {
    const s = fc.nat({ max: ours.length - 1 }).map((i) => ours[i]);
    const p = fc.nat({ max: limited.length - 1 }).map((i) => limited[i]);
    const onService = (mutation: MutationName) =>
      s.map((v) => call(mutation, '$s: Int!', 'serviceId: $s', '{ status }', { s: v }));
    return fc.oneof(
      fc.record({ s, p, name: fc.constantFrom('ann', 'bob') }).map((v) =>
        call('createVpnAccount', '$i: CreateVpnAccountInput!', 'input: $i', '{ status username }', {
          i: {
            serviceId: v.s,
            serverId,
            productId: v.p,
            username: `${v.name}${v.s}`,
            password: 'Passw0rd!fz',
            billingCycle: 'Monthly',
          },
        }),
      ),
      onService('suspendVpnAccount'),
      onService('unsuspendVpnAccount'),
      onService('terminateVpnAccount'),
      onService('resetVpnConnection'),
      fc
        .record({ s, p })
        .map((v) =>
          call('changeVpnPackage', '$s: Int!, $p: Int!', 'serviceId: $s, productId: $p', '{ status }', v),
        ),
      s.map((v) =>
        call('changeVpnPassword', '$s: Int!, $p: String!', 'serviceId: $s, password: $p', '{ status }', {
          s: v,
          p: 'N3w-Passw0rd',
        }),
      ),
      fc.record({ s, key: fc.nat({ max: 20 }), k: fc.constantFrom('2027-01', '2027-02') }).map((v) =>
        v.key % 2
          ? call('topUpTraffic', '$i: TopUpTrafficInput!', 'input: $i', '{ id }', {
              i: { serviceId: v.s, bytes: '1000000000', idempotencyKey: `conc-${v.key}` },
            })
          : call('renewVpnAccount', '$s: Int!, $k: String!', 'serviceId: $s, cycleKey: $k', '{ id }', {
              s: v.s,
              k: v.k,
            }),
      ),
      fc.constant(call('collectTraffic', '', '', '{ accountsCollected }', {})),
      fc.constant(call('reconcile', '$r: ID', 'routerId: $r', '{ repaired }', { r: routerId })),
    );
  };

  it('answers lifecycle and billing calls sent at once to two server processes only with data or typed errors, leaving database and router consistent', async () => {
    // A second process on the same database: the named locks, the unique keys and the transactions,
    // not one process's event loop, are what keep concurrent calls apart.
    const second = await startServer(stack.env);
    await waitForHealthy(second);
    // Services of their own, on products with an allowance only: every byte pushed is debited, so
    // the ledger invariant holds exactly (an unlimited product meters without debiting).
    const limited = [products[0], await stack.whmcs.product({ settings: { trafficMonthlyGb: '5' } })];
    const ours: number[] = [];
    for (const productId of limited)
      ours.push(await stack.whmcs.service({ userid: clientId, packageid: productId, server: serverId }));
    const statuses = new Map<string, number>();
    try {
      await fc.assert(
        fc.asyncProperty(
          fc.array(plausibleCall(ours, limited), { minLength: 2, maxLength: 6 }),
          // Traffic the customers use meanwhile (GB, on each service's queue): enough, now and then,
          // to use up the 10 GB product, so that limiting races the other calls too.
          fc.array(fc.record({ s: fc.nat({ max: 1 }), gb: fc.constantFrom(0.2, 4) }), { maxLength: 3 }),
          async (sequence, traffic) => {
            const used = (async () => {
              for (const t of traffic) {
                await new Promise((resolve) => setTimeout(resolve, 5));
                sim.pushTraffic(queueName(ours[t.s]), Math.round(t.gb * 0.8e9), Math.round(t.gb * 0.2e9));
              }
            })();
            const problems = await Promise.all(
              sequence.map((c, i) => send(c, i % 2 ? second.url : stack.server.url)),
            );
            await used;
            const failed = problems.flatMap((problem, i) =>
              problem ? [`${sequence[i].mutation} ${JSON.stringify(sequence[i].variables)}: ${problem}`] : [],
            );
            if (failed.length)
              throw new Error(
                `${failed.join('\n')}\nthe second server logged:\n${second.output
                  .filter((l) => l.includes('"level":50'))
                  .slice(-3)
                  .join('\n')}`,
              );
            for (const row of await stack.db.query(
              `SELECT status FROM mod_mikrotikvpn_accounts WHERE service_id IN (${ours.join(',')}) AND status <> 'TERMINATED'`,
            ))
              statuses.set(row.status, (statuses.get(row.status) ?? 0) + 1);
            const broken = await invariants();
            if (broken.length)
              throw new Error(
                `after ${sequence.map((c) => `${c.mutation} ${JSON.stringify(c.variables)}`).join(' ‖ ')}:\n${broken.join('\n')}`,
              );
          },
        ),
        { numRuns: RUNS, seed: SEED, endOnFailure: true },
      );
      console.log(
        `      live account statuses after the sequences: ${[...statuses].map(([k, v]) => `${k} ${v}`).join(', ')}`,
      );
      // The traffic must have used an allowance up now and then, or limiting never raced anything.
      if (RUNS >= 200) expect(statuses.get('LIMITED') ?? 0).to.be.greaterThan(0);
    } finally {
      await second.stop();
    }
  });
});
