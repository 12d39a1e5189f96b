import { expect } from 'chai';
import { startStack, type Stack } from '../helpers/stack';
import { gql } from '../helpers/test-server';
import type { SimulatedRouter } from '../simulator/simulated-router';

/**
 * Hostile GraphQL requests against a production-mode server process: each is refused with a typed,
 * masked error, and none of them reaches a resolver that touches the database or a router (the
 * product's tables and the simulated router's command log stay exactly as they were).
 */

interface Sent {
  status: number;
  body: { data?: unknown; errors?: { message: string; extensions?: Record<string, unknown> }[] };
}

interface HostileCase {
  name: string;
  send(): Promise<Sent>;
  status: number;
  code: string;
  /** The refusal's message must match (tells which guard refused it). */
  message?: RegExp;
}

/** The codes a refusal may carry: never INTERNAL_SERVER_ERROR. */
const REFUSAL_CODES = new Set(['VALIDATION', 'QUERY_TOO_COMPLEX', 'UNAUTHENTICATED', 'FORBIDDEN']);

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

describe('security: hostile GraphQL operations are refused before any resolver runs (production mode)', function () {
  this.timeout(180_000);
  let stack: Stack;
  let sim: SimulatedRouter;
  let serviceId: number;
  let routerId: string;
  let serverId: number;
  let productId: number;

  const raw = async (
    body: string | undefined,
    headers: Record<string, string> = { 'content-type': 'application/json' },
    method = 'POST',
    query = '',
    key: string | null = stack.admin,
  ): Promise<Sent> => {
    const response = await fetch(`${stack.server.url}/graphql${query}`, {
      method,
      headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), ...headers },
      body,
    });
    const text = await response.text();
    let parsed: Sent['body'];
    try {
      parsed = JSON.parse(text) as Sent['body'];
    } catch {
      throw new Error(`not a JSON answer (${response.status}): ${text.slice(0, 200)}`);
    }
    return { status: response.status, body: parsed };
  };
  const post = (payload: unknown) => raw(JSON.stringify(payload));
  const op = (query: string, variables: Record<string, unknown> = {}) => post({ query, variables });

  /** The product's own tables, summarised: any write by a resolver changes one of these. */
  const snapshot = async () =>
    JSON.stringify(
      await stack.db.query(`SELECT
        (SELECT COUNT(*) FROM mod_mikrotikvpn_accounts) accounts,
        (SELECT COALESCE(SUM(balance_bytes), 0) FROM mod_mikrotikvpn_accounts) balance,
        (SELECT GROUP_CONCAT(status ORDER BY id) FROM mod_mikrotikvpn_accounts) statuses,
        (SELECT COUNT(*) FROM mod_mikrotikvpn_traffic_topups) topups,
        (SELECT COUNT(*) FROM mod_mikrotikvpn_traffic_samples) samples,
        (SELECT COUNT(*) FROM mod_mikrotikvpn_events) events,
        (SELECT COUNT(*) FROM mod_mikrotikvpn_notifications) notifications,
        (SELECT COUNT(*) FROM mod_mikrotikvpn_routers) routers,
        (SELECT MAX(updated_at) FROM mod_mikrotikvpn_routers) routers_updated,
        (SELECT COUNT(*) FROM mod_mikrotikvpn_api_keys) api_keys`),
    );

  before(async () => {
    stack = await startStack({ NODE_ENV: 'production' });
    let sim0: SimulatedRouter;
    ({ sim: sim0, serverId, routerId } = await stack.addRouter());
    sim = sim0;
    productId = await stack.whmcs.product({ settings: { trafficMonthlyGb: '10' } });
    const client = await stack.whmcs.client();
    serviceId = await stack.whmcs.service({ userid: client, packageid: productId, server: serverId });
    const created = await gql(
      stack.server.url,
      `mutation($i: CreateVpnAccountInput!) { createVpnAccount(input: $i) { status } }`,
      {
        i: {
          serviceId,
          serverId,
          productId,
          username: 'victim',
          password: 'S3cret!pw',
          billingCycle: 'Monthly',
        },
      },
      stack.admin,
    );
    expect(created.errors).to.equal(undefined);
  });
  after(() => stack?.stop());

  const topUp = (i: number) =>
    `t${i}: topUpTraffic(input: { serviceId: ${serviceId}, bytes: "1000000000", idempotencyKey: "hostile-${i}" }) { id }`;
  const create = (i: number) =>
    `c${i}: createVpnAccount(input: { serviceId: ${9000 + i}, serverId: ${serverId}, productId: ${productId}, username: "flood${i}", password: "pw${i}", billingCycle: "Monthly" }) { status }`;
  const nest = (levels: number, leaf: string) => {
    let q = leaf;
    for (let i = 0; i < levels; i++) q = `router { accounts { nodes { ${q} } } }`;
    return q;
  };

  const cases = (): HostileCase[] => [
    // --- deep nesting
    {
      name: 'nesting 13 levels deep through router/accounts',
      send: () => op(`{ vpnAccounts { nodes { ${nest(4, 'username')} } } }`),
      status: 400,
      code: 'QUERY_TOO_COMPLEX',
      message: /levels deep/,
    },
    {
      name: 'nesting one level past the limit (9)',
      send: () =>
        op(
          `{ routers { accounts { nodes { router { accounts { nodes { router { status { version } } } } } } } } }`,
        ),
      status: 400,
      code: 'QUERY_TOO_COMPLEX',
      message: /9 levels deep/,
    },
    {
      name: 'nesting hidden in chained fragments',
      send: () =>
        op(`query { routers { ...A } }
          fragment A on Router { accounts { nodes { ...B } } }
          fragment B on VpnAccount { router { accounts { nodes { ...C } } } }
          fragment C on VpnAccount { router { accounts { nodes { username connection { online } } } } }`),
      status: 400,
      code: 'QUERY_TOO_COMPLEX',
      message: /levels deep/,
    },
    {
      name: 'nesting hidden in inline fragments',
      send: () =>
        op(
          `{ routers { ... on Router { accounts { nodes { ... on VpnAccount { router { accounts { nodes { router { ... on Router { accounts { nodes { router { status { version } } } } } } } } } } } } } } }`,
        ),
      status: 400,
      code: 'QUERY_TOO_COMPLEX',
      message: /levels deep/,
    },
    {
      name: 'deep selection on a mutation result (createVpnAccount)',
      send: () => op(`mutation { ${create(0).replace('{ status }', `{ ${nest(3, 'username')} }`)} }`),
      status: 400,
      code: 'QUERY_TOO_COMPLEX',
      message: /levels deep/,
    },
    {
      name: 'deep selection on suspendVpnAccount',
      send: () => op(`mutation { suspendVpnAccount(serviceId: ${serviceId}) { ${nest(3, 'status')} } }`),
      status: 400,
      code: 'QUERY_TOO_COMPLEX',
      message: /levels deep/,
    },
    // --- alias floods
    {
      name: '40 aliases of routers',
      send: () =>
        op(
          `{ ${range(40)
            .map((i) => `a${i}: routers { id }`)
            .join(' ')} }`,
        ),
      status: 400,
      code: 'QUERY_TOO_COMPLEX',
      message: /40 aliases/,
    },
    {
      name: '30 aliased topUpTraffic mutations (would credit 30 GB)',
      send: () => op(`mutation { ${range(30).map(topUp).join(' ')} }`),
      status: 400,
      code: 'QUERY_TOO_COMPLEX',
      message: /aliases/,
    },
    {
      name: '20 aliased createVpnAccount mutations',
      send: () => op(`mutation { ${range(20).map(create).join(' ')} }`),
      status: 400,
      code: 'QUERY_TOO_COMPLEX',
      message: /aliases/,
    },
    {
      name: '16 aliased resetVpnConnection mutations (router commands)',
      send: () =>
        op(
          `mutation { ${range(16)
            .map((i) => `r${i}: resetVpnConnection(serviceId: ${serviceId}) { status }`)
            .join(' ')} }`,
        ),
      status: 400,
      code: 'QUERY_TOO_COMPLEX',
      message: /aliases/,
    },
    {
      name: '20 aliased collectTraffic mutations',
      send: () =>
        op(
          `mutation { ${range(20)
            .map((i) => `k${i}: collectTraffic { samplesWritten }`)
            .join(' ')} }`,
        ),
      status: 400,
      code: 'QUERY_TOO_COMPLEX',
      message: /aliases/,
    },
    {
      name: '50 aliases of a router’s live status (50 router logins)',
      send: () =>
        op(
          `{ router(id: "${routerId}") { ${range(50)
            .map((i) => `s${i}: status { version }`)
            .join(' ')} } }`,
        ),
      status: 400,
      code: 'QUERY_TOO_COMPLEX',
      message: /aliases/,
    },
    {
      name: 'aliases spread through a fragment used by several fields',
      send: () =>
        op(`{ routers { ...F } r2: routers { ...F } }
          fragment F on Router { ${range(10)
            .map((i) => `p${i}: status { identity }`)
            .join(' ')} }`),
      status: 400,
      code: 'QUERY_TOO_COMPLEX',
      message: /aliases/,
    },
    {
      name: '200 aliases of __typename',
      send: () =>
        op(
          `{ ${range(200)
            .map((i) => `n${i}: __typename`)
            .join(' ')} }`,
        ),
      status: 400,
      code: 'QUERY_TOO_COMPLEX',
      message: /aliases/,
    },
    // --- cost
    {
      name: 'pages of 100 inside pages of 100',
      send: () =>
        op(
          `{ vpnAccounts(first: 100) { nodes { router { accounts(first: 100) { nodes { username status } } } } } }`,
        ),
      status: 400,
      code: 'QUERY_TOO_COMPLEX',
      message: /costs \d+/,
    },
    {
      name: 'page sizes hidden in variables',
      send: () =>
        op(
          `query($n: Int) { vpnAccounts(first: $n) { nodes { router { accounts(first: $n) { nodes { username } } } } } }`,
          {
            n: 100,
          },
        ),
      status: 400,
      code: 'QUERY_TOO_COMPLEX',
      message: /costs \d+/,
    },
    {
      name: 'every router’s accounts with their live sessions and top-ups',
      send: () =>
        op(
          `{ routers { accounts(first: 100) { nodes { connection { online } topUps(first: 100) { nodes { id bytes } } } } } }`,
        ),
      status: 400,
      code: 'QUERY_TOO_COMPLEX',
      message: /costs \d+/,
    },
    {
      name: 'top-ups of 100 accounts, 100 each (edges and nodes)',
      send: () =>
        op(
          `{ vpnAccounts(first: 100) { edges { node { topUps(first: 100) { edges { node { id bytes day } } nodes { id } } } } } }`,
        ),
      status: 400,
      code: 'QUERY_TOO_COMPLEX',
      message: /costs \d+/,
    },
    {
      name: 'a costly selection under a mutation (reconcile, then 100×100 accounts)',
      send: () =>
        op(
          `mutation { createVpnAccount(input: { serviceId: 9999, serverId: ${serverId}, productId: ${productId}, username: "costly", password: "pw", billingCycle: "Monthly" }) { router { accounts(first: 100) { nodes { router { accounts(first: 100) { nodes { username } } } } } } } }`,
        ),
      status: 400,
      code: 'QUERY_TOO_COMPLEX',
      message: /costs \d+/,
    },
    // --- huge lists
    {
      name: 'acknowledgeNotifications with 600 ids written in the document',
      send: () =>
        op(
          `mutation { acknowledgeNotifications(ids: [${range(600)
            .map((i) => `"${i + 1}"`)
            .join(',')}]) }`,
        ),
      status: 400,
      code: 'QUERY_TOO_COMPLEX',
      message: /600 items/,
    },
    {
      name: 'acknowledgeNotifications with 10 000 ids in variables',
      send: () =>
        op(`mutation($ids: [ID!]!) { acknowledgeNotifications(ids: $ids) }`, {
          ids: range(10_000).map(String),
        }),
      status: 400,
      code: 'QUERY_TOO_COMPLEX',
      message: /10000 items/,
    },
    {
      name: 'mintClientToken for 5 000 services',
      send: () =>
        op(`mutation($s: [Int!]!) { mintClientToken(clientId: 1, serviceIds: $s) { token } }`, {
          s: range(5000).map((i) => i + 1),
        }),
      status: 400,
      code: 'QUERY_TOO_COMPLEX',
      message: /5000 items/,
    },
    {
      name: 'a status filter with 1 000 entries',
      send: () =>
        op(`query($f: VpnAccountFilter) { vpnAccounts(filter: $f) { nodes { id: serviceId } } }`, {
          f: { status: range(1000).map(() => 'ACTIVE') },
        }),
      status: 400,
      code: 'QUERY_TOO_COMPLEX',
      message: /1000 items/,
    },
    {
      name: 'a huge list in a variable the operation does not even declare',
      send: () => op(`{ routers { id } }`, { junk: range(10_000) }),
      status: 400,
      code: 'QUERY_TOO_COMPLEX',
      message: /10000 items/,
    },
    {
      name: 'variables nested 20 000 levels deep',
      send: () =>
        raw(
          `{"query":"query($x: [ID!]) { routers { id } }","variables":{"x":${'['.repeat(20_000)}${']'.repeat(20_000)}}}`,
        ),
      status: 400,
      code: 'VALIDATION',
    },
    // --- batching
    {
      name: 'a batch of two queries (JSON array)',
      send: () => post([{ query: '{ routers { id } }' }, { query: '{ products { id } }' }]),
      status: 400,
      code: 'VALIDATION',
      message: /batching disabled/i,
    },
    {
      name: 'a batch of 100 topUpTraffic mutations',
      send: () => post(range(100).map((i) => ({ query: `mutation { ${topUp(i)} }` }))),
      status: 400,
      code: 'VALIDATION',
      message: /batching disabled/i,
    },
    {
      name: 'an empty batch',
      send: () => post([]),
      status: 400,
      code: 'VALIDATION',
    },
    {
      name: 'several operations in one document without an operationName',
      send: () => op(`query A { routers { id } } mutation B { ${topUp(0)} }`),
      status: 400,
      code: 'VALIDATION',
    },
    {
      name: 'an operationName naming no operation of the document',
      send: () => post({ query: `query A { routers { id } }`, operationName: 'B' }),
      status: 400,
      code: 'VALIDATION',
    },
    // --- oversized documents
    {
      name: 'a body over 100 kB',
      send: () => post({ query: `{ routers { id } } # ${'x'.repeat(150_000)}` }),
      status: 413,
      code: 'VALIDATION',
      message: /too large/,
    },
    {
      name: '2 500 repetitions of __typename (tokens over the limit)',
      send: () => op(`{ ${'__typename '.repeat(2500)} }`),
      status: 400,
      code: 'VALIDATION',
      message: /more th\w+ 2000 tokens/,
    },
    {
      name: '20 000 repetitions of one field (quadratic field merging)',
      send: () => op(`{ routers { ${'id '.repeat(20_000)} } }`),
      status: 400,
      code: 'VALIDATION',
      message: /tokens/,
    },
    {
      name: '1 000 operation definitions in one document',
      send: () =>
        op(
          range(1000)
            .map((i) => `query Q${i} { routers { id } }`)
            .join(' '),
        ),
      status: 400,
      code: 'VALIDATION',
      message: /tokens/,
    },
    {
      name: '700 fragment definitions',
      send: () =>
        op(
          `{ routers { ...F0 } } ${range(700)
            .map((i) => `fragment F${i} on Router { id }`)
            .join(' ')}`,
        ),
      status: 400,
      code: 'VALIDATION',
      message: /tokens/,
    },
    // --- directives
    {
      name: '30 @include directives',
      send: () =>
        op(
          `{ routers { ${range(30)
            .map(() => 'id @include(if: true)')
            .join(' ')} } }`,
        ),
      status: 400,
      code: 'QUERY_TOO_COMPLEX',
      message: /directives/,
    },
    {
      name: '25 @skip directives spread over fields',
      send: () =>
        op(
          `{ routers { id @skip(if: false) name @skip(if: false) host @skip(if: false) port @skip(if: false) tls @skip(if: false) } ${range(
            20,
          )
            .map(() => `products { id @skip(if: false) }`)
            .join(' ')} }`,
        ),
      status: 400,
      code: 'QUERY_TOO_COMPLEX',
      message: /directives/,
    },
    {
      name: 'a directive repeated on one field',
      send: () => op(`{ routers { id @skip(if: false) @skip(if: false) } }`),
      status: 400,
      code: 'VALIDATION',
    },
    {
      name: 'an unknown directive flood',
      send: () => op(`{ routers { id ${'@x '.repeat(400)} } }`),
      status: 400,
      code: 'VALIDATION',
    },
    // --- introspection and schema details in production
    {
      name: 'introspection of the whole schema',
      send: () => op(`{ __schema { types { name fields { name } } } }`),
      status: 400,
      code: 'VALIDATION',
      message: /introspection/i,
    },
    {
      name: 'introspection of one type',
      send: () => op(`{ __type(name: "Mutation") { fields { name args { name } } } }`),
      status: 400,
      code: 'VALIDATION',
      message: /introspection/i,
    },
    {
      name: 'introspection hidden in a fragment',
      send: () => op(`{ ...I } fragment I on Query { __schema { queryType { name } } }`),
      status: 400,
      code: 'VALIDATION',
      message: /introspection/i,
    },
    {
      name: 'a misspelled field (no suggestion)',
      send: () => op(`{ routerz { id } }`),
      status: 400,
      code: 'VALIDATION',
    },
    {
      name: 'a misspelled argument (no suggestion)',
      send: () => op(`{ vpnAccount(serviceID: 1) { status } }`),
      status: 400,
      code: 'VALIDATION',
    },
    {
      name: 'a misspelled enum value (no suggestion)',
      send: () => op(`mutation { collectTraffic(frequency: DAYLY) { samplesWritten } }`),
      status: 400,
      code: 'VALIDATION',
    },
    {
      name: 'a misspelled input field (no suggestion)',
      send: () =>
        op(
          `mutation { topUpTraffic(input: { serviceid: ${serviceId}, bytes: "1", idempotencyKey: "k" }) { id } }`,
        ),
      status: 400,
      code: 'VALIDATION',
    },
    {
      name: 'a misspelled type in a variable (no suggestion)',
      send: () => op(`query($f: VpnAcountFilter) { vpnAccounts(filter: $f) { nodes { username } } }`),
      status: 400,
      code: 'VALIDATION',
    },
    {
      name: 'a misspelled field on a mutation result (no suggestion)',
      send: () => op(`mutation { suspendVpnAccount(serviceId: ${serviceId}) { statuss } }`),
      status: 400,
      code: 'VALIDATION',
    },
    // --- malformed requests
    { name: 'truncated JSON', send: () => raw('{"query": "{ routers'), status: 400, code: 'VALIDATION' },
    { name: 'a JSON null body', send: () => raw('null'), status: 400, code: 'VALIDATION' },
    { name: 'a JSON string body', send: () => raw('"{ routers { id } }"'), status: 400, code: 'VALIDATION' },
    { name: 'a query that is a number', send: () => post({ query: 42 }), status: 400, code: 'VALIDATION' },
    {
      name: 'variables sent as a JSON-encoded string',
      send: () => post({ query: '{ routers { id } }', variables: '{"a":1}' }),
      status: 400,
      code: 'VALIDATION',
    },
    { name: 'an empty JSON object', send: () => raw('{}'), status: 400, code: 'VALIDATION' },
    { name: 'a syntax error', send: () => op('{ routers { id '), status: 400, code: 'VALIDATION' },
    {
      name: 'a variable of the wrong type (string for Int)',
      send: () =>
        op(`mutation($s: Int!) { suspendVpnAccount(serviceId: $s) { status } }`, { s: 'DROP TABLE' }),
      status: 400,
      code: 'VALIDATION',
    },
    {
      name: 'an Int argument past 32 bits',
      send: () => op(`mutation { suspendVpnAccount(serviceId: 99999999999) { status } }`),
      status: 400,
      code: 'VALIDATION',
    },
    {
      name: 'a fragment that spreads itself',
      send: () => op(`{ ...A } fragment A on Query { ...B } fragment B on Query { ...A }`),
      status: 400,
      code: 'VALIDATION',
    },
    {
      name: 'a subscription over HTTP (subscriptions are served over WebSocket only)',
      send: () => op(`subscription { events { id type } }`),
      status: 400,
      code: 'VALIDATION',
      message: /WebSocket/,
    },
    {
      name: 'an unknown persisted-query hash',
      send: () => post({ extensions: { persistedQuery: { version: 1, sha256Hash: 'ab'.repeat(32) } } }),
      // Apollo answers 200 here by design, so that a client falls back to sending the query.
      status: 200,
      code: 'VALIDATION',
      message: /PersistedQueryNotSupported/,
    },
    {
      name: 'a persisted-query hash that does not match the query',
      send: () =>
        post({
          query: `mutation { ${topUp(0)} }`,
          extensions: { persistedQuery: { version: 1, sha256Hash: 'cd'.repeat(32) } },
        }),
      status: 200,
      code: 'VALIDATION',
    },
    // --- CSRF: requests a browser can send cross-site without a preflight
    {
      name: 'a text/plain POST',
      send: () =>
        raw(JSON.stringify({ query: `mutation { ${topUp(0)} }` }), { 'content-type': 'text/plain' }),
      status: 400,
      code: 'VALIDATION',
      message: /Cross-Site Request Forgery/,
    },
    {
      name: 'a form-urlencoded POST',
      send: () =>
        raw(`query=${encodeURIComponent(`mutation { ${topUp(0)} }`)}`, {
          'content-type': 'application/x-www-form-urlencoded',
        }),
      status: 400,
      code: 'VALIDATION',
      message: /Cross-Site Request Forgery/,
    },
    {
      name: 'a multipart/form-data POST',
      send: () =>
        raw(`--x\r\nContent-Disposition: form-data; name="query"\r\n\r\n{ routers { id } }\r\n--x--\r\n`, {
          'content-type': 'multipart/form-data; boundary=x',
        }),
      status: 400,
      code: 'VALIDATION',
      message: /Cross-Site Request Forgery/,
    },
    {
      name: 'a POST without a content type',
      send: () => raw(JSON.stringify({ query: `mutation { ${topUp(0)} }` }), {}),
      status: 400,
      code: 'VALIDATION',
    },
    {
      name: 'a simple GET (an <img> or link)',
      send: () => raw(undefined, {}, 'GET', `?query=${encodeURIComponent('{ routers { id host } }')}`),
      status: 400,
      code: 'VALIDATION',
      message: /Cross-Site Request Forgery/,
    },
    {
      name: 'a mutation over GET, even with the preflight header',
      send: () =>
        raw(
          undefined,
          { 'apollo-require-preflight': 'true' },
          'GET',
          `?query=${encodeURIComponent(`mutation { ${topUp(0)} }`)}`,
        ),
      status: 405,
      code: 'VALIDATION',
      message: /GET/,
    },
    {
      name: 'a JSON body declared as UTF-16',
      send: () =>
        raw(JSON.stringify({ query: `mutation { ${topUp(0)} }` }), {
          'content-type': 'application/json; charset=utf-16',
        }),
      status: 400,
      code: 'VALIDATION',
    },
    // --- without a key nothing is even parsed
    {
      name: 'an anonymous 2 500-token document',
      send: () =>
        raw(JSON.stringify({ query: `{ ${'__typename '.repeat(2500)} }` }), undefined, 'POST', '', null),
      status: 401,
      code: 'UNAUTHENTICATED',
    },
    {
      name: 'an anonymous alias flood of topUpTraffic',
      send: () =>
        raw(
          JSON.stringify({ query: `mutation { ${range(30).map(topUp).join(' ')} }` }),
          undefined,
          'POST',
          '',
          null,
        ),
      status: 401,
      code: 'UNAUTHENTICATED',
    },
    {
      name: 'anonymous introspection',
      send: () =>
        raw(JSON.stringify({ query: '{ __schema { types { name } } }' }), undefined, 'POST', '', null),
      status: 401,
      code: 'UNAUTHENTICATED',
    },
  ];

  it('has at least 50 hostile operations, each with its expected status and code', () => {
    expect(cases().length).to.be.at.least(50);
    expect(new Set(cases().map((c) => c.name)).size).to.equal(cases().length);
  });

  it('refuses every one with its typed, masked error, changing nothing in the database or on the router', async () => {
    const before = await snapshot();
    sim.clearCommandLog();
    const failures: string[] = [];
    for (const c of cases()) {
      const { status, body } = await c.send();
      const errors = body.errors ?? [];
      const code = errors[0]?.extensions?.code;
      const problems: string[] = [];
      if (status !== c.status) problems.push(`status ${status}, expected ${c.status}`);
      if (code !== c.code) problems.push(`code ${String(code)}, expected ${c.code}`);
      if (c.message && !c.message.test(errors[0]?.message ?? ''))
        problems.push(`message "${errors[0]?.message}"`);
      if (body.data != null) problems.push('returned data');
      for (const e of errors) {
        const ext = e.extensions ?? {};
        if (!REFUSAL_CODES.has(String(ext.code))) problems.push(`an error coded ${String(ext.code)}`);
        if ('stacktrace' in ext || 'exception' in ext) problems.push('a stack trace');
        if (/did you mean/i.test(e.message)) problems.push(`a field suggestion: ${e.message}`);
        if (/node_modules|\bat \w+ \(|\.js:\d+/.test(e.message)) problems.push(`internals: ${e.message}`);
      }
      // At most graphql-js's 100 validation errors: a flood cannot grow the answer without bound.
      if (errors.length > 101) problems.push(`${errors.length} errors`);
      if (sim.commandLog.length)
        problems.push(`router commands: ${sim.commandLog.map((x) => x.path).join(',')}`);
      if (problems.length) failures.push(`${c.name}: ${problems.join('; ')}`);
    }
    expect(failures, failures.join('\n')).to.deep.equal([]);
    expect(await snapshot()).to.equal(before);
    expect(sim.commandLog).to.have.length(0);
    console.log(`      ${cases().length} hostile operations refused; database and router unchanged`);
  });

  it('still answers an ordinary query and mutation afterwards (the guards refuse only the hostile ones)', async () => {
    const q = await op(
      `{ vpnAccount(serviceId: ${serviceId}) { username status router { status { reachable } } } }`,
    );
    expect(q.status).to.equal(200);
    expect(q.body.errors).to.equal(undefined);
    expect(q.body.data).to.deep.equal({
      vpnAccount: { username: 'victim', status: 'ACTIVE', router: { status: { reachable: true } } },
    });
    const m = await op(`mutation { ${topUp(1)} }`);
    expect(m.body.errors).to.equal(undefined);
  });
});
