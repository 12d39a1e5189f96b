import type { ActiveSession, RouterGateway } from './router-gateway';
import type { RouterTarget } from './router-target';

/** How long a router's `/ppp/active/print` answers client-token requests after it was read. */
export const LIVE_CACHE_TTL_MS = 5_000;

interface Entry {
  /** When the answer stops being served (Infinity while the read is still running). */
  until: number;
  rows: Promise<ActiveSession[]>;
}

/**
 * A short cache of each router's live sessions, shared by every request made with a client token
 * (the usage page, which any customer can reload in a loop). Within {@link LIVE_CACHE_TTL_MS} of a
 * read, or while one is running, another such request gets the same answer: reloading a page 100
 * times makes a handful of `/ppp/active/print`, not 100. A failed read is not kept: the next
 * request tries again (and the router's circuit breaker keeps a dead router from being hammered).
 * Admin and API-key requests never use it: what the admin sees is read when asked.
 */
export class LiveSessionCache {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly ttlMs = LIVE_CACHE_TTL_MS,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** The router's active sessions: cached, joined to a read in flight, or read now with `read`. */
  activeSessions(target: RouterTarget, read: () => Promise<ActiveSession[]>): Promise<ActiveSession[]> {
    const cached = this.entries.get(target.id);
    if (cached && cached.until > this.now()) return cached.rows;
    const entry: Entry = { until: Infinity, rows: read() };
    this.entries.set(target.id, entry);
    entry.rows.then(
      () => {
        entry.until = this.now() + this.ttlMs;
      },
      () => {
        if (this.entries.get(target.id) === entry) this.entries.delete(target.id);
      },
    );
    return entry.rows;
  }

  /** Routers with a cached or running read (for tests). */
  get size(): number {
    return this.entries.size;
  }
}

/**
 * The gateway as a client-token request sees it: `listActiveSessions` goes through the cache, every
 * other method is the gateway's own (the result inherits from it). Pass it to `createRouterLoaders`.
 */
export function withLiveCache(gateway: RouterGateway, cache: LiveSessionCache): RouterGateway {
  const cached = Object.create(gateway) as RouterGateway;
  cached.listActiveSessions = (target: RouterTarget) =>
    cache.activeSessions(target, () => gateway.listActiveSessions(target));
  return cached;
}
