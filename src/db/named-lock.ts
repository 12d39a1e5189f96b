import crypto from 'node:crypto';
import mysql from 'mysql2/promise';
import type { DatabaseConfig } from '../config/app-config';
import { AppError } from '../errors/app-errors';
import { ErrorCode } from '../errors/error-code';

/** Someone else (another request or server process) holds the lock. */
export class LockBusyError extends AppError {
  constructor(what: string) {
    super(ErrorCode.CONFLICT, `Another operation on ${what} is still running; try again`);
    this.name = 'LockBusyError';
  }
}

/**
 * MySQL advisory locks (GET_LOCK), so that one thing (a router's collection, a service's lifecycle
 * change) is never worked on twice at once by any server process on this database. A lock lives on
 * its own connection and dies with it, so a crashed process never leaves one held.
 *
 * Lock connections come from a pool of their own: a lock holder then needs at most one connection
 * of the main pool for its work, and lock holders can never starve each other of connections.
 */
export class NamedLocks {
  private pool: mysql.Pool | null = null;

  constructor(
    private readonly db: DatabaseConfig,
    private readonly size = 64,
  ) {}

  async with<T>(name: string, timeoutSeconds: number, work: () => Promise<T>): Promise<T> {
    this.pool ??= mysql.createPool({
      host: this.db.host,
      port: this.db.port,
      ...(this.db.socketPath ? { socketPath: this.db.socketPath } : {}),
      user: this.db.user,
      password: this.db.password,
      database: this.db.database,
      connectionLimit: this.size,
      connectTimeout: 5000,
      enableKeepAlive: true,
    });
    const lockName = scopedLockName(this.db.database, name);
    const connection = await this.pool.getConnection();
    let healthy = true;
    try {
      const [rows] = await connection.query('SELECT GET_LOCK(?, ?) AS got', [lockName, timeoutSeconds]);
      if (Number((rows as { got: number | null }[])[0].got) !== 1) throw new LockBusyError(name);
      try {
        return await work();
      } finally {
        await connection.query('SELECT RELEASE_LOCK(?)', [lockName]).catch(() => (healthy = false));
      }
    } catch (error) {
      if (!(error instanceof AppError)) healthy = false;
      throw error;
    } finally {
      // A connection that failed around a lock may still hold it: close it rather than reuse it.
      if (healthy) connection.release();
      else connection.destroy();
    }
  }

  async close(): Promise<void> {
    await this.pool?.end();
    this.pool = null;
  }
}

/**
 * Lock names are server-wide in MariaDB: scope them to the database, so two WHMCS installations on
 * one server never block each other. Names are limited to 64 characters, hence the hash.
 */
export function scopedLockName(database: string, name: string): string {
  const full = `mvpn:${database}:${name}`;
  return full.length <= 64 ? full : `mvpn:${crypto.createHash('sha1').update(full).digest('hex')}`;
}
