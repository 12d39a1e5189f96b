import fs from 'node:fs';
import path from 'node:path';
import type mysql from 'mysql2/promise';

/**
 * WHMCS 8's own tables (the ones the product and its module read), for the demo's database and the
 * tests' databases. One copy: `whmcs-tables.sql` next to this file's source, found from the package root
 * (tsc does not copy .sql files into dist/).
 */
export const WHMCS_TABLES_SQL = path.join(__dirname, '..', '..', '..', 'src', 'demo', 'whmcs-tables.sql');

/** Creates WHMCS's tables in the connection's current database; it must allow multiple statements. */
export async function createWhmcsTables(connection: mysql.Connection): Promise<void> {
  // WHMCS runs without strict mode (zero dates in its defaults).
  await connection.query(`SET SESSION sql_mode = ''`);
  await connection.query(fs.readFileSync(WHMCS_TABLES_SQL, 'utf8'));
}
