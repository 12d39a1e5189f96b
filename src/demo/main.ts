import QRCode from 'qrcode';
import 'reflect-metadata';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DataSource } from 'typeorm';
import { dataSourceOptions } from '../config/data-source-options';
import { backfillHistory, HISTORY_DAYS } from './history';
import { previewRoutes } from './preview-page';
import { generateKeyLine } from '../auth/secret-box';
import { loadConfig } from '../config/app-config';
import { createLogger } from '../common/logger';
import { startServer } from '../server';
import {
  DEMO_ACCOUNTS_PER_ROUTER,
  DEMO_ROUTER_COUNT,
  openDemoDatabase,
  prepareDemoDatabase,
} from './demo-database';
import { provisionThroughApi } from './provision';
import { simulateCustomers, simulatorAvailable, startDemoRouters } from './simulated-routers';
import { WHMCS_TABLES_SQL } from './whmcs-tables';

/**
 * `npm run demo`: the whole product on one machine with no configuration — a private MariaDB (unless
 * DATABASE_URL / DB_* names a database), WHMCS's tables with a demo client, product, addon and servers,
 * two simulated RouterOS routers whose accounts are online and use traffic, the GraphQL server with its
 * collector, and the offline explorer. Ctrl-C (or SIGTERM) stops everything it started. See docs/demo.md.
 */
const print = (line = '') => process.stdout.write(`${line}\n`);

type Running = { what: string; stop: () => Promise<void> | void };

/** What was started, newest last; stopped in reverse order. */
const running: Running[] = [];
/** The start-up step under way: a Ctrl-C waits for it, so that what it starts is stopped too. */
let inFlight: Promise<unknown> = Promise.resolve();
let stopping = false;
const never = () => new Promise<never>(() => undefined);

/** Runs one start-up step and records how to undo it; once stopping, nothing more is started. */
async function step<T>(work: () => Promise<T>, undo?: (value: T) => Running | null): Promise<T> {
  if (stopping) return never();
  const promise = work();
  inFlight = promise.then(
    (value) => {
      const item = undo?.(value);
      if (item) running.push(item);
    },
    () => undefined,
  );
  const value = await promise;
  await inFlight;
  return stopping ? never() : value;
}

async function stopEverything(reason: string, exitCode: number): Promise<never> {
  if (stopping) return never();
  stopping = true;
  print(`\n${reason}: stopping the demo…`);
  // Never hang on the way out; the private MariaDB is killed with us in any case (see private-mariadb.ts).
  setTimeout(() => {
    print('Stopping took too long; exiting.');
    process.exit(1);
  }, 45_000).unref();
  await inFlight;
  for (const item of running.reverse()) {
    try {
      await item.stop();
      print(`  stopped ${item.what}`);
    } catch (error) {
      print(`  could not stop ${item.what}: ${(error as Error).message}`);
      exitCode = 1;
    }
  }
  print(exitCode === 0 ? 'Demo stopped; nothing it started is left running.' : 'Demo stopped.');
  process.exit(exitCode);
}

