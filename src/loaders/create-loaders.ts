import type { PolicyView } from '../services/product.service';
import DataLoader from 'dataloader';
import type { AppServices } from '../app-services';
import type { RouterEntity } from '../entities/own/router.entity';
import type { ProductType } from '../graphql/types/product.type';
import type { AddressPool, RouterStatus } from '../graphql/types/router-fields.type';
import {
  concurrencyLimit,
  createRouterLoaders,
  withLiveCache,
  type RouterTarget,
  type WireGuardInterface,
} from '../router';
import { In } from 'typeorm';
import { WhmcsServer } from '../entities/whmcs/whmcs-server.entity';
import type { ThresholdReached } from '../services/traffic/notification.service';
import type { WireGuardLookups } from '../services/wireguard/wireguard.service';
import { AppError } from '../errors/app-errors';
import type { VpnAccountEntity } from '../entities/own/vpn-account.entity';
import { carriedOver } from '../services/traffic/rollover.service';
import { ErrorCode } from '../errors/error-code';

/**
 * Per-request batching (never shared between requests: each caller sees only its own cache).
 * Every relation of a list is one query for the whole page, and every router is read once.
 * `sharedLiveReads` (requests made with a client token): live sessions come from the few-seconds
 * cache shared by all such requests (src/router/live-cache.ts), so a page reloaded in a loop does not
 * become one router command per reload.
 */
export function createLoaders(services: AppServices, options: { sharedLiveReads?: boolean } = {}) {
  const byKey = <K, V>(load: (keys: readonly K[]) => Promise<Map<K, V>>) =>
    new DataLoader<K, V | null>(async (keys) => {
      const found = await load(keys);
      return keys.map((k) => found.get(k) ?? null);
    });
  const targets = new Map<number, RouterTarget>();
  // Status reads obey the same cap on routers read at once as the batched router reads.
  const statusLimit = concurrencyLimit(services.config.router.maxConcurrent);
  const routerById = byKey<number, RouterEntity>((ids) => services.routers.findByIds(ids));
  const productById = byKey<number, ProductType>((ids) => services.products.findByIds(ids));
  const serverById = byKey<number, WhmcsServer>(async (ids) => {
    const rows = await services.db.getRepository(WhmcsServer).findBy({ id: In([...ids]) });
    return new Map(rows.map((row) => [row.id, row]));
  });
  // Client tokens' live reads share a short per-router cache (a page reloaded in a loop is not a
  // router command per request).
  const gateway = options.sharedLiveReads
    ? withLiveCache(services.gateway, services.liveSessions)
    : services.gateway;
  const routerLoaders = createRouterLoaders(gateway, {
    maxConcurrentRouters: services.config.router.maxConcurrent,
  });
  const wgInterfaces = new DataLoader<RouterEntity, WireGuardInterface[], number>(
    (routers) =>
      Promise.all(
        routers.map((r) =>
          statusLimit(() => gateway.listWireGuardInterfaces(targetOf(r))).catch((e: Error) => e),
        ),
      ),
    { cacheKeyFn: (r) => r.id },
  );
  return {
    routerById,
    productById,
    /** Products' quota policies, read only when a query asks for them. */
    productPolicy: new DataLoader<number, PolicyView>(async (ids) => {
      const views = await services.products.policies(ids);
      return ids.map((id) => views.get(id)!);
    }),
    /** Sessions of each account ended as duplicates (one session per account). */
    thresholdsReached: new DataLoader<number, ThresholdReached[]>(async (ids) => {
      const found = await services.notifications.reachedThisCycle(ids);
      return ids.map((id) => found.get(id) ?? []);
    }),
    /** Carried-over traffic of accounts and when it expires (one statement for those that have some). */
    carriedOver: new DataLoader<VpnAccountEntity, { bytes: bigint; expiresAt: Date | null }, number>(
      async (accounts) => {
        const found = await carriedOver(services.db, accounts);
        return accounts.map((a) => found.get(a.id)!);
      },
      { cacheKeyFn: (a) => a.id },
    ),
    duplicateSessions: new DataLoader<number, number>(async (ids) => {
      const counts = await services.sessions.duplicatesEnded(ids);
      return ids.map((id) => counts.get(id) ?? 0);
    }),
    addressPoolByRouter: new DataLoader<RouterEntity, AddressPool, number>(
      async (routers) => {
        const pools = await services.routers.addressPools(routers);
        return routers.map((r) => pools.get(r.id)!);
      },
      { cacheKeyFn: (r) => r.id },
    ),
    routerStatus: new DataLoader<RouterEntity, RouterStatus, number>(
      (routers) => Promise.all(routers.map((r) => statusLimit(() => readStatus(services, targetOf(r))))),
      { cacheKeyFn: (r) => r.id },
    ),
    router: routerLoaders,
    /** WireGuard interfaces of a router: one print per router per request. */
    wgInterfaces,
    /** What the WireGuard fields of accounts read, batched like everything here. */
    wireguard: {
      router: (id) => routerById.load(id),
      target: targetOf,
      interfaces: (router) => wgInterfaces.load(router),
      peer: (router, publicKey) => routerLoaders.wireguardPeers.load({ router: targetOf(router), publicKey }),
      publicHost: async (router) => {
        const server = await serverById.load(router.serverId);
        return server?.hostname?.trim() || server?.ipaddress?.trim() || router.host;
      },
      settings: async (productId) => (await productById.load(productId))?.settings ?? null,
    } satisfies WireGuardLookups,
    /** The adapter's view of a router, decrypted once per request. */
    targetOf,
  };

  function targetOf(router: RouterEntity): RouterTarget {
    let target = targets.get(router.id);
    if (!target) targets.set(router.id, (target = services.routers.target(router)));
    return target;
  }
}

async function readStatus(services: AppServices, target: RouterTarget): Promise<RouterStatus> {
  try {
    const [identity, resource] = await Promise.all([
      services.gateway.identity(target),
      services.gateway.systemResource(target),
    ]);
    return {
      reachable: true,
      identity,
      version: resource.version,
      uptimeSeconds: resource.uptimeSeconds,
      errorCode: null,
      error: null,
    };
  } catch (error) {
    const known = error instanceof AppError;
    return {
      reachable: false,
      identity: null,
      version: null,
      uptimeSeconds: null,
      errorCode: known ? error.code : ErrorCode.ROUTER_ERROR,
      error: known ? error.message : 'The router could not be read',
    };
  }
}

export type Loaders = ReturnType<typeof createLoaders>;
