import crypto from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import type { Logger } from '../common/logger';

/** An incoming X-Request-Id we keep (a proxy's or WHMCS's); anything else is replaced by a UUID. */
const SANE_REQUEST_ID = /^[A-Za-z0-9._:@-]{1,64}$/;

/** What every request carries in `res.locals` from the first middleware on. */
export interface RequestLocals {
  requestId: string;
  /** The server's logger bound to this request's id: every line it writes carries `requestId`. */
  log: Logger;
}

/**
 * Gives each HTTP request an id (the caller's X-Request-Id when it is sane, else a new UUID), returns
 * it in the X-Request-Id response header, and writes one access line when the response is sent
 * (info for /graphql, debug for the health and metrics probes that a load balancer sends all day).
 */
export function requestIdMiddleware(log: Logger) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const incoming = req.get('x-request-id');
    const requestId = incoming && SANE_REQUEST_ID.test(incoming) ? incoming : crypto.randomUUID();
    const locals: RequestLocals = { requestId, log: log.child({ requestId }) };
    Object.assign(res.locals, locals);
    res.setHeader('X-Request-Id', requestId);
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      const probe = req.path === '/health' || req.path === '/health/live' || req.path === '/metrics';
      locals.log[probe ? 'debug' : 'info'](
        {
          method: req.method,
          path: req.path,
          status: res.statusCode,
          durationMs: Math.round(Number(process.hrtime.bigint() - started) / 1e4) / 100,
        },
        'http request',
      );
    });
    // Handed on in res.locals, not in an AsyncLocalStorage: one would put a hook on every promise.
    next();
  };
}
