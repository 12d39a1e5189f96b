import crypto from 'node:crypto';
import type { Request, Response } from 'express';
import type { Logger } from '../common/logger';
import type { Metrics } from './metrics';

/** GET /metrics in Prometheus' text format; with a token configured, only for `Bearer <token>`. */
export function metricsHandler(metrics: Metrics, token: string | null, log: Logger) {
  const expected = token ? digest(token) : null;
  return async (req: Request, res: Response): Promise<void> => {
    if (expected) {
      const sent = /^Bearer\s+(\S+)$/i.exec(req.get('authorization') ?? '')?.[1];
      // Compare digests in constant time: the token never leaks through response timing.
      if (!sent || !crypto.timingSafeEqual(digest(sent), expected)) {
        res.status(401).set('WWW-Authenticate', 'Bearer').type('text/plain').send('metrics token required\n');
        return;
      }
    }
    try {
      const body = await metrics.render();
      res.status(200).type(metrics.contentType()).send(body);
    } catch (error) {
      // The database gauges fail while MariaDB is down: say so, the scrape shows as failed.
      log.warn({ err: { message: (error as Error).message } }, 'metrics scrape failed');
      res.status(503).type('text/plain').send('metrics unavailable: the database does not answer\n');
    }
  };
}

function digest(value: string): Buffer {
  return crypto.createHash('sha256').update(value).digest();
}
