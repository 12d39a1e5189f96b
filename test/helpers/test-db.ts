import 'reflect-metadata';
import crypto from 'node:crypto';
import mysql from 'mysql2/promise';
import { DataSource } from 'typeorm';
import { dataSourceOptions } from '../../src/config/data-source-options';
import type { DatabaseConfig } from '../../src/config/app-config';
import { createWhmcsTables } from '../../src/demo/whmcs-tables';

/** The MariaDB the tests create their database on (overridable for other machines). */
export function testServerConfig(): Omit<DatabaseConfig, 'database'> {
  return {
    host: process.env.TEST_DB_HOST ?? '127.0.0.1',
    port: Number(process.env.TEST_DB_PORT ?? 3306),
    user: process.env.TEST_DB_USER ?? 'root',
    password: process.env.TEST_DB_PASSWORD ?? '',
  };
}

export interface TestDatabase {
  config: DatabaseConfig;
  url: string;
  dataSource: DataSource;
  drop(): Promise<void>;
}

/** Creates a fresh database with WHMCS's tables (src/demo/whmcs-tables.sql), and optionally our migrations. */
export async function createTestDatabase(
  options: { migrate?: boolean; server?: Omit<DatabaseConfig, 'database'> } = {},
): Promise<TestDatabase> {
  const server = options.server ?? testServerConfig();
  const name = `mvpn_test_${process.pid}_${crypto.randomBytes(3).toString('hex')}`;
  const admin = await mysql.createConnection({ ...server, multipleStatements: true });
  try {
    await admin.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
    await admin.query(`USE \`${name}\``);
    await createWhmcsTables(admin);
  } finally {
    await admin.end();
  }
  const config: DatabaseConfig = { ...server, database: name };
  const dataSource = new DataSource(dataSourceOptions(config));
  await dataSource.initialize();
  if (options.migrate !== false) await dataSource.runMigrations({ transaction: 'each' });
  const auth = server.password
    ? `${encodeURIComponent(server.user)}:${encodeURIComponent(server.password)}`
    : server.user;
  return {
    config,
    url: `mysql://${auth}@${server.host}:${server.port}/${name}`,
    dataSource,
    async drop() {
      if (dataSource.isInitialized) await dataSource.destroy();
      const conn = await mysql.createConnection(server);
      await conn.query(`DROP DATABASE IF EXISTS \`${name}\``);
      await conn.end();
    },
  };
}

const TABLES_IN_DELETE_ORDER = [
  'mod_mikrotikvpn_client_token_revocations',
  'mod_mikrotikvpn_events',
  'mod_mikrotikvpn_api_keys',
  'mod_mikrotikvpn_notifications',
  'mod_mikrotikvpn_traffic_topups',
  'mod_mikrotikvpn_traffic_daily',
  'mod_mikrotikvpn_traffic_samples',
  'mod_mikrotikvpn_accounts',
  'mod_mikrotikvpn_routers',
  'tblhostingaddons',
  'tbladdons',
  'tblhosting',
  'tblservers',
  'tblproducts',
  'tblclients',
];

/** Empties every table (ours and WHMCS's) between suites. */
export async function resetData(db: DataSource): Promise<void> {
  for (const table of TABLES_IN_DELETE_ORDER) await db.query(`DELETE FROM ${table}`);
}
