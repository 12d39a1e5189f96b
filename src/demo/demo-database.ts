import mysql from 'mysql2/promise';
import { DataSource } from 'typeorm';
import type { DatabaseConfig } from '../config/app-config';
import { loadDatabaseConfig } from '../config/app-config';
import { dataSourceOptions } from '../config/data-source-options';
import { startPrivateMariaDb, type PrivateMariaDb } from './private-mariadb';
import { ApiKeyService } from '../services/api-key.service';
import { ensureMariaDbInstalled } from './ensure-mariadb';
import { createWhmcsTables } from './whmcs-tables';
import { WhmcsRows } from './whmcs-rows';

/** The name of the database the demo creates on its private MariaDB. */
const PRIVATE_DATABASE = 'whmcs';
/** A tblconfiguration setting that marks a database the demo made (and may therefore empty again). */
const DEMO_MARKER = 'MikrotikVpnDemo';

export interface DemoDatabase {
  config: DatabaseConfig;
  /** The private server the demo started, or null when DATABASE_URL / DB_* named one. */
  server: PrivateMariaDb | null;
}

/** DATABASE_URL / DB_* when set; otherwise a private MariaDB on a free port and a temporary data directory. */
export async function openDemoDatabase(
  env: Record<string, string | undefined>,
  print: (line: string) => void,
): Promise<DemoDatabase> {
  if (env.DATABASE_URL?.trim() || env.DB_NAME?.trim()) {
    return { config: loadDatabaseConfig(env), server: null };
  }
  ensureMariaDbInstalled(print);
  const log: string[] = [];
  let server: PrivateMariaDb;
  try {
    server = await startPrivateMariaDb({ onLog: (line) => log.push(line) });
  } catch (error) {
    throw new Error(`${(error as Error).message}\n  ${log.slice(-15).join('\n  ')}`);
  }
  const { host, port, user, password } = server;
  return { config: { host, port, user, password, database: PRIVATE_DATABASE }, server };
}

/** What the demo wrote into WHMCS's tables, for provisioning through the API. */
export interface DemoSeed {
  clientId: number;
  productId: number;
  routers: Array<{ serverId: number; services: Array<{ serviceId: number; username: string }> }>;
  addon: { hostingAddonId: number; serviceId: number; name: string; gb: number; regdate: string };
  /** One WireGuard account on the first router. */
  wireGuard: { serviceId: number; username: string; productId: number };
}

export const DEMO_ROUTER_COUNT = 2;
export const DEMO_ACCOUNTS_PER_ROUTER = 3;

/**
 * Makes the database ready: WHMCS's tables (in an empty database, or emptied again in one the demo
 * made before), our migrations, a demo client, product, addon and two servers with services, and an
 * admin API key. Refuses a database that holds anything else: the demo never touches real WHMCS data.
 */
export async function prepareDemoDatabase(
  config: DatabaseConfig,
): Promise<{ seed: DemoSeed; apiKey: string }> {
  const { host, port, user, password, database } = config;
  const admin = await mysql.createConnection({ host, port, user, password, multipleStatements: true });
  try {
    await admin.query(
      `CREATE DATABASE IF NOT EXISTS \`${database}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`,
    );
    await admin.query(`USE \`${database}\``);
    const tables = ((await admin.query('SHOW TABLES'))[0] as Record<string, string>[]).map(
      (row) => Object.values(row)[0],
    );
    if (tables.length === 0) {
      await createWhmcsTables(admin);
      await admin.query(`INSERT INTO tblconfiguration (setting, value) VALUES (?, 'yes')`, [DEMO_MARKER]);
    } else {
      const marked =
        tables.includes('tblconfiguration') &&
        (
          (
            await admin.query('SELECT 1 FROM tblconfiguration WHERE setting = ?', [DEMO_MARKER])
          )[0] as unknown[]
        ).length > 0;
      if (!marked) {
        throw new Error(
          `the database ${database} is not empty and was not made by the demo: the demo only fills an ` +
            'empty database (or its own from an earlier run). Unset DATABASE_URL to use a private MariaDB.',
        );
      }
      // Our own earlier demo: start again from nothing (the simulated routers are new as well).
      await admin.query('SET FOREIGN_KEY_CHECKS = 0');
      for (const table of tables) {
        if (table !== 'tblconfiguration' && table !== 'mod_mikrotikvpn_migrations') {
          await admin.query(`TRUNCATE TABLE \`${table}\``);
        }
      }
      await admin.query('SET FOREIGN_KEY_CHECKS = 1');
    }
  } finally {
    await admin.end();
  }

  const db = new DataSource(dataSourceOptions(config));
  await db.initialize();
  try {
    await db.runMigrations({ transaction: 'each' });
    const seed = await seedWhmcs(new WhmcsRows(db));
    const { key } = await new ApiKeyService(db).create('demo', 'admin');
    return { seed, apiKey: key };
  } finally {
    await db.destroy();
  }
}

