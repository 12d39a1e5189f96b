import crypto from 'node:crypto';
import { In, LessThanOrEqual, Not, type DataSource, type EntityManager } from 'typeorm';
import { RouterEntity } from '../../entities/own/router.entity';
import { VpnAccountEntity, VpnAccountStatus } from '../../entities/own/vpn-account.entity';
import { WhmcsProduct } from '../../entities/whmcs/whmcs-product.entity';
import { readProductSettings, type ProductSettings } from '../../product/product-settings';
import type { RequestContext } from '../../context/request-context';
import type { RouterGateway, QueueCounters } from '../../router';
import { AppError } from '../../errors/app-errors';
import { LockBusyError, type NamedLocks } from '../../db/named-lock';
import { dayIn } from '../../common/time-zone';
import { retryTransaction } from '../../db/retry';
import { toBytes } from '../../common/units';
import { MODULE_NAME } from '../product.service';
import type { RouterService } from '../router.service';
import { queueName } from '../lifecycle/desired-state';
import { counterDelta } from './counter-delta';
import type {
  CollectionFrequency,
  CollectionReport,
  RouterCollection,
} from '../../graphql/types/traffic.type';
import type { NotificationService } from './notification.service';
import type { VpnLifecycleService } from '../lifecycle/vpn-lifecycle.service';

/** Rows per INSERT: large enough to be one statement for a big router, small enough for max_allowed_packet. */
const INSERT_CHUNK = 5000;

/**
 * How far the estimated boot time (collection time − uptime) may move forward without meaning a
 * reboot: uptime has one-second steps, and the read takes a network round trip.
 */
export const BOOT_TIME_TOLERANCE_MS = 30_000;

interface Delta {
  account: VpnAccountEntity;
  counters: QueueCounters;
  download: bigint;
  upload: bigint;
}

export interface CollectOptions {
  routerId?: number;
  frequency?: CollectionFrequency;
  /** Called as each router's collection ends (the CLI's progress line). */
  onRouterDone?: (result: RouterCollection) => void;
}

/**
 * Reads each router's queue counters once and turns them into samples, daily totals and balance
 * debits in ONE transaction per router, so a crash at any point neither loses nor double-counts a
 * byte. One collector per router across all server processes (GET_LOCK); routers run in parallel.
 */
export class TrafficCollector {
  private lastPrune = 0;

  constructor(
    private readonly db: DataSource,
    private readonly routers: RouterService,
    private readonly gateway: RouterGateway,
    private readonly notifications: NotificationService,
    private readonly lifecycle: VpnLifecycleService,
    private readonly locks: NamedLocks,
    private readonly options: {
      timeZone: string;
      maxConcurrent: number;
      /** Where an unexpected error in one router's collection is logged (the run goes on). */
      logError?: (error: unknown, routerId: number) => void;
      /** Called as each router's collection ends, in every run (metrics). */
      onRouterDone?: (result: RouterCollection) => void;
    },
  ) {}

