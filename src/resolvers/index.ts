import { ProductResolver } from './product.resolver';
import { RouterResolver } from './router.resolver';
import { VpnAccountResolver } from './vpn-account.resolver';

export const resolvers = [VpnAccountResolver, RouterResolver, ProductResolver] as const;
