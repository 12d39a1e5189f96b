// First: an unsupported Node.js stops here with one line.
import './runtime/require-supported-node';
import 'reflect-metadata';
import { ConfigError, loadConfig, loadEncryptionKeys, type AppConfig } from './config/app-config';
import { createLogger } from './common/logger';
import { startServer } from './server';
import { ClientTokens } from './auth/client-tokens';

/** Starts the GraphQL server (src/server.ts) and stops it cleanly on SIGTERM or SIGINT. */
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
  const server = await startServer(config, log);
  const { services } = server;
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
    await server.stop();
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
