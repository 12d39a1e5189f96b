import DataLoader from 'dataloader';
import type { AppServices } from '../app-services';
import type { RouterEntity } from '../entities/own/router.entity';
import type { ProductType } from '../graphql/types/product.type';
import type { AddressPool } from '../graphql/types/router-fields.type';

/**
 * Per-request batching (never shared between requests: each caller sees only its own cache).
 * Every relation of a list is one query for the whole page, not one per row.
 */
export function createLoaders(services: AppServices) {
  const byKey = <K, V>(load: (keys: readonly K[]) => Promise<Map<K, V>>) =>
    new DataLoader<K, V | null>(async (keys) => {
      const found = await load(keys);
      return keys.map((k) => found.get(k) ?? null);
    });
  return {
    routerById: byKey<number, RouterEntity>((ids) => services.routers.findByIds(ids)),
    productById: byKey<number, ProductType>((ids) => services.products.findByIds(ids)),
    addressPoolByRouter: new DataLoader<RouterEntity, AddressPool, number>(
      async (routers) => {
        const pools = await services.routers.addressPools(routers);
        return routers.map((r) => pools.get(r.id)!);
      },
      { cacheKeyFn: (r) => r.id },
    ),
  };
}

export type Loaders = ReturnType<typeof createLoaders>;
