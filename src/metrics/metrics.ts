import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { DataSource } from 'typeorm';
import { AppError } from '../errors/app-errors';
import { VpnAccountStatus } from '../entities/own/vpn-account.entity';
import type { RouterCollection } from '../graphql/types/traffic.type';
import { isNoSuchItem } from '../router/router-errors';

/** Every metric name this server exports (the Grafana dashboard and its test use these). */
export const METRIC_NAMES = [
  'mvpn_collection_duration_seconds',
  'mvpn_collection_failures_total',
  'mvpn_collected_bytes_total',
  'mvpn_router_errors_total',
  'mvpn_accounts',
  'mvpn_notifications_pending',
  'mvpn_graphql_requests_total',
  'mvpn_graphql_request_duration_seconds',
  'mvpn_webhook_deliveries_total',
  'mvpn_webhook_queue_age_seconds',
] as const;

/**
 * The server's Prometheus metrics, on a registry of its own (never prom-client's global one, so two
 * servers in one process — tests — never share counters). Labels are bounded: router ids, error
 * codes, account statuses, GraphQL operation types and outcomes; never raw client input.
 */
export class Metrics {
  readonly registry = new Registry();

  readonly collectionDuration = new Histogram({
    name: 'mvpn_collection_duration_seconds',
    help: "Time to collect one router's traffic counters (read, write, debit), by router id",
    labelNames: ['router'] as const,
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
    registers: [this.registry],
  });

  readonly collectionFailures = new Counter({
    name: 'mvpn_collection_failures_total',
    help: 'Collections of a router that failed, by router id and error code',
    labelNames: ['router', 'code'] as const,
    registers: [this.registry],
  });

  readonly collectedBytes = new Counter({
    name: 'mvpn_collected_bytes_total',
    help: "Traffic metered by the collector, in bytes, by router id and direction (the customer's view)",
    labelNames: ['router', 'direction'] as const,
    registers: [this.registry],
  });

  readonly routerErrors = new Counter({
    name: 'mvpn_router_errors_total',
    help: 'Router commands or connections that failed, by error code',
    labelNames: ['code'] as const,
    registers: [this.registry],
  });

  readonly graphqlRequests = new Counter({
    name: 'mvpn_graphql_requests_total',
    help: 'GraphQL operations, by operation type (query, mutation, unknown) and outcome (ok or the error code)',
    labelNames: ['operation', 'outcome'] as const,
    registers: [this.registry],
  });

  readonly graphqlDuration = new Histogram({
    name: 'mvpn_graphql_request_duration_seconds',
    help: 'GraphQL operation latency, by operation type and outcome',
    labelNames: ['operation', 'outcome'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });

  readonly webhookDeliveries = new Counter({
    name: 'mvpn_webhook_deliveries_total',
    help: 'Webhook delivery attempts by this process, by outcome (delivered, retry, failed = gave up)',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  constructor(db?: DataSource) {
    // Every outcome from zero, so that rate() and the dashboard see the series before the first delivery.
    for (const outcome of ['delivered', 'retry', 'failed']) this.webhookDeliveries.inc({ outcome }, 0);
    // Node's own (CPU, memory, event loop lag, GC): mvpn_process_cpu_seconds_total, mvpn_nodejs_...
    collectDefaultMetrics({ register: this.registry, prefix: 'mvpn_' });
    if (!db) return;
    // Read at scrape time with one query each, so every instance reports the database's truth. While
    // the database does not answer they are left out of the scrape rather than showing stale values.
    new Gauge({
      name: 'mvpn_accounts',
      help: 'VPN accounts by status',
      labelNames: ['status'] as const,
      registers: [this.registry],
      async collect() {
        this.reset();
        const rows = await queryOrNull<{ status: string; n: string | number }>(
          db,
          'SELECT status, COUNT(*) AS n FROM mod_mikrotikvpn_accounts GROUP BY status',
        );
        if (!rows) return;
        const counts = new Map(rows.map((r) => [r.status, Number(r.n)]));
        for (const status of Object.values(VpnAccountStatus)) this.set({ status }, counts.get(status) ?? 0);
      },
    });
    new Gauge({
      name: 'mvpn_notifications_pending',
      help: 'Notification emails queued for WHMCS and not yet acknowledged',
      registers: [this.registry],
      async collect() {
        this.reset();
        const rows = await queryOrNull<{ n: string | number }>(
          db,
          'SELECT COUNT(*) AS n FROM mod_mikrotikvpn_notifications WHERE acknowledged_at IS NULL',
        );
        if (rows) this.set(Number(rows[0].n));
      },
    });
    new Gauge({
      name: 'mvpn_webhook_queue_age_seconds',
      help: 'Age of the oldest webhook delivery not yet delivered nor given up (0: none waiting)',
      registers: [this.registry],
      async collect() {
        this.reset();
        const rows = await queryOrNull<{ age: string | number | null }>(
          db,
          `SELECT TIMESTAMPDIFF(MICROSECOND, MIN(created_at), UTC_TIMESTAMP(3)) / 1000000 AS age
             FROM mod_mikrotikvpn_webhook_deliveries WHERE status IN ('PENDING', 'IN_FLIGHT')`,
        );
        if (rows) this.set(Number(rows[0].age ?? 0));
      },
    });
  }

  /** One router's collection, as the collector reports it. */
  observeRouterCollection(result: RouterCollection): void {
    if (result.skipped) return; // another process collected it and counts it there
    const router = result.routerId;
    this.collectionDuration.observe({ router }, result.durationMs / 1000);
    if (!result.ok) this.collectionFailures.inc({ router, code: result.errorCode ?? 'UNKNOWN' });
    // Counters take numbers: exact up to 2^53 bytes per increment (9 PB), far beyond one run.
    if (result.downloadBytes > 0n)
      this.collectedBytes.inc({ router, direction: 'download' }, Number(result.downloadBytes));
    if (result.uploadBytes > 0n)
      this.collectedBytes.inc({ router, direction: 'upload' }, Number(result.uploadBytes));
  }

  /** A failed router command or connection. */
  observeRouterError(error: unknown): void {
    if (isNoSuchItem(error)) return; // an expected answer (removing what is already gone), not a fault
    this.routerErrors.inc({ code: error instanceof AppError ? error.code : 'UNKNOWN' });
  }

  contentType(): string {
    return this.registry.contentType;
  }

  render(): Promise<string> {
    return this.registry.metrics();
  }
}

/** The rows of a query, or null while the database does not answer. */
async function queryOrNull<T>(db: DataSource, sql: string): Promise<T[] | null> {
  if (!db.isInitialized) return null;
  try {
    return (await db.query(sql)) as T[];
  } catch {
    return null;
  }
}
