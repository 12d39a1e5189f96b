import { LifecycleResolver } from './lifecycle.resolver';
import { ClientTokenResolver } from './client-token.resolver';
import { AccountTrafficResolver, TrafficResolver, TrafficTopUpResolver } from './traffic.resolver';
import { ProductResolver } from './product.resolver';
import { RouterResolver } from './router.resolver';
import { VpnAccountResolver } from './vpn-account.resolver';
import { SessionResolver } from './session.resolver';
import { WebhookResolver } from './webhook.resolver';
import { EventResolver } from './event.resolver';

export const resolvers = [
  VpnAccountResolver,
  RouterResolver,
  ProductResolver,
  LifecycleResolver,
  TrafficResolver,
  AccountTrafficResolver,
  TrafficTopUpResolver,
  ClientTokenResolver,
  SessionResolver,
  WebhookResolver,
  EventResolver,
] as const;
