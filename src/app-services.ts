import type { DataSource } from 'typeorm';
import type { AppConfig } from './config/app-config';
import { SecretBox } from './auth/secret-box';
import { ApiKeyService } from './services/api-key.service';
import { EventService } from './services/event.service';
import { ProductService } from './services/product.service';
import { RouterService } from './services/router.service';
import { VpnAccountService } from './services/vpn-account.service';

/** The server's long-lived services, built once at start and shared by requests, jobs and the CLI. */
export function createServices(config: AppConfig, db: DataSource) {
  const secretBox = new SecretBox(config.encryption);
  const events = new EventService(db);
  return {
    config,
    db,
    secretBox,
    events,
    apiKeys: new ApiKeyService(db),
    products: new ProductService(db),
    routers: new RouterService(db, secretBox, events),
    accounts: new VpnAccountService(db),
  };
}

export type AppServices = ReturnType<typeof createServices>;
