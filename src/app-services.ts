import { WireGuardService } from './services/wireguard/wireguard.service';
import { SessionLog } from './services/sessions/session-log.service';
import type { DataSource } from 'typeorm';
import type { AppConfig } from './config/app-config';
import type { Logger } from './common/logger';
import type { Metrics } from './metrics';
import { SecretBox } from './auth/secret-box';
import { ApiKeyService } from './services/api-key.service';
import { EventService } from './services/event.service';
import { ProductService } from './services/product.service';
import { ProductPolicyService } from './services/product-policy.service';
import { UsageMetricService } from './services/traffic/usage-metric.service';
import { RouterService } from './services/router.service';
import { VpnAccountService } from './services/vpn-account.service';
import { LiveSessionCache, RouterGateway, RouterSessionPool } from './router';
import { NamedLocks } from './db/named-lock';
import { ClientTokens } from './auth/client-tokens';
import { ClientTokenService } from './services/client-token.service';
import { TrafficLedger } from './services/traffic/traffic-ledger.service';
import { VpnLifecycleService } from './services/lifecycle/vpn-lifecycle.service';
import { ReconcileService } from './services/lifecycle/reconcile.service';
import { RouterCheckService } from './services/router-check.service';
import { NotificationService } from './services/traffic/notification.service';
import { TrafficCollector } from './services/traffic/collector.service';
import { TrafficMeter } from './services/traffic/meter.service';
import { RouterRemovals } from './services/lifecycle/router-removal';
import { WhmcsBillingService } from './services/whmcs-billing.service';
import { TrafficService } from './services/traffic/traffic.service';
import { EventOutbox } from './services/events/outbox.service';
import { WebhookTargetPolicy } from './services/events/ssrf';
import { WebhookService } from './services/events/webhook.service';
import { WebhookDispatcher } from './services/events/webhook-dispatcher';

/** The server's long-lived services, built once at start and shared by requests, jobs and the CLI. */
export function createServices(config: AppConfig, db: DataSource, log?: Logger, metrics?: Metrics) {
  const secretBox = new SecretBox(config.encryption);
  const events = new EventService(db);
  /** Published events (webhooks, subscriptions): written in the transaction of their change. */
  const outbox = new EventOutbox(db);
  const webhookPolicy = new WebhookTargetPolicy(config.webhooks.allowedTargets);
  const routerPool = new RouterSessionPool({
    defaultTimeoutMs: config.router.timeoutMs,
    idleTimeoutMs: config.router.idleMs,
    breaker: {
      failureThreshold: config.routerBreaker.failures,
      baseMs: config.routerBreaker.baseMs,
      maxMs: config.routerBreaker.maxMs,
    },
    onError: metrics && ((error) => metrics.observeRouterError(error)),
  });
  const gateway = new RouterGateway(routerPool);
  const routers = new RouterService(db, secretBox, events);
  const ledger = new TrafficLedger(outbox);
  const locks = new NamedLocks(config.database);
  const notifications = new NotificationService(db, outbox);
  const sessions = new SessionLog(db);
  const meter = new TrafficMeter(db, routers, gateway, notifications, locks, config.timeZone, sessions);
  const removals = new RouterRemovals(db, routers, gateway, meter, sessions);
  const wireguard = new WireGuardService(gateway, secretBox);
  const lifecycle = new VpnLifecycleService(
    db,
    routers,
    gateway,
    events,
    ledger,
    locks,
    notifications,
    removals,
    wireguard,
    sessions,
    outbox,
  );
  return {
    outbox,
    webhooks: new WebhookService(db, secretBox, webhookPolicy, events),
    webhookDispatcher: new WebhookDispatcher(db, secretBox, webhookPolicy, outbox, config.webhooks, {
      log,
      onOutcome: metrics && ((outcome) => metrics.webhookDeliveries.inc({ outcome })),
    }),
    wireguard,
    sessions,
    routerPool,
    gateway,
    config,
    db,
    secretBox,
    clientTokens: new ClientTokens([
      config.encryption.keys.get(config.encryption.activeKeyId)!,
      ...[...config.encryption.keys]
        .filter(([id]) => id !== config.encryption.activeKeyId)
        .map(([, key]) => key),
    ]),
    /** Revocation and the WHMCS owner of a client token's services, checked on every request. */
    clientTokenService: new ClientTokenService(db, events),
    /** Live sessions per router, shared for a few seconds by client-token requests only. */
    liveSessions: new LiveSessionCache(),
    events,
    apiKeys: new ApiKeyService(db),
    products: new ProductService(db),
    productPolicies: new ProductPolicyService(db),
    usageMetric: new UsageMetricService(db, config.timeZone),
    routers,
    accounts: new VpnAccountService(db),
    ledger,
    lifecycle,
    notifications,
    traffic: new TrafficService(db, ledger, lifecycle, events, new WhmcsBillingService(db), config.timeZone),
    locks,
    meter,
    collector: new TrafficCollector(db, meter, lifecycle, sessions, outbox, {
      timeZone: config.timeZone,
      maxConcurrent: config.router.maxConcurrent,
      logError: log && ((err, routerId) => log.error({ err, routerId }, 'collection of a router failed')),
      onRouterDone: metrics && ((result) => metrics.observeRouterCollection(result)),
    }),
    reconcile: new ReconcileService(
      db,
      routers,
      gateway,
      events,
      lifecycle,
      removals,
      locks,
      wireguard,
      sessions,
    ),
    routerCheck: new RouterCheckService(db, routers, gateway, routerPool, events),
  };
}

export type AppServices = ReturnType<typeof createServices>;
