import { execFile } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import mysql from 'mysql2/promise';
import { WhmcsFixtures } from '../test/helpers/whmcs-fixtures';
import { gql, startServer, waitForHealthy, type TestServer } from '../test/helpers/test-server';
import { createApiKey } from '../test/helpers/cli';
import { median, processCpuMs, round } from './bench-kit';
import { startFleet, type Fleet } from './fleet';
import { SqlCounter } from './sql-counter';
import type { LoadInput } from './load-client';

/**
 * Scenario 4: the customer's usage query (30 days, daily, with a client token) and the admin's
 * account list (100 per page with live status, with an admin key) on the real server process,
 * under load from autocannon in a second process at a fixed concurrency and offered rate. SQL
 * statements per request are counted on the wire (a second server process behind the counter),
 * router commands per request on the simulators. The same SQL run raw through mysql2 at the same
 * concurrency, in the same run, gives GraphQL's own overhead as a ratio.
 */

const ROUTERS = 5;
const ACCOUNTS_PER_ROUTER = 1000;
const DAYS = 30;

const USAGE = `query($s: Int!, $from: DateTime!, $to: DateTime!) {
  vpnAccount(serviceId: $s) { usage(from: $from, to: $to, granularity: DAY) { day downloadBytes uploadBytes totalBytes balanceAfterBytes } }
}`;
const LIST = `query { vpnAccounts(first: 100) { nodes { serviceId username status address
  traffic { balanceBytes } connection { online address uptimeSeconds } } pageInfo { hasNextPage endCursor } } }`;

interface Load {
  requests: number;
  requestsPerSecond: number;
  non2xx: number;
  errors: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

function load(input: LoadInput): Promise<Load> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [path.join(__dirname, 'load-client.js'), JSON.stringify(input)],
      { timeout: (input.seconds + 30) * 1000 },
      (error, stdout, stderr) => {
        if (error) return reject(new Error(`load client failed: ${stderr || error.message}`));
        resolve(JSON.parse(stdout.trim().split('\n').pop()!) as Load);
      },
    );
  });
}

/** The same statements the server runs for a request, raw through mysql2, at the same concurrency. */
/**
 * The same statements the server runs for a request, raw through mysql2 (a pool of `connections`):
 * at an evenly spaced offered rate when `rate` is given, timed from when each was due (as the load
 * client times the server), else closed loop on every connection.
 */
async function rawSql(
  pool: mysql.Pool,
  statements: (pool: mysql.Pool) => Promise<unknown>,
  connections: number,
  seconds: number,
  rate = 0,
) {
  const times: number[] = [];
  if (rate > 0) {
    const period = 1000 / rate;
    const total = Math.round(rate * seconds);
    const start = performance.now();
    const pending: Promise<void>[] = [];
    for (let i = 0; i < total; i++) {
      const due = start + i * period;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      pending.push(statements(pool).then(() => void times.push(performance.now() - due)));
    }
    await Promise.all(pending);
  } else {
    const until = performance.now() + seconds * 1000;
    await Promise.all(
      Array.from({ length: connections }, async () => {
        while (performance.now() < until) {
          const t = performance.now();
          await statements(pool);
          times.push(performance.now() - t);
        }
      }),
    );
  }
  times.sort((a, b) => a - b);
  const p = (q: number) => round(times[Math.min(times.length - 1, Math.floor(q * times.length))], 2);
  return { requestsPerSecond: round(times.length / seconds, 1), p50: p(0.5), p95: p(0.95), p99: p(0.99) };
}

/**
 * Waits (at most 60 s) until MariaDB has purged old row versions and flushed the dirty pages of the
 * setup's inserts (150,000 daily rows) down to its idle level, about 40 % of the buffer pool here:
 * measured right after the setup, the usage p99 met that background work (30 ms, against 13 ms
 * a minute later). Returns how long it waited.
 */
