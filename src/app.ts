import http from 'node:http';
import express from 'express';
import cors from 'cors';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import {
  ApolloServerPluginCacheControlDisabled,
  ApolloServerPluginLandingPageDisabled,
} from '@apollo/server/plugin/disabled';
import type { GraphQLSchema } from 'graphql';
import type { AppServices } from './app-services';
import type { Database } from './db/database';
import type { RequestContext } from './context/request-context';
import { createContextFactory } from './context/create-context';
import { createFormatError } from './errors/format-error';
import { limitsPlugin } from './plugins/limits.plugin';
import { requestLogPlugin } from './plugins/request-log.plugin';
import type { Logger } from './common/logger';
import { explorerRouter } from './http/explorer';
import { graphqlEndpoint, isGraphQLPath } from './http/graphql-endpoint';
import { requestIdMiddleware } from './context/request-id';
import { graphqlMetricsPlugin, type Metrics } from './metrics';
import { metricsHandler } from './metrics/metrics-endpoint';
import { attachSubscriptions } from './http/subscriptions';

export interface App {
  httpServer: http.Server;
  /**
   * The public listener (CLIENT_PORT), not yet listening: /graphql for client tokens only, nothing
   * else of the server. Null when CLIENT_PORT is not set. Apollo's stop closes it with the main one.
   */
  clientHttpServer: http.Server | null;
  apollo: ApolloServer<RequestContext>;
  /** graphql-ws on /graphql: closed first when the server stops. */
  subscriptions: { close(): Promise<void> };
}

/** The HTTP side: /health, and /graphql behind CORS, a small body limit and Apollo. */
export async function createApp(
  services: AppServices,
  database: Database,
  schema: GraphQLSchema,
  log: Logger,
  options: { explorerApiKey?: string; metrics?: Metrics; routes?: express.Router } = {},
): Promise<App> {
  const { config } = services;
  const { metrics } = options;
  const app = express();
  app.disable('x-powered-by');
  // Answers are no-store: an ETag (a hash of every body) would only cost time.
  app.disable('etag');
  // /graphql is served on Node's own request and response (src/http/graphql-endpoint.ts); the set
  // below only once Apollo has started.
  let graphql: http.RequestListener = notStarted;
  let clientGraphql: http.RequestListener = notStarted;
  const httpServer = http.createServer((req, res) =>
    isGraphQLPath(req.url) ? graphql(req, res) : app(req, res),
  );
  app.use(requestIdMiddleware(log));
  // A second listener on its own port: what it serves is decided by the listener, not by a header
  // a proxy could forget to set or a caller could forge. Only /graphql; Express answers the rest
  // with 404.
  const clientApp = config.clientListener ? express() : null;
  const clientHttpServer = clientApp
    ? http.createServer((req, res) =>
        isGraphQLPath(req.url) ? clientGraphql(req, res) : clientApp(req, res),
      )
    : null;

  const apollo = new ApolloServer<RequestContext>({
    schema,
    introspection: config.introspection,
    // Field suggestions ("did you mean") would leak the schema where introspection is off.
    hideSchemaDetailsFromClientErrors: !config.introspection,
    includeStacktraceInErrorResponses: config.env === 'development',
    csrfPrevention: true,
    // main.ts and the demo stop everything in order on SIGINT/SIGTERM; Apollo's own handler raced them.
    stopOnTerminationSignals: false,
    allowBatchedHttpRequests: false,
    // No client uses automatic persisted queries; off, they are one cache and one error path fewer.
    persistedQueries: false,
    // Parsing stops at this many tokens: a huge document is refused before validation works on it.
    parseOptions: { maxTokens: config.limits.maxTokens },
    // Unexpected errors are logged with the request's id by requestLogPlugin, not here.
    formatError: createFormatError({ includeStack: config.env === 'development' }),
    plugins: [
      ApolloServerPluginDrainHttpServer({ httpServer }),
      ...(clientHttpServer ? [ApolloServerPluginDrainHttpServer({ httpServer: clientHttpServer })] : []),
      limitsPlugin(config.limits),
      requestLogPlugin(log),
      ApolloServerPluginLandingPageDisabled(),
      // No field sets a cache hint, and the plugin wraps every field resolver to collect them (a
      // tenth of a usage request's CPU): off, and every answer says no-store itself (below).
      ApolloServerPluginCacheControlDisabled(),
      ...(metrics ? [graphqlMetricsPlugin(metrics)] : []),
    ],
  });
  await apollo.start();

  // Readiness (for the load balancer): 200 only once the database answers and every migration is
  // applied; 503 while starting, migrating, or when the database is lost.
  app.get('/health', async (_req, res) => {
    if (!database.isReady) {
      const migrating = database.isInitialized;
      res
        .status(503)
        .json({ status: migrating ? 'starting' : 'unavailable', database: migrating ? 'migrating' : 'down' });
      return;
    }
    const ok = await database.ping();
    res.status(ok ? 200 : 503).json({ status: ok ? 'ok' : 'unavailable', database: ok ? 'up' : 'down' });
  });
  // Liveness (for systemd watchdogs, Kubernetes): 200 while the process runs and serves HTTP, whatever
  // the database does — restarting the process would not bring MariaDB back.
  app.get('/health/live', (_req, res) => {
    res.status(200).json({ status: 'alive' });
  });

  if (config.explorer) app.use(explorerRouter({ endpoint: '/graphql', apiKey: options.explorerApiKey }));
  if (metrics) app.get('/metrics', metricsHandler(metrics, config.metrics.token, log));
  // Pages of the demo (its client-area preview); never set by `npm start`.
  if (options.routes) app.use(options.routes);

  const allowedOrigins = cors({ origin: config.corsOrigins.length ? [...config.corsOrigins] : false });
  graphql = graphqlEndpoint(apollo, {
    log,
    cors: allowedOrigins,
    context: createContextFactory(services, database),
  });

  if (clientApp) {
    clientApp.disable('x-powered-by');
    clientApp.disable('etag');
    clientApp.use(requestIdMiddleware(log));
    clientGraphql = graphqlEndpoint(apollo, {
      log,
      cors: allowedOrigins,
      context: createContextFactory(services, database, { clientTokensOnly: true }),
    });
  }

  const subscriptions = attachSubscriptions(httpServer, schema, services, database, log);
  return { httpServer, clientHttpServer, apollo, subscriptions };
}

/** Before Apollo has started (the listeners are not listening yet): nothing to serve. */
function notStarted(_req: http.IncomingMessage, res: http.ServerResponse): void {
  res.statusCode = 503;
  res.end();
}
