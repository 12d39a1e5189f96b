import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { expect } from 'chai';
import { startDemo, type DemoProcess } from '../helpers/demo-process';
import mysql from 'mysql2/promise';
import { createTestDatabase, testServerConfig, type TestDatabase } from '../helpers/test-db';
import { WhmcsFixtures } from '../helpers/whmcs-fixtures';
import { createApiKey } from '../helpers/cli';
import { codeOf, gql, makeKeyFile, startServer, waitForHealthy } from '../helpers/test-server';

/**
 * `npm run demo` as a newcomer runs it: no configuration at all, so it starts its own MariaDB, fills
 * it, runs the server with two simulated routers, and must leave nothing behind after Ctrl-C.
 */

const ACCOUNTS = `{ vpnAccounts(first: 20) { nodes { serviceId username status address
  connection { online } traffic { usedThisCycleBytes balanceBytes }
  topUps { nodes { kind bytes description } } } } }`;

/** True when something accepts TCP connections on 127.0.0.1:port. */
function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The demo's child processes: pid and command line. */
function childrenOf(pid: number): Array<{ pid: number; command: string }> {
  // ps exits 1 when there is no child at all.
  const out = spawnSync('ps', ['-o', 'pid=,args=', '--ppid', String(pid)], { encoding: 'utf8' }).stdout;
  return out
    .split('\n')
    .filter((line) => line.trim())
    .map((line) => {
      const [, childPid, command] = /^\s*(\d+)\s+(.*)$/.exec(line)!;
      return { pid: Number(childPid), command };
    });
}