async function settleDatabase(pool: mysql.Pool): Promise<{ waitedMs: number; dirtyShare: number }> {
  const started = performance.now();
  for (;;) {
    const [rows] = (await pool.query(
      `SHOW GLOBAL STATUS WHERE Variable_name IN
         ('Innodb_buffer_pool_pages_dirty', 'Innodb_buffer_pool_pages_total', 'Innodb_history_list_length')`,
    )) as unknown as [{ Variable_name: string; Value: string }[]];
    const value = (name: string) => Number(rows.find((r) => r.Variable_name === name)?.Value ?? 0);
    const dirtyShare =
      value('Innodb_buffer_pool_pages_dirty') / Math.max(1, value('Innodb_buffer_pool_pages_total'));
    const waitedMs = round(performance.now() - started, 0);
    if ((value('Innodb_history_list_length') < 100 && dirtyShare <= 0.4) || waitedMs > 60_000)
      return { waitedMs, dirtyShare: round(dirtyShare, 2) };
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

async function setup(fleet: Fleet) {
  const whmcs = new WhmcsFixtures(fleet.db);
  await whmcs.client({ id: 1 });
  const serviceId = fleet.simRouters[0].firstIndex;
  const [server] = (await fleet.db.query('SELECT MIN(id) AS id FROM tblservers')) as { id: number }[];
  await whmcs.service({ id: serviceId, userid: 1, packageid: fleet.productId, server: server.id });
  // 30 days of daily totals for every account, so the usage query reads from a table of realistic size.
  await fleet.db.query(
    `INSERT INTO mod_mikrotikvpn_traffic_daily (account_id, day, download_bytes, upload_bytes, balance_after_bytes)
     SELECT a.id, DATE_SUB(UTC_DATE(), INTERVAL d.n DAY), 1000000 * (d.n + 1), 100000 * (d.n + 1), 1000000000
       FROM mod_mikrotikvpn_accounts a
       CROSS JOIN (WITH RECURSIVE seq AS (SELECT 0 AS n UNION ALL SELECT n + 1 FROM seq WHERE n < ${DAYS}) SELECT n FROM seq) d`,
  );
  return serviceId;
}

async function startProductServer(
  fleet: Fleet,
  databaseUrl: string,
  cpuProfDir?: string,
): Promise<TestServer> {
  const server = await startServer({
    // Where the time goes in the server: a V8 CPU profile written when it stops.
    ...(cpuProfDir
      ? {
          NODE_OPTIONS: `--require ${path.join(__dirname, 'cpu-profile-preload.js')}`,
          BENCH_CPU_PROF_DIR: cpuProfDir,
        }
      : {}),
    DATABASE_URL: databaseUrl,
    ENCRYPTION_KEY: fleet.env.ENCRYPTION_KEY,
    COLLECT_INTERVAL_SECONDS: '0',
    NODE_ENV: 'production',
    // As deployed (deploy/env.example): the tests' debug level adds a log line per request.
    LOG_LEVEL: 'info',
  });
  await waitForHealthy(server);
  return server;
}

export async function graphqlScenario(o: {
  seconds: number;
  connections: number;
  rate: number;
  cpuProfDir?: string;
  /** A local MariaDB's Unix socket: the server and the SQL it is compared with both use it. */
  dbSocket?: string;
}) {
  const fleet = await startFleet({
    routers: ROUTERS,
    accounts: ACCOUNTS_PER_ROUTER,
    latencyMs: 5,
    connectedShare: 0.5,
    interleave: true,
  });
  const servers: TestServer[] = [];
  const counter = await SqlCounter.start({ host: fleet.tdb.config.host, port: fleet.tdb.config.port });
  const pool = mysql.createPool({
    ...fleet.tdb.config,
    ...(o.dbSocket ? { socketPath: o.dbSocket } : {}),
    connectionLimit: o.connections,
  });
  const serverUrl = o.dbSocket ? `${fleet.tdb.url}?socket=${encodeURIComponent(o.dbSocket)}` : fleet.tdb.url;
  if (o.cpuProfDir) mkdirSync(o.cpuProfDir, { recursive: true });
  try {
    const serviceId = await setup(fleet);
    const admin = await createApiKey(fleet.tdb.url, 'bench', 'admin');
    const server = await startProductServer(fleet, serverUrl, o.cpuProfDir);
    servers.push(server);
    const minted = await gql(
      server.url,
      `mutation($c: Int!, $s: [Int!]!) { mintClientToken(clientId: $c, serviceIds: $s, ttlSeconds: 3600) { token } }`,
      { c: 1, s: [serviceId] },
      admin,
    );
    if (minted.errors) throw new Error(JSON.stringify(minted.errors));
    const client = minted.data!.mintClientToken.token as string;
    const to = new Date();
    const from = new Date(to.getTime() - DAYS * 86_400_000);
    const usageVars = { s: serviceId, from: from.toISOString(), to: to.toISOString() };

    // Each query answers correctly before it is measured.
    const usage = await gql(server.url, USAGE, usageVars, client);
    if (usage.errors || usage.data!.vpnAccount.usage.length < DAYS)
      throw new Error(`usage query: ${JSON.stringify(usage.errors ?? usage.data)}`);
    const list = await gql(server.url, LIST, {}, admin);
    const nodes = list.data?.vpnAccounts.nodes as { connection: { online: boolean } }[] | undefined;
    if (list.errors || nodes?.length !== 100 || !nodes.some((n) => n.connection.online))
      throw new Error(`account list: ${JSON.stringify(list.errors ?? list.data)}`);

    // Router commands per request (the simulators' own log), on a warm router session.
    await fleet.clearSimLog();
    await gql(server.url, LIST, {}, admin);
    const listCommands = (await fleet.simStats()).map((s) => s.commands + s.logins);

    // SQL statements per request, on the wire, through a second server process.
    const counted = await startProductServer(
      fleet,
      fleet.tdb.url.replace(`:${fleet.tdb.config.port}/`, `:${counter.port}/`),
    );
    servers.push(counted);
    const sqlPer = async (query: string, vars: Record<string, unknown>, token: string) => {
      await gql(counted.url, query, vars, token); // warm: connections open, nothing cached per request
      // Counted request by request; the median leaves out a statement the server's pool or a
      // background task happens to send during one of them.
      const counts: number[] = [];
      let byKind: Record<string, number> = {};
      let texts: string[] = [];
      counter.captureTexts = true;
      for (let i = 0; i < 20; i++) {
        counter.reset();
        counter.texts = [];
        await gql(counted.url, query, vars, token);
        counts.push(counter.statements);
        byKind = { ...counter.byKind };
        texts = counter.texts.map((t) => t.replace(/\s+/g, ' ').trim().slice(0, 160));
      }
      counter.captureTexts = false;
      return { perRequest: median(counts), max: Math.max(...counts), byKind, texts };
    };
    const usageSql = await sqlPer(USAGE, usageVars, client);
    // Whatever the range: a one-day and the longest daily range cost the same statements.
    const oneDaySql = await sqlPer(
      USAGE,
      { ...usageVars, from: new Date(to.getTime() - 86_400_000).toISOString() },
      client,
    );
    const listSql = await sqlPer(LIST, {}, admin);
    await counted.stop();
    servers.pop();

    // The setup wrote 150,000 daily rows: let InnoDB finish flushing and purging them first, or the
    // first load meets the database's background work (the raw SQL alone showed a p99 of 66–102 ms).
    const settled = await settleDatabase(pool);
    const common = { url: server.url, connections: o.connections, rate: o.rate, seconds: o.seconds };
    await load({
      ...common,
      seconds: 2,
      body: JSON.stringify({ query: USAGE, variables: usageVars }),
      token: client,
    }); // warm-up
    // With --server-cpu-prof: one profile section per load (0: start and warm-up, 1: usage, 2: list).
    const section = () => o.cpuProfDir && server.process.kill('SIGUSR2');
    section();
    // The server's own CPU time per request (user + system, from /proc): less noisy than latency
    // on a shared machine, and what a cheaper request path shows first.
    const cpuPerRequest = async (run: () => Promise<Load>) => {
      const before = processCpuMs(server.process.pid);
      const result = await run();
      const after = processCpuMs(server.process.pid);
      const cpuMs = before === null || after === null ? null : round((after - before) / result.requests, 3);
      return { ...result, serverCpuMsPerRequest: cpuMs };
    };
    const usageLoad = await cpuPerRequest(() =>
      load({ ...common, body: JSON.stringify({ query: USAGE, variables: usageVars }), token: client }),
    );
    section();
    const listLoad = await cpuPerRequest(() =>
      load({ ...common, rate: 0, body: JSON.stringify({ query: LIST }), token: admin }),
    );

    const [[account]] = (await pool.query('SELECT id FROM mod_mikrotikvpn_accounts WHERE service_id = ?', [
      serviceId,
    ])) as unknown as [{ id: number }[]];
    // The statements the server sends for one usage request (sqlTexts in the results), one after
    // the other as it sends them: the token's standing, the account, the days with their credits.
    const day = (d: Date) => d.toISOString().slice(0, 10);
    const usageStatements = async (p: mysql.Pool) => {
      await p.query(
        `SELECT EXISTS(SELECT 1 FROM mod_mikrotikvpn_client_token_revocations WHERE token_id = ?) AS revoked,
                  (SELECT COUNT(*) FROM tblhosting WHERE id IN (?) AND userid = ?) AS owned`,
        ['AAAAAAAAAAAAAAAAAAAAAA', serviceId, 1],
      );
      await p.query(
        'SELECT * FROM mod_mikrotikvpn_accounts WHERE service_id = ? ORDER BY status ASC, id DESC LIMIT 1',
        [serviceId],
      );
      const [rows] = await p.query(
        `(SELECT 0 AS part, DATE_FORMAT(day, '%Y-%m-%d') AS day, download_bytes, upload_bytes, balance_after_bytes, balance_at AS at, 0 AS id
              FROM mod_mikrotikvpn_traffic_daily WHERE account_id = ? AND day >= ? AND day <= ?)
           UNION ALL
           (SELECT 1, DATE_FORMAT(day, '%Y-%m-%d'), 0, 0, balance_after_bytes, balance_at, 0
              FROM mod_mikrotikvpn_traffic_daily WHERE account_id = ? AND day < ? ORDER BY day DESC LIMIT 1)
           UNION ALL
           (SELECT 2, NULL, bytes, 0, balance_after_bytes, at, id
              FROM mod_mikrotikvpn_traffic_topups WHERE account_id = ? AND at >= ? AND at < ?)
           UNION ALL
           (SELECT 3, NULL, 0, 0, balance_after_bytes, at, id
              FROM mod_mikrotikvpn_traffic_topups WHERE account_id = ? AND at < ? ORDER BY at DESC, id DESC LIMIT 1)`,
        [account.id, day(from), day(to), account.id, day(from), account.id, from, to, account.id, from],
      );
      return rows;
    };
    const usageRaw = await rawSql(pool, usageStatements, o.connections, Math.min(o.seconds, 5), o.rate);
    // The floor of an HTTP request: the same three statements behind a bare Node HTTP server (in
    // this process) answering their rows as JSON, offered the same way by the same load generator.
    // What the GraphQL path costs above it is ours; the hop itself is not.
    const bare = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        usageStatements(pool).then(
          (rows) => {
            const text = JSON.stringify({ data: rows });
            res.writeHead(200, {
              'content-type': 'application/json',
              'content-length': Buffer.byteLength(text),
            });
            res.end(text);
          },
          () => {
            res.statusCode = 500;
            res.end();
          },
        );
      });
    });
    await new Promise<void>((resolve) => bare.listen(0, '127.0.0.1', resolve));
    const bareUrl = `http://127.0.0.1:${(bare.address() as AddressInfo).port}`;
    const usageBare = await load({
      ...common,
      url: bareUrl,
      body: '{}',
      token: client,
      seconds: Math.min(o.seconds, 5),
    });
    bare.close();
    const listRaw = await rawSql(
      pool,
      async (p) => {
        await p.query('SELECT * FROM mod_mikrotikvpn_api_keys WHERE key_hash = ? LIMIT 1', ['x'.repeat(64)]);
        await p.query('SELECT * FROM mod_mikrotikvpn_accounts WHERE id > 0 ORDER BY id LIMIT 101');
        await p.query(
          `SELECT * FROM mod_mikrotikvpn_routers WHERE id IN (${Array(ROUTERS).fill('?').join(',')})`,
          [1, 2, 3, 4, 5],
        );
      },
      o.connections,
      Math.min(o.seconds, 5),
    );
    // The list without GraphQL: the same SQL and the same router reads (one print per router,
    // through the product's gateway, in this process).
    const listDirect = await rawSql(
      pool,
      async (p) => {
        await p.query('SELECT * FROM mod_mikrotikvpn_accounts WHERE id > 0 ORDER BY id LIMIT 101');
        await Promise.all(fleet.targets.map((t) => fleet.services.gateway.listActiveSessions(t)));
      },
      o.connections,
      Math.min(o.seconds, 5),
    );

    const row = (
      l: Load & { serverCpuMsPerRequest: number | null },
      sql: number,
      commands: string,
      raw: { p50: number; p99: number; requestsPerSecond: number },
      bareHttp?: Load,
    ) => ({
      'req/s': l.requestsPerSecond,
      'p50 ms': l.p50,
      'p95 ms': l.p95,
      'p99 ms': l.p99,
      errors: l.non2xx + l.errors,
      'server CPU ms/req': l.serverCpuMsPerRequest,
      'SQL/req': sql,
      'router cmds/req': commands,
      'same work without GraphQL p50/p99 ms': `${raw.p50}/${raw.p99}`,
      'GraphQL / without, p50': round(l.p50 / raw.p50, 1),
      'same SQL behind bare HTTP p50/p99 ms': bareHttp ? `${bareHttp.p50}/${bareHttp.p99}` : '',
    });
    return {
      seconds: o.seconds,
      connections: o.connections,
      rate: o.rate,
      databaseTransport: o.dbSocket ? `unix socket ${o.dbSocket}` : 'tcp',
      routerLatencyMs: 5,
      accounts: ROUTERS * ACCOUNTS_PER_ROUTER,
      databaseSettled: settled,
      usage: {
        load: usageLoad,
        sqlPerRequest: usageSql.perRequest,
        sqlPerRequestMax: usageSql.max,
        sqlPerRequestOneDay: oneDaySql.perRequest,
        sqlByKind: usageSql.byKind,
        sqlTexts: usageSql.texts,
        raw: usageRaw,
        bareHttp: usageBare,
        ratioToBareHttp: round(usageLoad.p50 / usageBare.p50, 2),
        targets: { p99Ms: 20, p50RatioToSql: 3, errors: 0, requestsPerSecond: o.rate, sqlPerRequest: 3 },
        ratioToSql: round(usageLoad.p50 / usageRaw.p50, 2),
        met:
          usageLoad.p99 <= 20 &&
          usageLoad.p50 <= 3 * usageRaw.p50 &&
          usageLoad.non2xx + usageLoad.errors === 0 &&
          usageLoad.requestsPerSecond >= o.rate * 0.95 &&
          usageSql.perRequest <= 3 &&
          oneDaySql.perRequest <= 3,
      },
      list: {
        load: listLoad,
        sqlPerRequest: listSql.perRequest,
        sqlPerRequestMax: listSql.max,
        sqlByKind: listSql.byKind,
        sqlTexts: listSql.texts,
        routerCommandsPerRouter: listCommands,
        raw: listRaw,
        sqlAndRouterReadsDirect: listDirect,
        ratioToDirect: round(listLoad.p50 / listDirect.p50, 2),
        targets: { p50RatioToDirect: 1.2, errors: 0 },
        met: listLoad.p50 <= 1.2 * listDirect.p50 && listLoad.non2xx + listLoad.errors === 0,
      },
      table: {
        [`usage, 30 days daily (client token, ${o.rate} req/s offered)`]: row(
          usageLoad,
          usageSql.perRequest,
          '0',
          usageRaw,
          usageBare,
        ),
        'account list, 100 with live status (admin key, closed loop)': row(
          listLoad,
          listSql.perRequest,
          `${[...new Set(listCommands)].join('/')} per router (${ROUTERS} routers)`,
          listDirect,
        ),
      },
    };
  } finally {
    for (const s of servers) await s.stop();
    await pool.end();
    await counter.close();
    await fleet.stop();
  }
}
