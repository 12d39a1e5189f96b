import type { AddressInfo } from 'node:net';
import type http from 'node:http';
import type { AppConfig } from './config/app-config';
import type { Logger } from './common/logger';
import { Database } from './db/database';
import { createServices, type AppServices } from './app-services';
import { createSchema } from './schema';
import { createApp } from './app';
import { startCollectionSchedule } from './jobs/collection-schedule';
import { startReconcileSchedule } from './jobs/reconcile-schedule';
import { startWebhookSchedule } from './jobs/webhook-schedule';
import { Metrics } from './metrics';

export interface RunningServer {
  services: AppServices;
  database: Database;
  httpServer: http.Server;
  /** The port actually listened on (PORT=0 picks a free one). */
  port: number;
  /** Stops the collection clock, HTTP (letting requests finish), router sessions and the database. */
  stop(): Promise<void>;
}

function listen(server: http.Server, port: number, host: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once('error', reject); // e.g. EADDRINUSE: the port is taken
    server.listen(port, host, resolve);
  });
}

/** Starts the GraphQL server: database (background, migrations) → schema → HTTP → collection clock. */
export async function startServer(
  config: AppConfig,
  log: Logger,
  options: { explorerApiKey?: string; routes?: import('express').Router } = {},
): Promise<RunningServer> {
  const database = new Database(config, log);
  const metrics = config.metrics.enabled ? new Metrics(database.dataSource) : undefined;
  const services = createServices(config, database.dataSource, log, metrics);
  void database.start();

  const schema = await createSchema();
  const { httpServer, clientHttpServer, apollo, subscriptions } = await createApp(
    services,
    database,
    schema,
    log,
    {
      ...options,
      metrics,
    },
  );
  try {
    await listen(httpServer, config.port, config.host);
    if (clientHttpServer && config.clientListener) {
      const { host, port } = config.clientListener;
      await listen(clientHttpServer, port, host);
      const clientPort = (clientHttpServer.address() as AddressInfo).port;
      log.info({ clientHost: host, clientPort }, 'client listener (client tokens only)');
    }
  } catch (error) {
    await subscriptions.close().catch(() => undefined);
    await apollo.stop().catch(() => undefined);
    await services.locks.close();
    await database.stop();
    throw error;
  }
  const { port } = httpServer.address() as AddressInfo;
  log.info({ host: config.host, port, env: config.env }, 'listening');
  if (config.explorer && !config.introspection) {
    log.warn(
      'the explorer is on but introspection is off: it cannot load the schema (set GRAPHQL_INTROSPECTION=true)',
    );
  }
  const schedule = startCollectionSchedule(services, log, {
    intervalSeconds: config.collectIntervalSeconds,
    isReady: () => database.isReady,
  });
  const reconcileSchedule = startReconcileSchedule(services, log, {
    intervalSeconds: config.reconcileIntervalSeconds,
    isReady: () => database.isReady,
  });

  const webhookSchedule = startWebhookSchedule(services, log, {
    intervalMs: config.webhooks.intervalMs,
    isReady: () => database.isReady,
  });

  return {
    services,
    database,
    httpServer,
    port,
    async stop() {
      await schedule.stop(); // lets a running collection commit
      await reconcileSchedule.stop();
      await webhookSchedule.stop();
      await subscriptions.close();
      await apollo.stop(); // stops accepting, lets running requests finish
      await services.routerPool.closeAll();
      await services.locks.close();
      await database.stop();
    },
  };
}