  async collect(ctx: RequestContext, options: CollectOptions = {}): Promise<CollectionReport> {
    const startedAt = new Date();
    const routers = await this.db
      .getRepository(RouterEntity)
      .find(options.routerId === undefined ? { order: { id: 'ASC' } } : { where: { id: options.routerId } });
    const products = await this.db.getRepository(WhmcsProduct).findBy({ servertype: MODULE_NAME });
    const settings = new Map(products.map((p) => [p.id, readProductSettings(p.configOptions())]));

    const results: RouterCollection[] = [];
    const limitedAccounts: VpnAccountEntity[] = [];
    let next = 0;
    const worker = async () => {
      while (next < routers.length) {
        const router = routers[next++];
        const result = await this.collectRouter(ctx, router, settings, options.frequency, limitedAccounts);
        results.push(result);
        this.options.onRouterDone?.(result);
        options.onRouterDone?.(result);
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.options.maxConcurrent, routers.length) }, worker));

    // Limit what ran out, after the counters are safely stored.
    const limited: number[] = [];
    for (const account of limitedAccounts) {
      try {
        await this.lifecycle.settle(ctx, account.serviceId);
        limited.push(account.serviceId);
      } catch {
        // The account is PENDING with the reason; the next run or reconcile limits it.
      }
    }
    await this.pruneSamples(settings);
    results.sort((a, b) => Number(a.routerId) - Number(b.routerId));
    return {
      startedAt,
      durationMs: Date.now() - startedAt.getTime(),
      accountsCollected: results.reduce((n, r) => n + r.accounts, 0),
      samplesWritten: results.reduce((n, r) => n + r.samples, 0),
      downloadBytes: results.reduce((n, r) => n + r.downloadBytes, 0n),
      uploadBytes: results.reduce((n, r) => n + r.uploadBytes, 0n),
      limited,
      routers: results,
    };
  }

  private async collectRouter(
    ctx: RequestContext,
    router: RouterEntity,
    settings: Map<number, ProductSettings>,
    frequency: CollectionFrequency | undefined,
    limitedOut: VpnAccountEntity[],
  ): Promise<RouterCollection> {
    const started = Date.now();
    const result: RouterCollection = {
      routerId: String(router.id),
      ok: false,
      skipped: false,
      errorCode: null,
      error: null,
      accounts: 0,
      samples: 0,
      rebooted: false,
      missingQueues: [],
      downloadBytes: 0n,
      uploadBytes: 0n,
      durationMs: 0,
    };
    try {
      await this.locks.with(`collect:${router.id}`, 0, async () => {
        const accounts = (
          await this.db.getRepository(VpnAccountEntity).findBy({
            routerId: router.id,
            status: Not(VpnAccountStatus.TERMINATED),
          })
        ).filter((a) => frequency !== 'CRON' || settings.get(a.productId)?.collectionFrequency !== 'daily');
        const target = this.routers.target(router);
        const [counters, resource] = await Promise.all([
          this.gateway.readQueueCounters(target),
          this.gateway.systemResource(target),
        ]);
        const readAt = Date.now();
        const bootAt = new Date(readAt - resource.uptimeSeconds * 1000);
        result.rebooted = rebootedSince(router, resource.uptimeSeconds, bootAt);
        const byName = new Map(counters.map((c) => [c.name, c]));
        const deltas: Delta[] = [];
        for (const account of accounts) {
          const current = byName.get(queueName(account.serviceId));
          if (!current) {
            result.missingQueues.push(account.serviceId);
            continue;
          }
          result.accounts++;
          const d = counterDelta(
            {
              download: toBytes(account.lastDownloadCounter),
              upload: toBytes(account.lastUploadCounter),
              queueId: account.counterQueueId,
            },
            { download: current.downloadBytes, upload: current.uploadBytes, queueId: current.id },
            result.rebooted,
          );
          const changed =
            d.download > 0n ||
            d.upload > 0n ||
            current.downloadBytes !== toBytes(account.lastDownloadCounter) ||
            current.uploadBytes !== toBytes(account.lastUploadCounter) ||
            current.id !== account.counterQueueId;
          if (changed) deltas.push({ account, counters: current, download: d.download, upload: d.upload });
        }
        const at = new Date();
        // READ COMMITTED: no gap locks, so the batches of routers collected in parallel never deadlock.
        const exhausted = await retryTransaction(() =>
          this.db.transaction('READ COMMITTED', async (manager) => {
            await this.writeBatch(manager, router, deltas, at, resource.uptimeSeconds, bootAt);
            return this.afterDebit(manager, ctx, deltas, settings);
          }),
        );
        limitedOut.push(...exhausted, ...(await this.stillToLimit(router, exhausted)));
        result.samples = deltas.length;
        for (const d of deltas) {
          result.downloadBytes += d.download;
          result.uploadBytes += d.upload;
        }
        result.ok = true;
      });
    } catch (error) {
      if (error instanceof LockBusyError) {
        result.skipped = true;
        result.ok = true;
        result.error = 'another server process is collecting this router';
      } else if (error instanceof AppError) {
        result.errorCode = error.code;
        result.error = error.message;
      } else {
        // Recorded for this router only; the other routers' collections go on.
        result.errorCode = 'INTERNAL_SERVER_ERROR';
        result.error = 'collection failed; see the server log';
        (this.options.logError ?? logToStderr)(error, router.id);
      }
    } finally {
      result.durationMs = Date.now() - started;
    }
    return result;
  }

  /**
   * Samples, balances, last counters, daily totals and the router's uptime: a fixed number of
   * statements per router batch, whatever the number of accounts.
   */
  private async writeBatch(
    manager: EntityManager,
    router: RouterEntity,
    deltas: Delta[],
    at: Date,
    uptime: number,
    bootAt: Date,
  ) {
    if (deltas.length) {
      const batchId = BigInt(Date.now()) * 1_000_000n + BigInt(crypto.randomInt(1_000_000));
      for (let i = 0; i < deltas.length; i += INSERT_CHUNK) {
        const chunk = deltas.slice(i, i + INSERT_CHUNK);
        await manager.query(
          `INSERT INTO mod_mikrotikvpn_traffic_samples
             (account_id, batch_id, at, download_bytes, upload_bytes, balance_after_bytes, download_counter, upload_counter, queue_id)
           VALUES ${chunk.map(() => '(?, ?, ?, ?, ?, 0, ?, ?, ?)').join(', ')}`,
          chunk.flatMap((d) => [
            d.account.id,
            batchId.toString(),
            at,
            d.download.toString(),
            d.upload.toString(),
            d.counters.downloadBytes.toString(),
            d.counters.uploadBytes.toString(),
            d.counters.id,
          ]),
        );
      }
      // Debit with atomic SQL from the rows just written; unlimited accounts are metered, not debited.
      await manager.query(
        `UPDATE mod_mikrotikvpn_accounts a JOIN mod_mikrotikvpn_traffic_samples s ON s.account_id = a.id AND s.batch_id = ?
            SET a.balance_bytes = IF(a.unlimited, a.balance_bytes, a.balance_bytes - CAST(s.download_bytes AS SIGNED) - CAST(s.upload_bytes AS SIGNED)),
                a.last_download_counter = s.download_counter,
                a.last_upload_counter = s.upload_counter,
                a.counter_queue_id = s.queue_id,
                a.last_counters_at = s.at`,
        [batchId.toString()],
      );
      await manager.query(
        `UPDATE mod_mikrotikvpn_traffic_samples s JOIN mod_mikrotikvpn_accounts a ON a.id = s.account_id
            SET s.balance_after_bytes = a.balance_bytes
          WHERE s.batch_id = ?`,
        [batchId.toString()],
      );
      await manager.query(
        `INSERT INTO mod_mikrotikvpn_traffic_daily (account_id, day, download_bytes, upload_bytes, balance_after_bytes)
           SELECT s.account_id, ?, s.download_bytes, s.upload_bytes, s.balance_after_bytes
             FROM mod_mikrotikvpn_traffic_samples s WHERE s.batch_id = ?
         ON DUPLICATE KEY UPDATE
           download_bytes = mod_mikrotikvpn_traffic_daily.download_bytes + VALUES(download_bytes),
           upload_bytes = mod_mikrotikvpn_traffic_daily.upload_bytes + VALUES(upload_bytes),
           balance_after_bytes = VALUES(balance_after_bytes)`,
        [dayIn(this.options.timeZone, at), batchId.toString()],
      );
    }
    await manager.query(
      'UPDATE mod_mikrotikvpn_routers SET last_uptime_seconds = ?, last_boot_at = ?, last_seen_at = ? WHERE id = ?',
      [uptime, bootAt, at, router.id],
    );
  }

  /** Queues the low-traffic and limited notices, and returns the accounts that must be limited now. */
  private async afterDebit(
    manager: EntityManager,
    ctx: RequestContext,
    deltas: Delta[],
    settings: Map<number, ProductSettings>,
  ): Promise<VpnAccountEntity[]> {
    const metered = deltas.filter((d) => !d.account.unlimited && (d.download > 0n || d.upload > 0n));
    if (!metered.length) return [];
    const balances: { id: number; balance_bytes: string; status: VpnAccountStatus }[] = await manager.query(
      `SELECT id, balance_bytes, status FROM mod_mikrotikvpn_accounts WHERE id IN (${metered.map(() => '?').join(',')})`,
      metered.map((d) => d.account.id),
    );
    const byId = new Map(metered.map((d) => [d.account.id, d.account]));
    const exhausted: VpnAccountEntity[] = [];
    const low: VpnAccountEntity[] = [];
    for (const row of balances) {
      const account = byId.get(row.id)!;
      account.balanceBytes = row.balance_bytes;
      const balance = toBytes(row.balance_bytes);
      const threshold = settings.get(account.productId)?.lowTrafficThresholdBytes ?? 0n;
      if (balance <= 0n) {
        if (row.status === VpnAccountStatus.ACTIVE || row.status === VpnAccountStatus.PENDING)
          exhausted.push(account);
      } else if (threshold > 0n && balance < threshold) {
        low.push(account);
      }
    }
    await this.notifications.enqueueFor(manager, ctx, low, exhausted, settings);
    return exhausted;
  }

  /**
   * Accounts of this router whose balance is used up but which are still ACTIVE (or PENDING) though
   * they had no new traffic in this run: a crash between an earlier commit and its limiting step, or
   * a debit by hand. One query per router.
   */
  private async stillToLimit(router: RouterEntity, already: VpnAccountEntity[]): Promise<VpnAccountEntity[]> {
    const seen = new Set(already.map((a) => a.id));
    const rows = await this.db.getRepository(VpnAccountEntity).find({
      where: {
        routerId: router.id,
        unlimited: false,
        suspended: false,
        status: In([VpnAccountStatus.ACTIVE, VpnAccountStatus.PENDING]),
        balanceBytes: LessThanOrEqual('0'),
      },
    });
    return rows.filter((a) => !seen.has(a.id));
  }

  /** Deletes samples older than each product's history setting, at most once an hour per process. */
  private async pruneSamples(settings: Map<number, ProductSettings>) {
    if (Date.now() - this.lastPrune < 3_600_000) return;
    this.lastPrune = Date.now();
    const byDays = new Map<number, number[]>();
    for (const [productId, s] of settings) {
      if (s.historyDays > 0) byDays.set(s.historyDays, [...(byDays.get(s.historyDays) ?? []), productId]);
    }
    for (const [days, productIds] of byDays) {
      await this.db.query(
        `DELETE s FROM mod_mikrotikvpn_traffic_samples s JOIN mod_mikrotikvpn_accounts a ON a.id = s.account_id
          WHERE a.product_id IN (${productIds.map(() => '?').join(',')}) AND s.at < ?`,
        [...productIds, new Date(Date.now() - days * 86_400_000)],
      );
    }
  }
}

/**
 * A reboot since the last collection: the uptime went down, or the boot time (collection time −
 * uptime) moved forward by more than the tolerance — which also catches a reboot whose new uptime is
 * already longer than the last one seen (two reboots close together, or a long collector outage).
 */
export function rebootedSince(router: RouterEntity, uptimeSeconds: number, bootAt: Date): boolean {
  if (router.lastUptimeSeconds !== null && uptimeSeconds < Number(router.lastUptimeSeconds)) return true;
  return (
    router.lastBootAt !== null && bootAt.getTime() - router.lastBootAt.getTime() > BOOT_TIME_TOLERANCE_MS
  );
}

function logToStderr(error: unknown, routerId: number) {
  console.error(`collection of router ${routerId} failed:`, error);
}
