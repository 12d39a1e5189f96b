import { ApiKeyEntity } from './own/api-key.entity';
import { ClientTokenRevocationEntity } from './own/client-token-revocation.entity';
import { EventEntity } from './own/event.entity';
import { NotificationEntity } from './own/notification.entity';
import { RouterEntity } from './own/router.entity';
import { TrafficSampleEntity, TrafficDailyEntity } from './own/traffic-sample.entity';
import { TrafficTopUpEntity } from './own/traffic-topup.entity';
import { VpnAccountEntity } from './own/vpn-account.entity';
import { WhmcsAddon } from './whmcs/whmcs-addon.entity';
import { WhmcsClient } from './whmcs/whmcs-client.entity';
import { WhmcsProduct } from './whmcs/whmcs-product.entity';
import { WhmcsServer } from './whmcs/whmcs-server.entity';
import { WhmcsServiceAddon } from './whmcs/whmcs-service-addon.entity';
import { WhmcsService } from './whmcs/whmcs-service.entity';

/** Our own tables (created by migrations). */
export const OWN_ENTITIES = [
  RouterEntity,
  VpnAccountEntity,
  TrafficSampleEntity,
  TrafficDailyEntity,
  TrafficTopUpEntity,
  NotificationEntity,
  ApiKeyEntity,
  EventEntity,
  ClientTokenRevocationEntity,
];

/** WHMCS's tables: read-only, never synchronised or migrated. */
export const WHMCS_ENTITIES = [
  WhmcsProduct,
  WhmcsServer,
  WhmcsService,
  WhmcsClient,
  WhmcsAddon,
  WhmcsServiceAddon,
];

export const ALL_ENTITIES = [...OWN_ENTITIES, ...WHMCS_ENTITIES];
