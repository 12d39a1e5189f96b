import { LifecycleResolver } from './lifecycle.resolver';
import { ProductResolver } from './product.resolver';
import { RouterResolver } from './router.resolver';
import { VpnAccountResolver } from './vpn-account.resolver';

export const resolvers = [VpnAccountResolver, RouterResolver, ProductResolver, LifecycleResolver] as const;
