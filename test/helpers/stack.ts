import type { DataSource } from 'typeorm';
import type { DatabaseConfig } from '../../src/config/app-config';
import { createTestDatabase, type TestDatabase } from './test-db';
import { gql, makeKeyFile, startServer, waitForHealthy, type TestServer } from './test-server';
import { createApiKey } from './cli';
import { WhmcsFixtures } from './whmcs-fixtures';
import {
  startSimulatedRouter,
  type SimulatedRouter,
  type SimulatedRouterOptions,
} from '../simulator/simulated-router';

/** Everything an end-to-end test needs: MariaDB, the server process, an admin key, simulated routers. */
export interface Stack {
  tdb: TestDatabase;
  db: DataSource;
  server: TestServer;
  admin: string;
  whmcs: WhmcsFixtures;
  routers: SimulatedRouter[];
  /** The environment the server runs with (database, encryption key), for the CLI. */
  env: Record<string, string>;
  /** Adds a simulated api-ssl router with a WHMCS server record and our router (pinned CA). */
  addRouter(
    options?: SimulatedRouterOptions & { assignedips?: string[] },
  ): Promise<{ sim: SimulatedRouter; serverId: number; routerId: string }>;
  stop(): Promise<void>;
}

export async function startStack(
  env: Record<string, string> = {},
  /** Another MariaDB than the shared one (a private one that a test may restart). */
  options: { dbServer?: Omit<DatabaseConfig, 'database'> } = {},
): Promise<Stack> {
  const tdb = await createTestDatabase({ server: options.dbServer });
  const serverEnv = {
    DATABASE_URL: tdb.url,
    ENCRYPTION_KEY_FILE: makeKeyFile(),
    ROUTER_TIMEOUT_MS: '3000',
    COLLECT_INTERVAL_SECONDS: '0',
    RECONCILE_INTERVAL_SECONDS: '0',
    ...env,
  };
  const server = await startServer(serverEnv);
  await waitForHealthy(server);
  const admin = await createApiKey(tdb.url, 'bridge', 'admin');
  const whmcs = new WhmcsFixtures(tdb.dataSource);
  const routers: SimulatedRouter[] = [];
  const stack: Stack = {
    tdb,
    db: tdb.dataSource,
    server,
    admin,
    whmcs,
    routers,
    env: serverEnv,
    async addRouter(options = {}) {
      const sim = await startSimulatedRouter({ tls: true, users: { api: 'router-pass' }, ...options });
      routers.push(sim);
      const serverId = await whmcs.server({
        name: `Router ${routers.length}`,
        assignedips: options.assignedips,
      });
      const r = await gql(
        stack.server.url,
        `mutation($input: RouterInput!) { upsertRouter(input: $input) { id } }`,
        {
          input: {
            serverId,
            host: '127.0.0.1',
            port: sim.port,
            tls: true,
            username: 'api',
            password: 'router-pass',
            caPem: sim.caPem,
          },
        },
        admin,
      );
      if (r.errors) throw new Error(JSON.stringify(r.errors));
      return { sim, serverId, routerId: r.data!.upsertRouter.id as string };
    },
    async stop() {
      // Tests may replace the server process (restarts): stop the current one.
      await stack.server.stop();
      await Promise.all(routers.map((r) => r.close()));
      await tdb.drop();
    },
  };
  return stack;
}
