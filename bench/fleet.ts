import type { ChildProcess } from 'node:child_process';
import { DataSource } from 'typeorm';
import { createTestDatabase, type TestDatabase } from '../test/helpers/test-db';
import { WhmcsFixtures } from '../test/helpers/whmcs-fixtures';
import { seededAddress, seededPublicKey } from '../test/simulator/seed-accounts';
import { loadConfig } from '../src/config/app-config';
import { dataSourceOptions } from '../src/config/data-source-options';
import { generateKeyLine } from '../src/auth/secret-box';
import { createServices } from '../src/app-services';
import { systemContext } from '../src/context/request-context';
import type { RouterTarget } from '../src/router';
import { askSimHost, startSimHost, type SimHostRouter } from './bench-kit';
import { SqlCounter } from './sql-counter';

/**
 * A test database with `routers` × `accounts` VPN accounts on simulated routers (in their own
 * process), and the product's services on top, as the server builds them. The account of
 * simulated queue `vpn-<index>` has service id `<index>`, so the collector finds every queue.
 */
export interface Fleet {
  tdb: TestDatabase;
  db: DataSource;
  env: Record<string, string>;
  services: ReturnType<typeof createServices>;
  sim: ChildProcess;
  simRouters: SimHostRouter[];
  targets: RouterTarget[];
  routers: number;
  accountsPerRouter: number;
  productId: number;
  /** Services whose every SQL statement goes through `counter` (for counting, not for timing). */
  counted(): Promise<{ services: ReturnType<typeof createServices>; counter: SqlCounter }>;
  /**
   * Traffic through every queue, as in a busy collection interval: the next run has a delta for
   * every account. (Resetting our rows instead left MariaDB purging 100,000 deleted and updated
   * rows during the measured run.)
   */
  newTraffic(): Promise<void>;
  simStats(): Promise<SimStats[]>;
  clearSimLog(): Promise<void>;
  stop(): Promise<void>;
}

export interface SimStats {
  /** Commands other than /login since the last clear. */
  commands: number;
  logins: number;
  /** Connections accepted since the simulator started. */
  connections: number;
}

export async function startFleet(options: {
  routers: number;
  accounts: number;
  latencyMs: number;
  connectedShare?: number;
  /** Share of each router's accounts that are WireGuard accounts (peers on the router); default 0. */
  wireGuardShare?: number;
  maxConcurrent?: number;
  /** Accounts inserted round-robin over the routers (default: router by router). */
  interleave?: boolean;
}): Promise<Fleet> {
  const tdb = await createTestDatabase();
  const db = tdb.dataSource;
  const { child, routers: simRouters } = await startSimHost(options);
  const env: Record<string, string> = {
    DATABASE_URL: tdb.url,
    ENCRYPTION_KEY: generateKeyLine('bench'),
    ...(options.maxConcurrent ? { ROUTER_MAX_CONCURRENT: String(options.maxConcurrent) } : {}),
  };
  const config = loadConfig(env);
  const services = createServices(config, db);
  const whmcs = new WhmcsFixtures(db);
  const productId = await whmcs.product({ settings: { trafficMonthlyGb: '1000' } });
  const wireGuardProductId = await whmcs.product({
    name: 'WireGuard',
    settings: { trafficMonthlyGb: '1000', service: 'wireguard', wgInterface: 'wg-vpn' },
  });
  // The last accounts of each router are WireGuard ones, as the simulator seeds them.
  const wireGuardFrom = options.accounts - Math.round(options.accounts * (options.wireGuardShare ?? 0));
  const routerIds: number[] = [];
  for (const [r, sim] of simRouters.entries()) {
    const serverId = await whmcs.server({ name: `bench ${r}` });
    const result = await db.query(
      "INSERT INTO mod_mikrotikvpn_routers (server_id, name, host, port, tls, username, password_encrypted) VALUES (?, ?, '127.0.0.1', ?, 0, 'api', ?)",
      [serverId, `bench ${r}`, sim.port, services.secretBox.encrypt('bench')],
    );
    routerIds.push(result.insertId);
  }
  // Router by router, or (interleave) round-robin so that any page of accounts spans every router.
  const order: [number, number][] = [];
  for (let k = 0; k < options.accounts; k++) for (let r = 0; r < simRouters.length; r++) order.push([r, k]);
  if (!options.interleave) order.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  for (let i = 0; i < order.length; i += 5000) {
    const chunk = order.slice(i, i + 5000);
    await db.query(
      `INSERT INTO mod_mikrotikvpn_accounts (service_id, client_id, product_id, router_id, username, address, protocol, wg_public_key, status, billing_cycle, balance_bytes, cycle_allowance_bytes)
       VALUES ${chunk.map(() => "(?, 1, ?, ?, ?, ?, ?, ?, 'ACTIVE', 'Monthly', 1000000000000000, 1000000000000)").join(', ')}`,
      chunk.flatMap(([r, k]) => {
        const index = simRouters[r].firstIndex + k;
        const name = `vpn-${index}`;
        const wireguard = k >= wireGuardFrom;
        return [
          index,
          wireguard ? wireGuardProductId : productId,
          routerIds[r],
          name,
          seededAddress(index),
          wireguard ? 'wireguard' : 'ppp',
          wireguard ? seededPublicKey(name) : null,
        ];
      }),
    );
  }
  const extra: { services: ReturnType<typeof createServices>; counter: SqlCounter; db: DataSource }[] = [];
  const fleet: Fleet = {
    tdb,
    db,
    env,
    services,
    sim: child,
    simRouters,
    targets: simRouters.map((sim, r) => ({
      id: `bench-${r}`,
      host: '127.0.0.1',
      port: sim.port,
      tls: false,
      username: sim.username,
      password: sim.password,
      timeoutMs: 60_000,
    })),
    routers: options.routers,
    accountsPerRouter: options.accounts,
    productId,
    async counted() {
      const counter = await SqlCounter.start({ host: tdb.config.host, port: tdb.config.port });
      const viaCounter = { ...tdb.config, port: counter.port };
      const countedDb = new DataSource(dataSourceOptions(viaCounter));
      await countedDb.initialize();
      const countedServices = createServices({ ...config, database: viaCounter }, countedDb);
      extra.push({ services: countedServices, counter, db: countedDb });
      return { services: countedServices, counter };
    },
    async newTraffic() {
      await askSimHost(child, 'traffic');
    },
    simStats: () => askSimHost<SimStats[]>(child, 'stats'),
    clearSimLog: () => askSimHost(child, 'clear'),
    async stop() {
      for (const e of extra) {
        await e.services.routerPool.closeAll();
        await e.services.locks.close();
        await e.db.destroy();
        await e.counter.close();
      }
      await services.routerPool.closeAll();
      await services.locks.close();
      child.kill('SIGTERM');
      await tdb.drop();
    },
  };
  return fleet;
}

/** The context the server's collection job runs with. */
export function jobContext() {
  return systemContext('bench');
}
