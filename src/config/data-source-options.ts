import path from 'node:path';
import { format } from 'mysql2';
import type { DataSourceOptions } from 'typeorm';
import type { DatabaseConfig } from './app-config';
import { ALL_ENTITIES } from '../entities';

/** TypeORM options for the WHMCS database. `synchronize` is off: our tables come from migrations only. */
export function dataSourceOptions(
  db: DatabaseConfig,
  extra: Partial<DataSourceOptions> = {},
): DataSourceOptions {
  return {
    type: 'mysql',
    connectorPackage: 'mysql2',
    host: db.host,
    port: db.port,
    ...(db.socketPath ? { socketPath: db.socketPath } : {}),
    username: db.user,
    password: db.password,
    database: db.database,
    charset: 'utf8mb4',
    // Dates are stored and read in UTC; day boundaries for customers use the configured WHMCS time zone.
    timezone: 'Z',
    synchronize: false,
    migrationsRun: false,
    migrationsTableName: 'mod_mikrotikvpn_migrations',
    migrations: [path.join(__dirname, '..', '..', 'migrations', '*.js')],
    entities: ALL_ENTITIES,
    // BIGINT columns arrive as strings (exact); conversion to bigint happens in src/common/bytes.ts.
    supportBigNumbers: true,
    bigNumberStrings: true,
    connectTimeout: 5000,
    extra: { connectionLimit: 10, enableKeepAlive: true, queryFormat },
    ...extra,
  } as DataSourceOptions;
}

/**
 * How the driver puts values into a statement: as its default does, except that a statement without
 * values is sent as written. The default scans every statement for placeholders even then, and a
 * router's batch statements are written out in full (a 2,500-row insert is about 300 kB of text).
 */
export function queryFormat(
  this: { config: { stringifyObjects?: boolean } },
  sql: string,
  values: unknown,
  timezone: string,
): string {
  if (values === undefined || values === null || (Array.isArray(values) && values.length === 0)) return sql;
  return format(sql, values as Parameters<typeof format>[1], this.config.stringifyObjects ?? false, timezone);
}
