import crypto from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { NextFunction, Request, Response } from 'express';
import type { Logger } from '../common/logger';

/** An incoming X-Request-Id we keep (a proxy's or WHMCS's); anything else is replaced by a UUID. */
const SANE_REQUEST_ID = /^[A-Za-z0-9._:@-]{1,64}$/;

/** Probes a load balancer sends all day: their access lines are debug, not info. */
const PROBES = new Set(['/health', '/health/live', '/metrics']);

/** What every request carries from its first line of handling on. */
export interface RequestLocals {
  requestId: string;
  /** The server's logger bound to this request's id: every line it writes carries `requestId`. */
  log: Logger;
}

/**
 * Gives an HTTP request its id (the caller's X-Request-Id when it is sane, else a new UUID), returns
 * it in the X-Request-Id response header, and writes one access line when the response is sent
 * (info, or debug for the health and metrics probes). Plain Node request and response: the /graphql
 * endpoint calls it without Express, the Express routes through {@link requestIdMiddleware}.
 */
export function beginRequest(log: Logger, req: IncomingMessage, res: ServerResponse): RequestLocals {
  const incoming = req.headers['x-request-id'];
  const requestId =
    typeof incoming === 'string' && SANE_REQUEST_ID.test(incoming) ? incoming : crypto.randomUUID();
  const locals: RequestLocals = { requestId, log: log.child({ requestId }) };
  res.setHeader('X-Request-Id', requestId);
  // Taken now: Express rewrites req.url while a mounted router handles the request.
  const path = pathOf(req.url);
  const started = process.hrtime.bigint();
  res.on('finish', () => {
    locals.log[PROBES.has(path) ? 'debug' : 'info'](
      {
        method: req.method,
        path,
        status: res.statusCode,
        durationMs: Math.round(Number(process.hrtime.bigint() - started) / 1e4) / 100,
      },
      'http request',
    );
  });
  return locals;
}

/** The path of a request's URL, without its query string. */
export function pathOf(url: string | undefined): string {
  const raw = url ?? '/';
  const query = raw.indexOf('?');
  return query === -1 ? raw : raw.slice(0, query);
}

/** {@link beginRequest} as the first Express middleware; the locals go to `res.locals`. */
export function requestIdMiddleware(log: Logger) {
  return (req: Request, res: Response, next: NextFunction): void => {
    // Handed on in res.locals, not in an AsyncLocalStorage: one would put a hook on every promise.
    Object.assign(res.locals, beginRequest(log, req, res));
    next();
  };
}
