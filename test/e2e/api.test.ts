import { expect } from 'chai';
import type { DataSource } from 'typeorm';
import { createTestDatabase, type TestDatabase } from '../helpers/test-db';
import { codeOf, gql, makeKeyFile, startServer, type TestServer } from '../helpers/test-server';
import { createApiKey, runCli } from '../helpers/cli';
import { WhmcsFixtures } from '../helpers/whmcs-fixtures';

const UPSERT = `mutation($input: RouterInput!) { upsertRouter(input: $input) { id serverId name host port tls username caPinned } }`;

describe('GraphQL API over HTTP (server process + MariaDB)', function () {
  let tdb: TestDatabase;
  let db: DataSource;
  let server: TestServer;
  let admin: string;
  let reader: string;
  let whmcs: WhmcsFixtures;
  let serverId: number;
  let otherModuleServerId: number;
  let productId: number;

  before(async () => {
    tdb = await createTestDatabase({ migrate: false });
    db = tdb.dataSource;
    // The server applies the pending migrations itself when it starts.
    server = await startServer({ DATABASE_URL: tdb.url, ENCRYPTION_KEY_FILE: makeKeyFile() });
    for (let i = 0; i < 50; i++) {
      const health = await fetch(`${server.url}/health`);
      if (health.status === 200) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    admin = await createApiKey(tdb.url, 'bridge', 'admin');
    reader = await createApiKey(tdb.url, 'dashboard', 'read');
    whmcs = new WhmcsFixtures(db);
    serverId = await whmcs.server({
      name: 'Frankfurt',
      assignedips: ['10.8.0.2', '10.8.0.3', 'not-an-ip', '10.8.0.4'],
    });
    otherModuleServerId = await whmcs.server({ name: 'cPanel box', type: 'cpanel' });
    productId = await whmcs.product({
      name: 'VPN 10 GB',
      settings: {
        profile: 'vpn',
        trafficMonthlyGb: '10',
        downloadMbps: '20',
        uploadMbps: '5',
        l2tpPsk: 'psk-secret',
      },
    });
    await whmcs.product({ name: 'Shared hosting', servertype: 'cpanel' });
  });

  after(async () => {
    await server?.stop();
    await tdb?.drop();
  });

  describe('access', () => {
    it('refuses a request without a key with UNAUTHENTICATED (401)', async () => {
      const r = await gql(server.url, '{ routers { id } }');
      expect(r.status).to.equal(401);
      expect(codeOf(r)).to.equal('UNAUTHENTICATED');
      expect(r.data ?? null).to.equal(null);
    });

    it('refuses a wrong key with UNAUTHENTICATED', async () => {
      const r = await gql(server.url, '{ routers { id } }', {}, 'mvpn_' + 'x'.repeat(43));
      expect(codeOf(r)).to.equal('UNAUTHENTICATED');
    });

    it('refuses a revoked key at once', async () => {
      const key = await createApiKey(tdb.url, 'temporary', 'admin');
      expect(codeOf(await gql(server.url, '{ routers { id } }', {}, key))).to.equal(undefined);
      const revoke = await runCli(['apikey', 'revoke', '--name', 'temporary'], { DATABASE_URL: tdb.url });
      expect(revoke.code).to.equal(0);
      expect(codeOf(await gql(server.url, '{ routers { id } }', {}, key))).to.equal('UNAUTHENTICATED');
    });

    it('stores keys only as hashes and lists them without the key', async () => {
      const rows: { key_hash: string }[] = await db.query('SELECT key_hash FROM mod_mikrotikvpn_api_keys');
      expect(rows.map((r) => r.key_hash)).to.not.include(admin);
      const list = await runCli(['apikey', 'list'], { DATABASE_URL: tdb.url });
      expect(list.stdout).to.include('bridge').and.include('dashboard');
      expect(list.stdout).to.not.include(admin);
    });

    it('lets a read key query but not mutate (FORBIDDEN), changing nothing', async () => {
      expect(codeOf(await gql(server.url, '{ routers { id } }', {}, reader))).to.equal(undefined);
      const r = await gql(
        server.url,
        UPSERT,
        { input: { serverId, host: '127.0.0.1', username: 'api', password: 'pw' } },
        reader,
      );
      expect(codeOf(r)).to.equal('FORBIDDEN');
      expect(await db.query('SELECT id FROM mod_mikrotikvpn_routers')).to.have.length(0);
    });
  });

  describe('upsertRouter', () => {
    it('creates the router of a WHMCS server with api-ssl defaults', async () => {
      const r = await gql(
        server.url,
        UPSERT,
        { input: { serverId, host: '192.0.2.10', username: 'api', password: 'Secr3t!' } },
        admin,
      );
      expect(r.errors).to.equal(undefined);
      expect(r.data!.upsertRouter).to.include({
        serverId,
        name: 'Frankfurt',
        host: '192.0.2.10',
        port: 8729,
        tls: true,
        caPinned: false,
      });
    });

    it('keeps the password encrypted at rest and never readable through the API', async () => {
      const [row] = await db.query(
        'SELECT password_encrypted FROM mod_mikrotikvpn_routers WHERE server_id = ?',
        [serverId],
      );
      expect(row.password_encrypted)
        .to.match(/^test1:/)
        .and.not.include('Secr3t!');
      const r = await gql(server.url, '{ routers { password } }', {}, admin);
      expect(codeOf(r)).to.equal('VALIDATION');
      expect(JSON.stringify(r)).to.not.include('Secr3t!');
    });

    it('updates in place on a second call, keeping the stored password when none is sent', async () => {
      const [before] = await db.query(
        'SELECT id, password_encrypted FROM mod_mikrotikvpn_routers WHERE server_id = ?',
        [serverId],
      );
      const r = await gql(
        server.url,
        UPSERT,
        { input: { serverId, host: '192.0.2.11', username: 'api2', tls: false } },
        admin,
      );
      expect(r.errors).to.equal(undefined);
      expect(r.data!.upsertRouter).to.include({
        id: String(before.id),
        host: '192.0.2.11',
        port: 8728,
        tls: false,
        username: 'api2',
      });
      const rows = await db.query(
        'SELECT id, password_encrypted FROM mod_mikrotikvpn_routers WHERE server_id = ?',
        [serverId],
      );
      expect(rows).to.have.length(1);
      expect(rows[0].password_encrypted).to.equal(before.password_encrypted);
    });

    it('records who changed the router', async () => {
      const events = await db.query(
        "SELECT action, actor, result FROM mod_mikrotikvpn_events WHERE action LIKE 'router.%' ORDER BY id",
      );
      expect(events.map((e: { action: string }) => e.action)).to.deep.equal([
        'router.create',
        'router.update',
      ]);
      expect(events[0]).to.include({ actor: 'apikey:bridge', result: 'OK' });
    });

    // `spare` is a WHMCS server of ours without a router yet, so only the input itself is wrong.
    const bad: [string, (spare: number) => Record<string, unknown>, string][] = [
      [
        'an unknown WHMCS server',
        () => ({ serverId: 99999, host: 'h', username: 'u', password: 'p' }),
        'NOT_FOUND',
      ],
      [
        'a server of another module',
        () => ({ serverId: otherModuleServerId, host: 'h', username: 'u', password: 'p' }),
        'VALIDATION',
      ],
      ['a negative id', () => ({ serverId: -5, host: 'h', username: 'u', password: 'p' }), 'VALIDATION'],
      ['a wrong type', () => ({ serverId: 'abc', host: 'h', username: 'u', password: 'p' }), 'VALIDATION'],
      [
        'an oversized host',
        (spare) => ({ serverId: spare, host: 'a'.repeat(300), username: 'u', password: 'p' }),
        'VALIDATION',
      ],
      [
        'a host with spaces',
        (spare) => ({ serverId: spare, host: 'a b', username: 'u', password: 'p' }),
        'VALIDATION',
      ],
      [
        'a port out of range',
        (spare) => ({ serverId: spare, host: 'h', port: 70000, username: 'u', password: 'p' }),
        'VALIDATION',
      ],
      [
        'a CA that is not a certificate',
        (spare) => ({ serverId: spare, host: 'h', username: 'u', password: 'p', caPem: 'hello' }),
        'VALIDATION',
      ],
      [
        'a malformed fingerprint',
        (spare) => ({ serverId: spare, host: 'h', username: 'u', password: 'p', fingerprintSha256: 'AB:CD' }),
        'VALIDATION',
      ],
      [
        'a new router without password',
        (spare) => ({ serverId: spare, host: 'h', username: 'u' }),
        'VALIDATION',
      ],
    ];
    for (const [what, input, code] of bad) {
      it(`refuses ${what} with ${code} and changes nothing`, async () => {
        const spare = await whmcs.server({ name: `spare for ${what}` });
        const snapshot = () =>
          db.query(
            'SELECT id, host, port, username, password_encrypted FROM mod_mikrotikvpn_routers ORDER BY id',
          );
        const before = await snapshot();
        const r = await gql(server.url, UPSERT, { input: input(spare) }, admin);
        expect(codeOf(r), JSON.stringify(r.errors)).to.equal(code);
        expect(r.errors![0].message)
          .to.be.a('string')
          .and.not.match(/\bat .*\.js:\d+/);
        expect(await snapshot()).to.deep.equal(before);
      });
    }
  });

  describe('queries', () => {
    let routerId: string;
    before(async () => {
      [{ id: routerId }] = (await db.query(
        'SELECT CAST(id AS CHAR) AS id FROM mod_mikrotikvpn_routers WHERE server_id = ?',
        [serverId],
      )) as { id: string }[];
      const client = await whmcs.client();
      for (let i = 0; i < 3; i++) {
        const serviceId = await whmcs.service({
          userid: client,
          packageid: productId,
          server: serverId,
          username: `user${i}`,
        });
        await db.query(
          `INSERT INTO mod_mikrotikvpn_accounts (service_id, client_id, product_id, router_id, username, address, status, billing_cycle, balance_bytes, cycle_allowance_bytes)
           VALUES (?, ?, ?, ?, ?, ?, ?, 'Monthly', ?, 10000000000)`,
          [
            serviceId,
            client,
            productId,
            routerId,
            `user${i}`,
            `10.8.0.${i + 2}`,
            i === 2 ? 'SUSPENDED' : 'ACTIVE',
            String(9_000_000_000 - i),
          ],
        );
      }
    });

    it('reads products through the settings manifest; other modules are not listed', async () => {
      const r = await gql(
        server.url,
        `{ products { id name usesModule profile bandwidth { downloadBitsPerSecond uploadBitsPerSecond } trafficPerCycle { cycle bytes unlimited } historyDays } }`,
        {},
        reader,
      );
      expect(r.errors).to.equal(undefined);
      expect(r.data!.products).to.have.length(1);
      const p = r.data!.products[0];
      expect(p).to.include({
        id: productId,
        name: 'VPN 10 GB',
        usesModule: true,
        profile: 'vpn',
        historyDays: 364,
      });
      expect(p.bandwidth).to.deep.equal({
        downloadBitsPerSecond: 20_000_000,
        uploadBitsPerSecond: 5_000_000,
      });
      expect(p.trafficPerCycle.find((c: { cycle: string }) => c.cycle === 'Monthly')).to.deep.equal({
        cycle: 'Monthly',
        bytes: 10_000_000_000,
        unlimited: false,
      });
      expect(p.trafficPerCycle.find((c: { cycle: string }) => c.cycle === 'Annually')).to.deep.include({
        unlimited: true,
      });
    });

    it('shows the L2TP pre-shared key to admin keys only', async () => {
      const query = `query($id: Int!) { product(id: $id) { l2tpPsk } }`;
      expect((await gql(server.url, query, { id: productId }, admin)).data!.product.l2tpPsk).to.equal(
        'psk-secret',
      );
      const r = await gql(server.url, query, { id: productId }, reader);
      expect(codeOf(r)).to.equal('FORBIDDEN');
      expect(JSON.stringify(r)).to.not.include('psk-secret');
    });

    it('answers router and routers with the address pool', async () => {
      const r = await gql(
        server.url,
        `query($id: ID!) { router(id: $id) { id name addressPool { total used free malformedLines } } routers { id } }`,
        { id: routerId },
        reader,
      );
      expect(r.errors).to.equal(undefined);
      expect(r.data!.router.addressPool).to.deep.equal({
        total: 3,
        used: 3,
        free: 0,
        malformedLines: ['line 3: not-an-ip'],
      });
      expect(r.data!.routers.map((x: { id: string }) => x.id)).to.include(routerId);
    });

    it('answers vpnAccount by WHMCS service id with its router, product and balance', async () => {
      const [{ service_id }] = await db.query(
        "SELECT service_id FROM mod_mikrotikvpn_accounts WHERE username = 'user0'",
      );
      const r = await gql(
        server.url,
        `query($s: Int!) { vpnAccount(serviceId: $s) { serviceId username status address router { name } product { name } bandwidth { downloadBitsPerSecond } traffic { balanceBytes cycleAllowanceBytes unlimited } } }`,
        { s: service_id },
        reader,
      );
      expect(r.errors).to.equal(undefined);
      expect(r.data!.vpnAccount).to.deep.equal({
        serviceId: service_id,
        username: 'user0',
        status: 'ACTIVE',
        address: '10.8.0.2',
        router: { name: 'Frankfurt' },
        product: { name: 'VPN 10 GB' },
        bandwidth: { downloadBitsPerSecond: 20_000_000 },
        traffic: { balanceBytes: 9_000_000_000, cycleAllowanceBytes: 10_000_000_000, unlimited: false },
      });
    });

    it('answers null for an unknown service and VALIDATION for a negative one', async () => {
      expect(
        (await gql(server.url, '{ vpnAccount(serviceId: 424242) { username } }', {}, reader)).data!
          .vpnAccount,
      ).to.equal(null);
      expect(
        codeOf(await gql(server.url, '{ vpnAccount(serviceId: -3) { username } }', {}, reader)),
      ).to.equal('VALIDATION');
      expect(
        codeOf(await gql(server.url, '{ vpnAccount(serviceId: "x") { username } }', {}, reader)),
      ).to.equal('VALIDATION');
    });

    it('answers every query the same to admin and read keys', async () => {
      const [{ service_id }] = await db.query(
        "SELECT service_id FROM mod_mikrotikvpn_accounts WHERE username = 'user1'",
      );
      const query = `query($s: Int!, $r: ID!, $p: Int!) {
        vpnAccount(serviceId: $s) { serviceId username status address traffic { balanceBytes } }
        vpnAccounts(first: 10) { nodes { serviceId status } pageInfo { hasNextPage } }
        router(id: $r) { id name host port tls addressPool { total used free } }
        routers { id name }
        product(id: $p) { id name profile historyDays }
        products { id name }
      }`;
      const variables = { s: service_id, r: routerId, p: productId };
      const asAdmin = await gql(server.url, query, variables, admin);
      const asReader = await gql(server.url, query, variables, reader);
      expect(asAdmin.errors).to.equal(undefined);
      expect(asReader.errors).to.equal(undefined);
      expect(asAdmin.data!.vpnAccount.username).to.equal('user1');
      expect(asAdmin.data!.vpnAccounts.nodes).to.have.length(3);
      expect(asReader.data).to.deep.equal(asAdmin.data);
    });

    const badQueries: Array<[string, string, string]> = [
      ['a router id that is not a number', '{ router(id: "abc") { id } }', 'VALIDATION'],
      ['a negative router id', '{ router(id: "-1") { id } }', 'VALIDATION'],
      ['a negative product id', '{ product(id: -1) { id } }', 'VALIDATION'],
      ['a product id of the wrong type', '{ product(id: "x") { id } }', 'VALIDATION'],
      [
        'an oversized cursor',
        `{ vpnAccounts(after: "${'A'.repeat(5000)}") { nodes { serviceId } } }`,
        'VALIDATION',
      ],
      [
        'an unknown status in the filter',
        '{ vpnAccounts(filter: { status: [GONE] }) { nodes { serviceId } } }',
        'VALIDATION',
      ],
      ['profiles of a router id that is not a number', '{ routerProfiles(routerId: "x") }', 'VALIDATION'],
      ['profiles of an unknown router', '{ routerProfiles(routerId: "987654") }', 'NOT_FOUND'],
    ];
    for (const [what, query, code] of badQueries) {
      it(`answers ${what} with ${code}`, async () => {
        const r = await gql(server.url, query, {}, reader);
        expect(codeOf(r), JSON.stringify(r.errors)).to.equal(code);
      });
    }

    it('answers null for an unknown router or product', async () => {
      const r = await gql(
        server.url,
        '{ router(id: "987654") { id } product(id: 987654) { id } }',
        {},
        reader,
      );
      expect(r.errors).to.equal(undefined);
      expect(r.data).to.deep.equal({ router: null, product: null });
    });

    it('pages vpnAccounts with cursors and filters by status, router, product and client', async () => {
      const q = `query($first: Int, $after: String, $filter: VpnAccountFilter) { vpnAccounts(first: $first, after: $after, filter: $filter) { nodes { username status } pageInfo { hasNextPage endCursor } } }`;
      const page1 = await gql(server.url, q, { first: 2 }, reader);
      expect(page1.data!.vpnAccounts.nodes.map((n: { username: string }) => n.username)).to.deep.equal([
        'user0',
        'user1',
      ]);
      expect(page1.data!.vpnAccounts.pageInfo.hasNextPage).to.equal(true);
      const page2 = await gql(
        server.url,
        q,
        { first: 2, after: page1.data!.vpnAccounts.pageInfo.endCursor },
        reader,
      );
      expect(page2.data!.vpnAccounts.nodes.map((n: { username: string }) => n.username)).to.deep.equal([
        'user2',
      ]);
      expect(page2.data!.vpnAccounts.pageInfo.hasNextPage).to.equal(false);
      const suspended = await gql(
        server.url,
        q,
        { filter: { status: ['SUSPENDED'], routerId, productId } },
        reader,
      );
      expect(suspended.data!.vpnAccounts.nodes).to.deep.equal([{ username: 'user2', status: 'SUSPENDED' }]);
      const otherClient = await gql(server.url, q, { filter: { clientId: 987654 } }, reader);
      expect(otherClient.data!.vpnAccounts.nodes).to.deep.equal([]);
      expect(codeOf(await gql(server.url, q, { first: 500 }, reader))).to.equal('VALIDATION');
      expect(codeOf(await gql(server.url, q, { after: 'bm9wZQ' }, reader))).to.equal('VALIDATION');
    });
  });
});