/** One client with a 50 GB product on two routers (three services each), and a 10 GB traffic addon. */
async function seedWhmcs(rows: WhmcsRows): Promise<DemoSeed> {
  const clientId = await rows.client({ firstname: 'Ada', lastname: 'Lovelace', email: 'ada@example.test' });
  const productId = await rows.product({
    name: 'VPN 50 GB',
    settings: {
      commentPrefix: 'WHMCS-',
      profile: 'default-encryption',
      service: 'l2tp',
      downloadMbps: '50',
      uploadMbps: '10',
      trafficMonthlyGb: '50',
      lowTrafficThresholdGb: '5',
    },
  });
  // WireGuard beside PPP: the same billing, a peer on the router's wg-vpn interface instead of a secret.
  const wireGuardProductId = await rows.product({
    name: 'WireGuard 50 GB',
    settings: {
      commentPrefix: 'WHMCS-',
      service: 'wireguard',
      wgInterface: 'wg-vpn',
      wgClient: 'DNS = 1.1.1.1, 1.0.0.1\nAllowedIPs = 0.0.0.0/0, ::/0\nPersistentKeepalive = 25',
      downloadMbps: '100',
      uploadMbps: '20',
      trafficMonthlyGb: '50',
      lowTrafficThresholdGb: '5',
    },
  });
  const routers: DemoSeed['routers'] = [];
  for (let r = 1; r <= DEMO_ROUTER_COUNT; r++) {
    const serverId = await rows.server({
      name: `Demo router ${r}`,
      ipaddress: '127.0.0.1',
      assignedips: Array.from({ length: 20 }, (_, i) => `10.8${r}.0.${i + 2}`),
    });
    const services: DemoSeed['routers'][number]['services'] = [];
    for (let s = 1; s <= DEMO_ACCOUNTS_PER_ROUTER; s++) {
      const username = `demo-r${r}-${s}`;
      const serviceId = await rows.service({
        userid: clientId,
        packageid: productId,
        server: serverId,
        username,
        domainstatus: 'Active',
      });
      services.push({ serviceId, username });
    }
    routers.push({ serverId, services });
  }
  const wireGuardServiceId = await rows.service({
    userid: clientId,
    packageid: wireGuardProductId,
    server: routers[0].serverId,
    username: 'demo-wg-1',
    domainstatus: 'Active',
  });
  const addonName = 'Extra 10 GB';
  const addonId = await rows.addon({ name: addonName, packages: [productId], gb: 10, price: 5 });
  const serviceId = routers[0].services[0].serviceId;
  const hostingAddonId = await rows.hostingAddon({ serviceId, addonId, userid: clientId, name: addonName });
  return {
    clientId,
    productId,
    routers,
    wireGuard: { serviceId: wireGuardServiceId, username: 'demo-wg-1', productId: wireGuardProductId },
    addon: { hostingAddonId, serviceId, name: addonName, gb: 10, regdate: '2026-11-01' },
  };
}
