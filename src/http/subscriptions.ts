import crypto from 'node:crypto';
import type http from 'node:http';
import { WebSocketServer } from 'ws';
import { useServer } from 'graphql-ws/use/ws';
import { GraphQLError, parse, type GraphQLSchema } from 'graphql';
import { ErrorCode } from '../errors/error-code';
import type { AppServices } from '../app-services';
import type { Database } from '../db/database';
import type { Logger } from '../common/logger';
import { authenticate } from '../context/create-context';
import { createLoaders } from '../loaders/create-loaders';
import type { GraphQLContext } from '../graphql/context';

/**
 * GraphQL subscriptions over graphql-ws, on the HTTP server's /graphql path. The caller is
 * authenticated when the connection opens (connectionParams.authorization, as the HTTP header
 * would be) by the same code as requests; a refused caller is closed with 4403 before any
 * subscription starts. Client tokens are checked again before every read of the stream.
 */
export function attachSubscriptions(
  httpServer: http.Server,
  schema: GraphQLSchema,
  services: AppServices,
  database: Database,
  log: Logger,
): { close(): Promise<void> } {
  const wss = new WebSocketServer({ server: httpServer, path: '/graphql' });
  const actors = new WeakMap<object, Awaited<ReturnType<typeof authenticate>>>();
  const server = useServer<Record<string, unknown> | undefined>(
    {
      schema,
      onConnect: async (ctx) => {
        if (!database.isReady) return false;
        const header = ctx.connectionParams?.authorization;
        try {
          actors.set(ctx.extra, await authenticate(services, typeof header === 'string' ? header : ''));
          return true;
        } catch {
          return false; // 4403 Forbidden: no subscription without a valid key or token
        }
      },
      // The document's size is bounded as for HTTP requests (parsing stops at GRAPHQL_MAX_TOKENS).
      onSubscribe: (_ctx, _id, payload) => {
        try {
          parse(payload.query, { maxTokens: services.config.limits.maxTokens });
        } catch (error) {
          return [new GraphQLError((error as Error).message, { extensions: { code: ErrorCode.VALIDATION } })];
        }
        return undefined;
      },
      context: (ctx): GraphQLContext => {
        const auth = actors.get(ctx.extra)!;
        const requestId = crypto.randomUUID();
        return {
          requestId,
          log: log.child({ requestId }),
          actor: auth.actor,
          services,
          loaders: createLoaders(services, { sharedLiveReads: true }),
          recheck: auth.recheck,
        };
      },
      onError: (_ctx, _id, _payload, errors) => {
        log.debug({ errors: errors.map((e) => e.message) }, 'subscription error');
      },
    },
    wss,
  );
  return {
    async close() {
      await server.dispose();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}