describe('npm run demo: a working server from nothing, and nothing left after Ctrl-C', function () {
  this.timeout(180_000);
  let demo: DemoProcess;
  const call = (query: string, key = demo.apiKey) => gql(demo.url, query, {}, key);

  before(async () => {
    // No DATABASE_URL, no key file: everything comes from the demo itself. A short collection interval
    // keeps the test quick (the demo's own default is 10 s).
    demo = await startDemo({ COLLECT_INTERVAL_SECONDS: '2' });
  });
  after(async () => {
    if (demo && demo.process.exitCode === null) await demo.interrupt('SIGKILL');
  });

  it('prints the explorer URL, an admin key and a curl line that works', async () => {
    const text = demo.output.join('\n');
    expect(demo.explorerUrl).to.equal(`${demo.url}/explorer`);
    expect(demo.apiKey).to.match(/^mvpn_/);
    expect(text).to.include(`authorization: Bearer ${demo.apiKey}`);
    expect(text).to.match(/private server on 127\.0\.0\.1:\d+/);
    // The WireGuard account's config is shown as the customer would scan it.
    expect(text).to.match(
      /WireGuard: service \d+ \(demo-wg-1\); its config as the customer scans it:\n(?:.*[▀▄█].*\n){20,}/,
    );
    // The printed curl body is a query that answers.
    const body = /-d '(.*)'$/m.exec(text)![1];
    const response = await fetch(`${demo.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${demo.apiKey}` },
      body,
    });
    const json = (await response.json()) as any;
    expect(json.errors).to.equal(undefined);
    expect(json.data.vpnAccounts.nodes).to.have.length(7);
    // Without the key nothing is answered.
    expect(codeOf(await call('{ routers { id } }', ''))).to.equal('UNAUTHENTICATED');
  });

  it('has two reachable routers and seven accounts made through the API (one WireGuard), five of them online', async () => {
    const routers = await call(
      '{ routers { name tls caPinned status { reachable identity } addressPool { used } } }',
    );
    expect(routers.errors).to.equal(undefined);
    expect(routers.data!.routers).to.deep.equal([
      {
        name: 'Demo router 1',
        tls: true,
        caPinned: true,
        status: { reachable: true, identity: 'demo-router-1' },
        addressPool: { used: 4 },
      },
      {
        name: 'Demo router 2',
        tls: true,
        caPinned: true,
        status: { reachable: true, identity: 'demo-router-2' },
        addressPool: { used: 3 },
      },
    ]);
    // The one past its limit is limited by the first collection after the history was written.
    let accounts: any[] = [];
    for (let i = 0; i < 30; i++) {
      accounts = (await call(ACCOUNTS)).data!.vpnAccounts.nodes as any[];
      if (accounts.some((a) => a.status === 'LIMITED')) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    expect(accounts.map((a) => a.status)).to.deep.equal([...Array(5).fill('ACTIVE'), 'LIMITED', 'ACTIVE']);
    // The WireGuard client's first handshake comes with the first tick of simulated traffic.
    let online = 0;
    for (let i = 0; i < 20 && online < 5; i++) {
      const nodes = (await call(ACCOUNTS)).data!.vpnAccounts.nodes as any[];
      online = nodes.filter((a) => a.connection?.online).length;
      if (online < 5) await new Promise((r) => setTimeout(r, 500));
    }
    expect(online).to.equal(5);
    // The bought addon was credited once, as WHMCS's module credits it.
    const addon = accounts.flatMap((a) => a.topUps.nodes).filter((t: any) => t.kind === 'ADDON');
    expect(addon).to.deep.equal([{ kind: 'ADDON', bytes: 10_000_000_000, description: 'Extra 10 GB' }]);
  });

  it('collects the online accounts’ traffic while it runs, on top of two months of history', async () => {
    const usedOf = async () =>
      ((await call(ACCOUNTS)).data!.vpnAccounts.nodes as any[]).map((a) =>
        BigInt(a.traffic.usedThisCycleBytes),
      );
    const before = await usedOf();
    let after = before;
    for (let i = 0; i < 60; i++) {
      await new Promise((r) => setTimeout(r, 1000));
      after = await usedOf();
      if (after.filter((u, k) => u > before[k]).length >= 4) break;
    }
    // The online ones that are not limited use traffic (the WireGuard one too); the history is there for all.
    expect(after.filter((u, k) => u > before[k]).length).to.be.at.least(4);
    expect(before.every((u) => u > 0n)).to.equal(true);
    const days = await call(
      `{ vpnAccount(serviceId: 1) { usage(from: "${new Date(Date.now() - 61 * 86_400_000).toISOString()}", to: "${new Date().toISOString()}") { day totalBytes } topUps { nodes { kind reason } } } }`,
    );
    const usage = days.data!.vpnAccount.usage as { totalBytes: number }[];
    expect(usage.length).to.be.at.least(60);
    expect(usage.filter((d) => d.totalBytes > 0).length).to.be.at.least(50);
    expect(days.data!.vpnAccount.topUps.nodes.map((t: any) => t.reason)).to.include.members([
      'FIRST_CYCLE',
      'RENEWAL',
    ]);
  });

  it('prints what the CLI needs to reach it, and doctor finds no problem', async () => {
    const text = demo.output.join('\n');
    const url = /export DATABASE_URL='([^']+)'/.exec(text)![1];
    const keyFile = /export ENCRYPTION_KEY_FILE='([^']+)'/.exec(text)![1];
    expect(fs.statSync(keyFile).mode & 0o777).to.equal(0o600);
    const out = spawnSync(process.execPath, ['dist/src/cli/main.js', 'doctor'], {
      cwd: path.join(__dirname, '..', '..', '..'),
      env: {
        PATH: process.env.PATH ?? '',
        DATABASE_URL: url,
        ENCRYPTION_KEY_FILE: keyFile,
        WHMCS_TIME_ZONE: 'UTC',
      },
      encoding: 'utf8',
    });
    expect(out.stdout.trim().split('\n').pop(), out.stdout + out.stderr).to.equal('no problems');
    expect(out.stderr).to.equal('');
  });

  it('serves a client-area preview: the module’s usage page with a client token for that service', async () => {
    const index = await fetch(`${demo.url}/demo`);
    expect(await index.text()).to.include('/demo/client/7');
    const page = await (await fetch(`${demo.url}/demo/client/1`)).text();
    const token = /data-token="([^"]+)"/.exec(page)![1];
    expect(page).to.include('<script src="/demo/usage.js" defer></script>');
    expect((await fetch(`${demo.url}/demo/usage.js`)).status).to.equal(200);
    // The token reads that service and no other.
    expect((await gql(demo.url, '{ vpnAccount(serviceId: 1) { serviceId } }', {}, token)).errors).to.equal(
      undefined,
    );
    expect(codeOf(await gql(demo.url, '{ vpnAccount(serviceId: 2) { serviceId } }', {}, token))).to.equal(
      'FORBIDDEN',
    );
  });

  it('serves the explorer with only its own assets, the key pre-filled', async () => {
    const page = await fetch(demo.explorerUrl);
    expect(page.status).to.equal(200);
    expect(page.headers.get('content-type')).to.match(/^text\/html/);
    expect(page.headers.get('content-security-policy')).to.include("default-src 'self'");
    const html = await page.text();
    expect(html).not.to.match(/https?:\/\//);
    expect(html).to.include(`Bearer ${demo.apiKey}`);
    const assets = [...html.matchAll(/(?:src|href)="([^"]+)"/g)]
      .map((m) => m[1])
      .filter((a) => a !== 'data:,'); // the empty favicon, so the browser asks for none
    expect(assets).to.have.length(5);
    for (const asset of assets) {
      expect(asset).to.match(/^\/explorer\/static\//);
      const response = await fetch(`${demo.url}${asset}`);
      expect(response.status, asset).to.equal(200);
      expect(response.headers.get('content-type'), asset).to.match(
        asset.endsWith('.css') ? /^text\/css/ : /^text\/javascript/,
      );
      const body = await response.text();
      expect(body.length, asset).to.be.greaterThan(100);
      // A source map a script names is served too (the browser's developer tools ask for it).
      const map = /\/\/# sourceMappingURL=(\S+)\s*$/.exec(body)?.[1];
      if (map) {
        const mapResponse = await fetch(new URL(map, `${demo.url}${asset}`));
        expect(mapResponse.status, map).to.equal(200);
        expect(JSON.parse(await mapResponse.text()).version, map).to.equal(3);
      }
    }
    expect((await fetch(`${demo.url}/explorer/static/__proto__`)).status).to.equal(404);
    expect((await fetch(`${demo.url}/`, { redirect: 'manual' })).headers.get('location')).to.equal(
      '/explorer',
    );
  });

  it('stops everything it started on Ctrl-C: server, routers, MariaDB', async () => {
    const text = demo.output.join('\n');
    const ports = [
      new URL(demo.url).port,
      /private server on 127\.0\.0\.1:(\d+)/.exec(text)![1],
      .../api-ssl on ports ([\d, ]+)/.exec(text)![1].split(', '),
    ].map(Number);
    expect(ports).to.have.length(4);
    for (const port of ports) expect(await listening(port), `port ${port} before`).to.equal(true);
    const mariadb = childrenOf(demo.process.pid!).find((c) => /mariadbd/.test(c.command))!;
    expect(mariadb, 'the private mariadbd is a child of the demo').to.not.equal(undefined);
    const dataDir = /--datadir=(\S+)/.exec(mariadb.command)![1];
    expect(fs.existsSync(dataDir)).to.equal(true);

    expect(await demo.interrupt('SIGINT')).to.equal(0);

    const after = demo.output.join('\n');
    expect(after).to.include('stopped the private MariaDB');
    expect(after).to.include('stopped 2 simulated routers');
    expect(after).to.include('stopped the GraphQL server');
    expect(alive(mariadb.pid), 'mariadbd still running').to.equal(false);
    for (const port of ports) expect(await listening(port), `port ${port} after`).to.equal(false);
    expect(fs.existsSync(dataDir), 'temporary data directory removed').to.equal(false);
    expect(after).not.to.match(/could not stop|Error/);
  });
});

