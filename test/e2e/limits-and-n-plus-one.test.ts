import { expect } from 'chai';
import { SqlCounter } from '../../bench/sql-counter';
import { createTestDatabase, type TestDatabase } from '../helpers/test-db';
import { codeOf, gql, startServer, type TestServer } from '../helpers/test-server';
import { createApiKey } from '../helpers/cli';
import { WhmcsFixtures } from '../helpers/whmcs-fixtures';
import { generateKeyLine, SecretBox } from '../../src/auth/secret-box';
import { loadEncryptionKeys } from '../../src/config/app-config';

/** SELECTs MariaDB executed, counted by MariaDB itself (not by our code). */
/**
 * The SELECTs the server process sends while `work` runs, counted on the wire by a relay in front of
 * MariaDB (the server's global Com_select counter also counts every other client of a shared server).
 */
async function selectsDuring(counter: SqlCounter, work: () => Promise<unknown>): Promise<number> {
  counter.reset();
  await work();
  return counter.byKind.SELECT ?? 0;
}

describe('query limits and batching (server process + MariaDB)', function () {
  let tdb: TestDatabase;
  let server: TestServer;
  let key: string;
  let counter: SqlCounter;

  before(async () => {
    tdb = await createTestDatabase();
    counter = await SqlCounter.start({ host: tdb.config.host, port: tdb.config.port });
    server = await startServer({
      DATABASE_URL: tdb.url.replace(`:${tdb.config.port}/`, `:${counter.port}/`),
      ENCRYPTION_KEY: generateKeyLine('t'),
      // No background work during the counts.
      COLLECT_INTERVAL_SECONDS: '0',
      RECONCILE_INTERVAL_SECONDS: '0',
      WEBHOOK_INTERVAL_MS: '0',
    });
    key = await createApiKey(tdb.url, 'admin', 'admin');
    const db = tdb.dataSource;
    const whmcs = new WhmcsFixtures(db);
    const box = new SecretBox(loadEncryptionKeys({ ENCRYPTION_KEY: generateKeyLine('x') }));
    const client = await whmcs.client();
    const products = [await whmcs.product({ name: 'A' }), await whmcs.product({ name: 'B' })];
    const routers: number[] = [];
    for (let r = 0; r < 3; r++) {
      const serverId = await whmcs.server({ name: `R${r}` });
      const result = await db.query(
        "INSERT INTO mod_mikrotikvpn_routers (server_id, name, host, port, tls, username, password_encrypted) VALUES (?, ?, '127.0.0.1', 8729, 1, 'api', ?)",
        [serverId, `R${r}`, box.encrypt('pw')],
      );
      routers.push(result.insertId);
    }
    const values: unknown[] = [];
    for (let i = 0; i < 120; i++) {
      values.push(
        5000 + i,
        client,
        products[i % 2],
        routers[i % 3],
        `u${i}`,
        `10.9.${Math.floor(i / 200)}.${(i % 200) + 1}`,
      );
    }
    await db.query(
      `INSERT INTO mod_mikrotikvpn_accounts (service_id, client_id, product_id, router_id, username, address, billing_cycle, status)
       VALUES ${Array(120).fill("(?, ?, ?, ?, ?, ?, 'Monthly', 'ACTIVE')").join(', ')}`,
      values,
    );
  });

  after(async () => {
    await server?.stop();
    await counter?.close();
    await tdb?.drop();
  });

  const LIST = `query($n: Int!) { vpnAccounts(first: $n) { nodes { username router { name addressPool { free } } product { name profile } } } }`;

  it('lists 100 accounts with router and product in a fixed number of SQL queries (no N+1)', async () => {
    let few = 0;
    let many = 0;
    few = await selectsDuring(counter, async () => {
      const r = await gql(server.url, LIST, { n: 5 }, key);
      expect(r.data!.vpnAccounts.nodes).to.have.length(5);
    });
    many = await selectsDuring(counter, async () => {
      const r = await gql(server.url, LIST, { n: 100 }, key);
      expect(r.errors).to.equal(undefined);
      expect(r.data!.vpnAccounts.nodes).to.have.length(100);
      expect(new Set(r.data!.vpnAccounts.nodes.map((n: any) => n.router.name)).size).to.equal(3);
    });
    // key check + page + routers + products + address pools (servers, used addresses)
    expect(many).to.equal(few);
    expect(many).to.be.at.most(7);
  });

  it('refuses a query nested deeper than the limit before running it', async () => {
    const deep = `{ routers { accounts { nodes { router { accounts { nodes { router { accounts { nodes { username } } } } } } } } } }`;
    const selects = await selectsDuring(counter, async () => {
      const r = await gql(server.url, deep, {}, key);
      expect(codeOf(r)).to.equal('QUERY_TOO_COMPLEX');
      expect(r.errors![0].message).to.match(/levels deep; the limit is 8/);
      expect(r.data ?? null).to.equal(null);
    });
    expect(selects).to.be.at.most(1); // the key check only: no resolver ran
  });

  it('refuses an alias flood', async () => {
    const flood = `{ ${Array.from({ length: 40 }, (_, i) => `a${i}: routers { id }`).join(' ')} }`;
    const r = await gql(server.url, flood, {}, key);
    expect(codeOf(r)).to.equal('QUERY_TOO_COMPLEX');
    expect(r.errors![0].message).to.match(/40 aliases/);
  });

  it('refuses a query whose pages multiply past the cost limit', async () => {
    const costly = `{ vpnAccounts(first: 100) { nodes { router { accounts(first: 100) { nodes { username status address } } } } } }`;
    const r = await gql(server.url, costly, {}, key);
    expect(codeOf(r)).to.equal('QUERY_TOO_COMPLEX');
    expect(r.errors![0].message).to.match(/costs \d+; the limit is 5000/);
  });

  it('counts variables in the cost, not just literals', async () => {
    const q = `query($n: Int) { vpnAccounts(first: $n) { nodes { router { accounts(first: $n) { nodes { username } } } } } }`;
    expect(codeOf(await gql(server.url, q, { n: 100 }, key))).to.equal('QUERY_TOO_COMPLEX');
    expect(codeOf(await gql(server.url, q, { n: 3 }, key))).to.equal(undefined);
  });

  it('answers malformed JSON and oversized bodies with a typed error', async () => {
    const post = (body: string) =>
      fetch(`${server.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
        body,
      });
    const bad = await post('{"query": ');
    expect(bad.status).to.equal(400);
    expect(((await bad.json()) as any).errors[0].extensions.code).to.equal('VALIDATION');
    const big = await post(JSON.stringify({ query: `{ routers { id } } # ${'x'.repeat(200_000)}` }));
    expect(big.status).to.equal(413);
    expect(((await big.json()) as any).errors[0].extensions.code).to.equal('VALIDATION');
  });

  it('refuses a simple cross-site form post (CSRF)', async () => {
    const r = await fetch(`${server.url}/graphql?query=%7Brouters%7Bid%7D%7D`, {
      method: 'GET',
      headers: { authorization: `Bearer ${key}` },
    });
    expect(r.status).to.equal(400);
  });

  it('answers a syntax error and an unknown field with VALIDATION', async () => {
    expect(codeOf(await gql(server.url, '{ routers { id ', {}, key))).to.equal('VALIDATION');
    expect(codeOf(await gql(server.url, '{ nope }', {}, key))).to.equal('VALIDATION');
  });
});