async function main(): Promise<void> {
  const startedAt = Date.now();
  process.on('SIGINT', () => void stopEverything('Ctrl-C', 0));
  process.on('SIGTERM', () => void stopEverything('SIGTERM', 0));
  print('Starting the whmcs-mikrotik-vpn demo (Ctrl-C stops it)…');
  if (!simulatorAvailable() || !fs.existsSync(WHMCS_TABLES_SQL)) {
    // The release package ships the server only; the demo's routers and WHMCS tables are in the repository.
    throw new Error('the demo runs from a clone of the repository: `npm ci && npm run demo`');
  }

  const env = { ...process.env };
  const database = await step(
    () => openDemoDatabase(env, print),
    ({ server }) =>
      server && { what: `the private MariaDB on ${server.host}:${server.port}`, stop: () => server.stop() },
  );
  const { host, port, database: name } = database.config;
  if (database.server) {
    print(`  MariaDB: a private server on ${host}:${port} (temporary data directory, removed at the end)`);
    env.DATABASE_URL = `${database.server.url}${name}`;
  } else {
    print(`  MariaDB: database ${name} at ${host}:${port} (from DATABASE_URL / DB_*)`);
  }

  const { seed, apiKey } = await step(() => prepareDemoDatabase(database.config));
  const accounts = DEMO_ROUTER_COUNT * DEMO_ACCOUNTS_PER_ROUTER;
  print(
    `  Database: migrations applied; WHMCS tables with a client, a product, an addon, ${DEMO_ROUTER_COUNT} servers`,
  );

  const routers = await step(
    () => startDemoRouters(DEMO_ROUTER_COUNT),
    (started) => ({
      what: `${started.length} simulated routers`,
      stop: async () => void (await Promise.all(started.map((r) => r.sim.close()))),
    }),
  );
  print(
    `  Routers: ${routers.length} simulated RouterOS 7 routers (api-ssl on ports ${routers.map((r) => r.sim.port).join(', ')})`,
  );

  // A key made for this run, in a file of its own (mode 600, removed at the end) so that the CLI can
  // reach the running demo; a key the caller gave is used instead.
  let keyFile = env.ENCRYPTION_KEY_FILE;
  if (!keyFile && !env.ENCRYPTION_KEY) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mvpn-demo-key-'));
    keyFile = path.join(dir, 'encryption.keys');
    fs.writeFileSync(keyFile, `${generateKeyLine('demo')}\n`, { mode: 0o600 });
    running.push({ what: 'the demo key file', stop: () => fs.rmSync(dir, { recursive: true, force: true }) });
  }
  const config = loadConfig({
    ...env,
    NODE_ENV: env.NODE_ENV || 'development',
    ...(keyFile ? { ENCRYPTION_KEY_FILE: keyFile, ENCRYPTION_KEY: undefined } : {}),
    COLLECT_INTERVAL_SECONDS: env.COLLECT_INTERVAL_SECONDS || '10',
    GRAPHQL_EXPLORER: env.GRAPHQL_EXPLORER || 'true',
    LOG_LEVEL: env.LOG_LEVEL || 'warn',
  });
  const log = createLogger(config.logLevel);
  const server = await step(
    () =>
      startServer(config, log, {
        explorerApiKey: apiKey,
        routes: previewRoutes({
          apiKey,
          clientId: seed.clientId,
          services: [
            ...seed.routers.flatMap((r) => r.services.map((x) => ({ ...x, product: 'VPN 50 GB' }))),
            {
              serviceId: seed.wireGuard.serviceId,
              username: seed.wireGuard.username,
              product: 'WireGuard 50 GB',
            },
          ],
        }),
      }),
    (started) => ({ what: 'the GraphQL server and its traffic collector', stop: () => started.stop() }),
  );
  await step(() => server.database.start());
  const shownHost = ['0.0.0.0', '::'].includes(config.host) ? '127.0.0.1' : config.host;
  const url = `http://${shownHost.includes(':') ? `[${shownHost}]` : shownHost}:${server.port}`;

  const provisioned = await step(() => provisionThroughApi(url, apiKey, seed, routers));
  // Two months of past for every account; one near its limit, one past it (limited at the next collection).
  const [nearLimit, overLimit] = [
    seed.routers[1].services[1].serviceId,
    seed.routers[1].services[2].serviceId,
  ];
  await step(async () => {
    const db = new DataSource(dataSourceOptions(config.database));
    await db.initialize();
    try {
      await backfillHistory(db, {
        timeZone: config.timeZone,
        serviceIds: [
          ...seed.routers.flatMap((r) => r.services.map((x) => x.serviceId)),
          seed.wireGuard.serviceId,
        ],
        addonServiceId: seed.addon.serviceId,
        nearLimit,
        overLimit,
      });
    } finally {
      await db.destroy();
    }
  });
  await step(
    async () =>
      simulateCustomers(
        seed.routers.map((r, i) => ({ router: routers[i], usernames: r.services.map((s) => s.username) })),
        { router: routers[0], publicKey: provisioned.wireGuardPublicKey },
      ),
    (customers) => ({ what: "the simulated customers' traffic", stop: () => customers.stop() }),
  );
  print(
    `  Accounts: ${accounts + 1} created through createVpnAccount (${accounts} PPP, 1 WireGuard); ${accounts - DEMO_ROUTER_COUNT + 1} online, using traffic`,
  );
  print(
    `  History: ${HISTORY_DAYS} days of traffic per account, renewals and the bought addon; service ${nearLimit} is close to its limit, service ${overLimit} past it`,
  );
  print(`  Collector: every ${config.collectIntervalSeconds} s`);

  const query = JSON.stringify({
    query:
      '{ vpnAccounts(first: 10) { nodes { username status connection { online } traffic { usedThisCycleBytes } } } }',
  });
  print();
  print(`Demo ready in ${((Date.now() - startedAt) / 1000).toFixed(1)} s.`);
  print();
  print(`  Explorer: ${url}/explorer`);
  print(`  GraphQL:  ${url}/graphql`);
  print(`  API key:  ${apiKey}`);
  print();
  print('  The explorer is served by this server (no internet needed) with the key pre-filled. Or:');
  print(`  curl -s ${url}/graphql -H 'content-type: application/json' \\`);
  print(`    -H 'authorization: Bearer ${apiKey}' \\`);
  print(`    -d '${query}'`);
  print();
  print(
    `  WireGuard: service ${seed.wireGuard.serviceId} (${seed.wireGuard.username}); its config as the customer scans it:`,
  );
  print(await QRCode.toString(provisioned.wireGuardConfig, { type: 'terminal', small: true }));
  print(
    `  The same config and an SVG of this code: { vpnAccount(serviceId: ${seed.wireGuard.serviceId}) { wireGuardConfig { fileName text qrSvg } } }`,
  );
  print(`  Client area: ${url}/demo (the module's usage page for each service, with its client token)`);
  print();
  print('  The CLI reaches this demo with:');
  // The private MariaDB has no password; a database of the caller's is theirs to name.
  print(`    export DATABASE_URL='${database.server ? env.DATABASE_URL : '<the DATABASE_URL you gave>'}'`);
  print(`    export ENCRYPTION_KEY_FILE='${keyFile ?? '(your ENCRYPTION_KEY_FILE)'}'`);
  print(`    export WHMCS_TIME_ZONE='${config.timeZone}'`);
  print('    npx whmcs-mikrotik-vpn doctor      # or: collect, reconcile, apikey list');
  print();
  print('  The routers are simulated (RouterOS API simulator from test/simulator); see docs/demo.md.');
  print('  Press Ctrl-C to stop everything the demo started.');
}

main().catch((error: Error & { code?: string }) => {
  if (stopping) return; // a start-up step failed because we are stopping (e.g. Ctrl-C reached mariadbd)
  print(`Demo failed: ${error.message}`);
  if (error.code === 'EADDRINUSE')
    print('  Another program has that port: set PORT=0 (any free port) or PORT=<port>.');
  void stopEverything('Failure', 1);
});