describe('npm run demo interrupted while it starts', function () {
  this.timeout(120_000);

  it('stops what it had started so far and exits 0 (Ctrl-C right after MariaDB came up)', async () => {
    const demo = await startDemo({}, { until: /MariaDB: a private server/ });
    const mariadb = childrenOf(demo.process.pid!).find((c) => /mariadbd/.test(c.command))!;
    const dataDir = /--datadir=(\S+)/.exec(mariadb.command)![1];
    expect(await demo.interrupt('SIGINT')).to.equal(0);
    const text = demo.output.join('\n');
    expect(text).to.include('stopped the private MariaDB');
    expect(text).not.to.include('Demo ready');
    expect(text).not.to.match(/Demo failed|could not stop/);
    expect(alive(mariadb.pid)).to.equal(false);
    expect(fs.existsSync(dataDir)).to.equal(false);
  });
});

describe('npm run demo with DATABASE_URL: uses that database, never one it did not make', function () {
  this.timeout(180_000);
  const server = testServerConfig();
  const name = `mvpn_demo_${process.pid}`;
  const auth = server.password
    ? `${encodeURIComponent(server.user)}:${encodeURIComponent(server.password)}`
    : server.user;
  const url = `mysql://${auth}@${server.host}:${server.port}/${name}`;
  const dropDemoDatabase = async () => {
    const conn = await mysql.createConnection(server);
    await conn.query(`DROP DATABASE IF EXISTS \`${name}\``);
    await conn.end();
  };
  after(dropDemoDatabase);

  it('creates and fills the named database, and on a second run starts again from nothing', async () => {
    for (const run of [1, 2]) {
      const demo = await startDemo({ DATABASE_URL: url });
      try {
        expect(demo.output.join('\n'), `run ${run}`).to.include(`database ${name} at`);
        expect(demo.output.join('\n')).not.to.include('private server');
        expect(childrenOf(demo.process.pid!).filter((c) => /mariadbd/.test(c.command))).to.deep.equal([]);
        const r = await gql(demo.url, '{ vpnAccounts { nodes { username } } }', {}, demo.apiKey);
        expect(r.data!.vpnAccounts.nodes, `run ${run}`).to.have.length(7);
      } finally {
        expect(await demo.interrupt('SIGTERM')).to.equal(0);
      }
    }
  });

  it('refuses a database that holds WHMCS data it did not make, and changes nothing there', async () => {
    const tdb = await createTestDatabase();
    try {
      const whmcs = new WhmcsFixtures(tdb.dataSource);
      await whmcs.client({ firstname: 'Real', lastname: 'Customer' });
      const demo = startDemo({ DATABASE_URL: tdb.url });
      const failure = await demo.then(
        () => null,
        (error: Error) => error.message,
      );
      expect(failure).to.match(/exited with 1/);
      expect(failure).to.include(
        `the database ${tdb.config.database} is not empty and was not made by the demo`,
      );
      const clients = await tdb.dataSource.query('SELECT firstname FROM tblclients');
      expect(clients).to.deep.equal([{ firstname: 'Real' }]);
      expect(await tdb.dataSource.query('SELECT id FROM mod_mikrotikvpn_api_keys')).to.deep.equal([]);
    } finally {
      await tdb.drop();
    }
  });
});

