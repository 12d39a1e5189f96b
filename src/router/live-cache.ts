import type { ActiveSession, RouterGateway } from './router-gateway';
import type { WireGuardInterface, WireGuardPeer } from './wireguard';
import type { RouterTarget } from './router-target';

/** How long a router's `/ppp/active/print` answers client-token requests after it was read. */
export const LIVE_CACHE_TTL_MS = 5_000;

interface Entry {
  /** When the answer stops being served (Infinity while the read is still running). */
  until: number;
  rows: Promise<unknown[]>;
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
    return this.rows(`${target.id}\u0000active`, read);
  }

  /** The router's WireGuard peers (live status of WireGuard accounts), the same way. */
  wireGuardPeers(target: RouterTarget, read: () => Promise<WireGuardPeer[]>): Promise<WireGuardPeer[]> {
    return this.rows(`${target.id}\u0000peers`, read);
  }

  /** The router's WireGuard interfaces (the endpoint a status shows), the same way. */
  wireGuardInterfaces(
    target: RouterTarget,
    read: () => Promise<WireGuardInterface[]>,
  ): Promise<WireGuardInterface[]> {
    return this.rows(`${target.id}\u0000interfaces`, read);
  }

  private rows<T>(key: string, read: () => Promise<T[]>): Promise<T[]> {
    const cached = this.entries.get(key);
    if (cached && cached.until > this.now()) return cached.rows as Promise<T[]>;
    const entry: Entry = { until: Infinity, rows: read() };
    this.entries.set(key, entry);
    entry.rows.then(
      () => {
        entry.until = this.now() + this.ttlMs;
      },
      () => {
        if (this.entries.get(key) === entry) this.entries.delete(key);
      },
    );
    return entry.rows as Promise<T[]>;
  }

  /** Router reads cached or running (for tests). */
  get size(): number {
    return this.entries.size;
  }
}

/**
 * The gateway as a client-token request sees it: the live reads (sessions, WireGuard peers and
 * interfaces) go through the cache, every
 * other method is the gateway's own (the result inherits from it). Pass it to `createRouterLoaders`.
 */
export function withLiveCache(gateway: RouterGateway, cache: LiveSessionCache): RouterGateway {
  const cached = Object.create(gateway) as RouterGateway;
  cached.listActiveSessions = (target: RouterTarget) =>
    cache.activeSessions(target, () => gateway.listActiveSessions(target));
  cached.listWireGuardPeers = (target: RouterTarget) =>
    cache.wireGuardPeers(target, () => gateway.listWireGuardPeers(target));
  cached.listWireGuardInterfaces = (target: RouterTarget) =>
    cache.wireGuardInterfaces(target, () => gateway.listWireGuardInterfaces(target));
  return cached;
}
