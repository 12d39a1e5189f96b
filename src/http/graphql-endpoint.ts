import type { IncomingMessage, ServerResponse } from 'node:http';
import express from 'express';
import { HeaderMap, type ApolloServer } from '@apollo/server';
import type { Logger } from '../common/logger';
import { beginRequest, pathOf, type RequestLocals } from '../context/request-id';
import type { RequestContext } from '../context/request-context';
import { ErrorCode } from '../errors/error-code';

/** The body limit of /graphql: a query, its variables and nothing more. */
const BODY_LIMIT = '100kb';

type NodeMiddleware = (req: IncomingMessage, res: ServerResponse, next: (error?: unknown) => void) => void;

export interface GraphQLEndpointOptions {
  log: Logger;
  /** The CORS middleware (the `cors` package, built once from CORS_ORIGINS). */
  cors: NodeMiddleware;
  /** Builds the request's context; refusals (401, 403, 503) come back from Apollo as GraphQL errors. */
  context: (args: { req: IncomingMessage; locals: RequestLocals }) => Promise<RequestContext>;
}

/** True for the URLs /graphql serves: `/graphql` and `/graphql/`, any case, with or without a query. */
export function isGraphQLPath(url: string | undefined): boolean {
  const path = pathOf(url).toLowerCase();
  return path === '/graphql' || path === '/graphql/';
}

/**
 * POST and GET /graphql on Node's own request and response, without Express: the request's id and
 * access line, CORS, `Cache-Control: no-store`, the JSON body (100 kB, the body parser Express
 * uses), then Apollo. Without Express's router, request and response objects and `send`, a usage
 * request takes about 6 % less server CPU (docs/performance.md §4c). Every other route still goes
 * to Express.
 */
export function graphqlEndpoint(
  apollo: ApolloServer<RequestContext>,
  options: GraphQLEndpointOptions,
): (req: IncomingMessage, res: ServerResponse) => void {
  const readJson = express.json({ limit: BODY_LIMIT }) as unknown as NodeMiddleware;
  const { log, cors, context } = options;
  return (req, res) => {
    const locals = beginRequest(log, req, res);
    cors(req, res, (corsError) => {
      if (corsError) return fail(locals, res, corsError);
      // Answers carry balances, usage and tokens: never kept by a browser or a proxy.
      res.setHeader('Cache-Control', 'no-store');
      readJson(req, res, (bodyError) => {
        if (bodyError) return bodyRefused(locals, res, bodyError);
        execute(apollo, req, res, () => context({ req, locals })).catch((error: unknown) =>
          fail(locals, res, error),
        );
      });
    });
  };
}

async function execute(
  apollo: ApolloServer<RequestContext>,
  req: IncomingMessage & { body?: unknown },
  res: ServerResponse,
  context: () => Promise<RequestContext>,
): Promise<void> {
  const headers = new HeaderMap();
  for (const name in req.headers) {
    const value = req.headers[name];
    if (value !== undefined) headers.set(name, Array.isArray(value) ? value.join(', ') : value);
  }
  const url = req.url ?? '';
  const query = url.indexOf('?');
  const response = await apollo.executeHTTPGraphQLRequest({
    httpGraphQLRequest: {
      method: (req.method ?? 'GET').toUpperCase(),
      headers,
      search: query === -1 ? '' : url.slice(query),
      body: req.body,
    },
    context,
  });
  for (const [name, value] of response.headers) res.setHeader(name, value);
  res.statusCode = response.status ?? 200;
  if (response.body.kind === 'complete') {
    res.setHeader('Content-Length', Buffer.byteLength(response.body.string));
    res.end(response.body.string);
    return;
  }
  for await (const chunk of response.body.asyncIterator) res.write(chunk);
  res.end();
}

/** A malformed JSON body, an oversized one or an unsupported charset: a typed error, not an HTML page. */
function bodyRefused(locals: RequestLocals, res: ServerResponse, error: unknown): void {
  const { status, type } = (error ?? {}) as { status?: number; type?: string };
  if (!status || status >= 500) return fail(locals, res, error);
  const tooLarge = type === 'entity.too.large';
  sendJson(res, status, {
    errors: [
      {
        message: tooLarge ? `Request body too large (limit 100 kB)` : 'Request body is not valid JSON',
        extensions: { code: ErrorCode.VALIDATION },
      },
    ],
  });
}

/** Something outside GraphQL failed: logged with the request's id, answered without its details. */
function fail(locals: RequestLocals, res: ServerResponse, error: unknown): void {
  locals.log.error({ err: error }, 'unexpected error in a request');
  if (res.headersSent) {
    res.destroy();
    return;
  }
  sendJson(res, 500, {
    errors: [{ message: 'Internal server error', extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR } }],
  });
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.statusCode = status;
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Content-Length', Buffer.byteLength(text));
  res.end(text);
}