describe('explorer outside the demo: off in production unless enabled, never a pre-filled key', function () {
  let tdb: TestDatabase;
  let key: string;
  before(async () => {
    tdb = await createTestDatabase();
    key = await createApiKey(tdb.url, 'ops', 'admin');
  });
  after(() => tdb?.drop());

  const withServer = async (env: Record<string, string>, work: (url: string) => Promise<void>) => {
    const server = await startServer({ DATABASE_URL: tdb.url, ENCRYPTION_KEY_FILE: makeKeyFile(), ...env });
    try {
      await waitForHealthy(server);
      await work(server.url);
    } finally {
      // A production server (Apollo's own signal handling would otherwise race ours) stops at once, cleanly.
      expect(await server.stop('SIGTERM')).to.equal(0);
    }
  };

  it('is not served in production, and neither is introspection', async () => {
    await withServer({ NODE_ENV: 'production' }, async (url) => {
      expect((await fetch(`${url}/explorer`)).status).to.equal(404);
      expect((await fetch(`${url}/explorer/static/graphiql.min.js`)).status).to.equal(404);
      const introspection = await gql(url, '{ __schema { types { name } } }', {}, key);
      expect(introspection.errors?.[0]?.message).to.match(/introspection/i);
      expect((await gql(url, '{ routers { id } }', {}, key)).errors).to.equal(undefined);
    });
  });

  it('is served in production when GRAPHQL_EXPLORER=true, without any key in the page', async () => {
    await withServer({ NODE_ENV: 'production', GRAPHQL_EXPLORER: 'true' }, async (url) => {
      const page = await fetch(`${url}/explorer`);
      expect(page.status).to.equal(200);
      const html = await page.text();
      expect(html).not.to.match(/Bearer|mvpn_/);
      const css = await fetch(`${url}/explorer/static/graphiql.min.css`);
      expect(css.status).to.equal(200);
      expect((await css.text()).length).to.be.greaterThan(1000);
    });
  });
});
