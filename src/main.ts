import 'reflect-metadata';
import type { AddressInfo } from 'node:net';
import { ConfigError, loadConfig, loadEncryptionKeys, type AppConfig } from './config/app-config';
import { createLogger } from './common/logger';
import { Database } from './db/database';
import { createServices } from './app-services';
import { createSchema } from './schema';
import { createApp } from './app';
import { startCollectionSchedule } from './jobs/collection-schedule';
import { Metrics } from './metrics';
import { ClientTokens } from './auth/client-tokens';

/** Starts the GraphQL server: config → database (background, migrations) → schema → HTTP. */
async function main(): Promise<void> {
  let config: AppConfig;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(1);
    }
    throw error;
  }
  const log = createLogger(config.logLevel);
  const database = new Database(config, log);
  const metrics = config.metrics.enabled ? new Metrics(database.dataSource) : undefined;
  const services = createServices(config, database.dataSource, log, metrics);
  void database.start();
  // Key rotation without a restart: SIGHUP (or a value under a key id not loaded yet) re-reads the keys.
  services.secretBox.reloadFrom(() => loadEncryptionKeys());
  process.on('SIGHUP', () => {
    try {
      const activeKeyId = services.secretBox.reload();
      // Client tokens too: tokens signed by an instance already on the new key are accepted here.
      services.clientTokens = new ClientTokens(services.secretBox.keysActiveFirst());
      log.info({ activeKeyId }, 'encryption keys reloaded');
    } catch (error) {
      log.error(
        { err: { message: (error as Error).message } },
        'encryption keys not reloaded; keeping the old ones',
      );
    }
  });

  const schema = await createSchema();
  const { httpServer, apollo } = await createApp(services, database, schema, log, metrics);
  await new Promise<void>((resolve) => httpServer.listen(config.port, config.host, resolve));
  const { port } = httpServer.address() as AddressInfo;
  log.info({ host: config.host, port, env: config.env }, 'listening');
  const schedule = startCollectionSchedule(services, log, {
    intervalSeconds: config.collectIntervalSeconds,
    isReady: () => database.isInitialized,
  });

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    // Never hang on the way out (a router or the database not answering): give up after 15 s.
    setTimeout(() => {
      log.error('shutdown took too long; exiting');
      process.exit(1);
    }, 15_000).unref();
    await schedule.stop(); // lets a running collection commit
    await apollo.stop(); // stops accepting, lets running requests finish
    await services.routerPool.closeAll();
    await services.locks.close();
    await database.stop();
    log.info('stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}

main().catch((error) => {
  console.error(`Server failed to start: ${(error as Error).message}`);
  process.exit(1);
});
