import DataLoader from 'dataloader';
import type { ActiveSession, QueueCounters, RouterGateway } from './router-gateway';
import type { RouterTarget } from './router-target';
import type { WireGuardPeer } from './wireguard';

/** Key of {@link RouterLoaders.activeSessions}. */
export interface ActiveSessionKey {
  router: RouterTarget;
  username: string;
}

/** Key of {@link RouterLoaders.queueCounters}. */
export interface QueueCountersKey {
  router: RouterTarget;
  queueName: string;
}

/** Key of {@link RouterLoaders.wireguardPeers}. */
export interface WireGuardPeerKey {
  router: RouterTarget;
  publicKey: string;
}

/** Per-request (or per-collection-run) batching loaders for router reads. */
export interface RouterLoaders {
  /** The user's active PPP session, or null when offline. */
  activeSessions: DataLoader<ActiveSessionKey, ActiveSession | null, string>;
  /** The queue's byte counters, or null when the router has no such queue. */
  queueCounters: DataLoader<QueueCountersKey, QueueCounters | null, string>;
  /** The WireGuard peer with this public key, or null. */
  wireguardPeers: DataLoader<WireGuardPeerKey, WireGuardPeer | null, string>;
}

export interface RouterLoaderOptions {
  /** Routers read at the same time; default 8. */
  maxConcurrentRouters?: number;
}

/** A tiny semaphore: at most `limit` tasks run at once, the rest wait in order. */
export function concurrencyLimit(limit: number): <T>(task: () => Promise<T>) => Promise<T> {
  let running = 0;
  const waiting: Array<() => void> = [];
  return async <T>(task: () => Promise<T>) => {
    if (running >= limit) await new Promise<void>((resolve) => waiting.push(resolve));
    running++;
    try {
      return await task();
    } finally {
      running--;
      waiting.shift()?.();
    }
  };
}

/**
 * Builds a batch function that groups keys by router, reads each router once (in parallel, capped)
 * and answers each key from that one reply. A router that fails fails only its own keys.
 */
function perRouterBatch<K extends { router: RouterTarget }, Row, V>(
  limit: <T>(task: () => Promise<T>) => Promise<T>,
  readRouter: (router: RouterTarget) => Promise<Row[]>,
  index: (rows: Row[]) => Map<string, V>,
  keyName: (key: K) => string,
): (keys: readonly K[]) => Promise<Array<V | null | Error>> {
  return async (keys) => {
    const byRouter = new Map<string, { router: RouterTarget; positions: number[] }>();
    keys.forEach((key, position) => {
      const group = byRouter.get(key.router.id) ?? { router: key.router, positions: [] };
      group.positions.push(position);
      byRouter.set(key.router.id, group);
    });
    const results: Array<V | null | Error> = new Array(keys.length).fill(null);
    await Promise.all(
      [...byRouter.values()].map(({ router, positions }) =>
        limit(() => readRouter(router)).then(
          (rows) => {
            const found = index(rows);
            for (const position of positions) results[position] = found.get(keyName(keys[position])) ?? null;
          },
          (error: unknown) => {
            const failure = error instanceof Error ? error : new Error(String(error));
            for (const position of positions) results[position] = failure;
          },
        ),
      ),
    );
    return results;
  };
}

/**
 * Creates the loaders. Make a new set per GraphQL request or per collection run (never share one
 * across requests: it caches). All loads for one router in the same tick become ONE
 * `/ppp/active/print` (resp. ONE `/queue/simple/print`, ONE `/interface/wireguard/peers/print`)
 * on that router.
 */
export function createRouterLoaders(
  gateway: RouterGateway,
  options: RouterLoaderOptions = {},
): RouterLoaders {
  const limit = concurrencyLimit(options.maxConcurrentRouters ?? 8);
  return {
    activeSessions: new DataLoader(
      perRouterBatch<ActiveSessionKey, ActiveSession, ActiveSession>(
        limit,
        (router) => gateway.listActiveSessions(router),
        (rows) => new Map(rows.map((row) => [row.name, row])),
        (key) => key.username,
      ),
      { cacheKeyFn: (key) => `${key.router.id}\u0000${key.username}` },
    ),
    queueCounters: new DataLoader(
      perRouterBatch<QueueCountersKey, QueueCounters, QueueCounters>(
        limit,
        (router) => gateway.readQueueCounters(router),
        (rows) => new Map(rows.map((row) => [row.name, row])),
        (key) => key.queueName,
      ),
      { cacheKeyFn: (key) => `${key.router.id}\u0000${key.queueName}` },
    ),
    wireguardPeers: new DataLoader(
      perRouterBatch<WireGuardPeerKey, WireGuardPeer, WireGuardPeer>(
        limit,
        (router) => gateway.listWireGuardPeers(router),
        (rows) => new Map(rows.map((row) => [row.publicKey, row])),
        (key) => key.publicKey,
      ),
      { cacheKeyFn: (key) => `${key.router.id}\u0000${key.publicKey}` },
    ),
  };
}
