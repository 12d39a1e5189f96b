import { DataSource } from 'typeorm';
import type { AppConfig } from '../config/app-config';
import { dataSourceOptions } from '../config/data-source-options';
import type { Logger } from '../common/logger';

/**
 * The WHMCS database, connected in the background: the server starts (and answers /health with 503)
 * while MariaDB is down or migrations still run, and carries on by itself once it is ready.
 */
export class Database {
  readonly dataSource: DataSource;
  private ready: Promise<void> | null = null;
  private stopped = false;
  private migrated = false;

  constructor(
    private readonly config: AppConfig,
    private readonly log: Logger,
  ) {
    this.dataSource = new DataSource(dataSourceOptions(config.database));
  }

  /** Connects (retrying with back-off) and runs pending migrations once. */
  start(): Promise<void> {
    this.ready ??= this.connectWithRetry();
    return this.ready;
  }

  private async connectWithRetry(): Promise<void> {
    let delay = 500;
    for (;;) {
      if (this.stopped) return;
      try {
        await this.dataSource.initialize();
        if (this.config.runMigrationsOnStart) {
          const applied = await this.dataSource.runMigrations({ transaction: 'each' });
          for (const m of applied) this.log.info({ migration: m.name }, 'migration applied');
        }
        this.migrated = true;
        this.log.info(
          {
            host: this.config.database.socketPath ?? this.config.database.host,
            database: this.config.database.database,
          },
          'database ready',
        );
        return;
      } catch (error) {
        if (this.dataSource.isInitialized) await this.dataSource.destroy().catch(() => undefined);
        this.log.warn(
          { err: { message: (error as Error).message }, retryInMs: delay },
          'database not reachable yet; retrying',
        );
        await new Promise((r) => setTimeout(r, delay));
        delay = Math.min(delay * 2, 10_000);
      }
    }
  }

  /** Connected; migrations may still be running (see {@link isReady}). */
  get isInitialized(): boolean {
    return this.dataSource.isInitialized;
  }

  /**
   * Connected and every pending migration applied (when MIGRATIONS_RUN is on): only then may
   * requests and the schedules use the database. /health answers 503 until this is true.
   */
  get isReady(): boolean {
    return this.migrated && !this.stopped && this.dataSource.isInitialized;
  }

  /** True when the database is ready and a trivial query answers within the timeout. */
  async ping(timeoutMs = 2000): Promise<boolean> {
    if (!this.isReady) return false;
    try {
      await Promise.race([
        this.dataSource.query('SELECT 1'),
        new Promise((_, reject) => setTimeout(() => reject(new Error('timeout')), timeoutMs).unref()),
      ]);
      return true;
    } catch {
      return false;
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.dataSource.isInitialized) await this.dataSource.destroy();
  }
}
