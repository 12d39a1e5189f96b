import crypto from 'node:crypto';
import { escape } from 'mysql2';
import type { DataSource, EntityManager } from 'typeorm';
import { RouterEntity } from '../../entities/own/router.entity';
import { VpnAccountStatus } from '../../entities/own/vpn-account.entity';
import { WhmcsProduct } from '../../entities/whmcs/whmcs-product.entity';
import { readProductSettings, type ProductSettings } from '../../product/product-settings';
import type { RequestContext } from '../../context/request-context';
import type { RouterGateway, QueueCounters } from '../../router';
import { AppError } from '../../errors/app-errors';
import { LockBusyError, type NamedLocks } from '../../db/named-lock';
import { dayIn } from '../../common/time-zone';
import { retryTransaction } from '../../db/retry';
import { isDatabaseUnavailable } from '../../db/database-errors';
import { ErrorCode } from '../../errors/error-code';
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
import type { NoticeAccount, NotificationService } from './notification.service';
import type { VpnLifecycleService } from '../lifecycle/vpn-lifecycle.service';

/** Rows per INSERT: large enough to be one statement for a big router, small enough for max_allowed_packet. */
const INSERT_CHUNK = 5000;

/** Old samples deleted per statement when pruning. */
const PRUNE_CHUNK = 5000;

/**
 * How far the estimated boot time (collection time − uptime) may move forward without meaning a
 * reboot: uptime has one-second steps, and the read takes a network round trip.
 */
export const BOOT_TIME_TOLERANCE_MS = 30_000;

/** What the collector reads of an account: one raw query per router, no entity hydration. */
interface CollectedAccount extends NoticeAccount {
  status: VpnAccountStatus;
  suspended: boolean;
  unlimited: boolean;
  lastDownloadCounter: string;
  lastUploadCounter: string;
  counterQueueId: string | null;
}

interface Delta {
  account: CollectedAccount;
  counters: QueueCounters;
  download: bigint;
  upload: bigint;
}

/** The phases of one router's collection, in order, as reported to {@link TrafficCollector.onPhase}. */
export type CollectPhase = 'lock' | 'read' | 'deltas' | 'write';

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
  /** Profiling hook (the benchmark's): how long each phase of one router's collection took. */
  onPhase?: (routerId: number, phase: CollectPhase, ms: number) => void;

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
    const limitedAccounts: { serviceId: number }[] = [];
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
    limitedOut: { serviceId: number }[],
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
    let mark = performance.now();
    const phase = (name: CollectPhase) => {
      const now = performance.now();
      this.onPhase?.(router.id, name, now - mark);
      mark = now;
    };
    try {
      await this.locks.with(`collect:${router.id}`, 0, async () => {
        phase('lock');
        const target = this.routers.target(router);
        // The accounts query runs while the router answers: it is off the critical path.
        const [allAccounts, counters, resource] = await Promise.all([
          this.accountsOf(router.id),
          this.gateway.readQueueCounters(target),
          this.gateway.systemResource(target),
        ]);
        phase('read');
        const accounts = allAccounts.filter(
          (a) => frequency !== 'CRON' || settings.get(a.productId)?.collectionFrequency !== 'daily',
        );
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
        phase('deltas');
        const at = new Date();
        // READ COMMITTED: no gap locks, so the batches of routers collected in parallel never deadlock.
        const exhausted = await retryTransaction(() =>
          this.db.transaction('READ COMMITTED', async (manager) => {
            const balances = await this.writeBatch(
              manager,
              router,
              deltas,
              at,
              resource.uptimeSeconds,
              bootAt,
            );
            return this.afterDebit(manager, ctx, deltas, balances, settings);
          }),
        );
        phase('write');
        limitedOut.push(...exhausted, ...stillToLimit(allAccounts, exhausted));
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
      } else if (isDatabaseUnavailable(error)) {
        // Nothing was committed; the next run reads the same counters again.
        result.errorCode = ErrorCode.DATABASE_UNAVAILABLE;
        result.error = 'the database was unavailable; nothing was written for this router';
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
   * Every active account of a router with what the collector needs: one query, no entity hydration
   * (for 2,500 accounts TypeORM's hydration alone took longer than the router's reply).
   */
  private async accountsOf(routerId: number): Promise<CollectedAccount[]> {
    const rows: {
      id: number;
      service_id: number;
      product_id: number;
      username: string;
      status: VpnAccountStatus;
      suspended: number;
      unlimited: number;
      balance_bytes: string;
      cycle_allowance_bytes: string;
      last_download_counter: string;
      last_upload_counter: string;
      counter_queue_id: string | null;
    }[] = await this.db.query(
      `SELECT id, service_id, product_id, username, status, suspended, unlimited, balance_bytes,
              cycle_allowance_bytes, last_download_counter, last_upload_counter, counter_queue_id
         FROM mod_mikrotikvpn_accounts WHERE router_id = ? AND status <> 'TERMINATED'`,
      [routerId],
    );
    return rows.map((r) => ({
      id: r.id,
      serviceId: r.service_id,
      productId: r.product_id,
      username: r.username,
      status: r.status,
      suspended: !!r.suspended,
      unlimited: !!r.unlimited,
      balanceBytes: r.balance_bytes,
      cycleAllowanceBytes: r.cycle_allowance_bytes,
      lastDownloadCounter: r.last_download_counter,
      lastUploadCounter: r.last_upload_counter,
      counterQueueId: r.counter_queue_id,
    }));
  }

  /**
   * Samples, balances, last counters, daily totals and the router's uptime: a fixed number of
   * statements per router batch, whatever the number of accounts. The accounts' rows are locked
   * first (FOR UPDATE), so the balance each sample records is exactly the balance its debit leaves,
   * without a second pass over the samples. Returns the balances and statuses read under the lock.
   */
  private async writeBatch(
    manager: EntityManager,
    router: RouterEntity,
    deltas: Delta[],
    at: Date,
    uptime: number,
    bootAt: Date,
  ): Promise<Map<number, { balance: bigint; status: VpnAccountStatus }>> {
    const balances = new Map<number, { balance: bigint; status: VpnAccountStatus }>();
    if (deltas.length) {
      // Rows and values below are written into the SQL directly: every one is a number, a bigint or
      // a driver-escaped string. Formatting ~25,000 placeholders per router of 2,500 accounts cost
      // the collector more CPU than the router's reply.
      const locked: { id: number; balance_bytes: string; status: VpnAccountStatus }[] = await manager.query(
        `SELECT id, balance_bytes, status FROM mod_mikrotikvpn_accounts WHERE id IN (${deltas.map((d) => Number(d.account.id)).join(',')}) FOR UPDATE`,
      );
      for (const row of locked)
        balances.set(row.id, { balance: toBytes(row.balance_bytes), status: row.status });
      const batchId = BigInt(Date.now()) * 1_000_000n + BigInt(crypto.randomInt(1_000_000));
      // DATETIME(3) in UTC, as the driver writes a Date with the connection's time zone 'Z'.
      const atSql = escape(at.toISOString().slice(0, 23).replace('T', ' '));
      for (let i = 0; i < deltas.length; i += INSERT_CHUNK) {
        const rows = deltas.slice(i, i + INSERT_CHUNK).map((d) => {
          const locked = balances.get(d.account.id);
          // Unlimited accounts are metered, not debited.
          const after = !locked
            ? 0n
            : d.account.unlimited
              ? locked.balance
              : locked.balance - d.download - d.upload;
          if (locked) locked.balance = after;
          return `(${Number(d.account.id)}, ${batchId}, ${atSql}, ${d.download}, ${d.upload}, ${after}, ${d.counters.downloadBytes}, ${d.counters.uploadBytes}, ${escape(d.counters.id)})`;
        });
        await manager.query(
          `INSERT INTO mod_mikrotikvpn_traffic_samples
             (account_id, batch_id, at, download_bytes, upload_bytes, balance_after_bytes, download_counter, upload_counter, queue_id)
           VALUES ${rows.join(', ')}`,
        );
      }
      // The debit itself stays atomic SQL; under the lock it leaves what balance_after_bytes says.
      // The join is driven from this batch's samples (STRAIGHT_JOIN, batch index): with stale table
      // statistics the optimizer otherwise scanned all accounts and probed their samples, reading
      // (and S-locking) other routers' uncommitted batches: seconds of lock waits, and deadlocks.
      await manager.query(
        `UPDATE mod_mikrotikvpn_traffic_samples s FORCE INDEX (ix_samples_batch)
           STRAIGHT_JOIN mod_mikrotikvpn_accounts a ON a.id = s.account_id
            SET a.balance_bytes = IF(a.unlimited, a.balance_bytes, a.balance_bytes - CAST(s.download_bytes AS SIGNED) - CAST(s.upload_bytes AS SIGNED)),
                a.last_download_counter = s.download_counter,
                a.last_upload_counter = s.upload_counter,
                a.counter_queue_id = s.queue_id,
                a.last_counters_at = s.at
          WHERE s.batch_id = ?`,
        [batchId.toString()],
      );
      await manager.query(
        `INSERT INTO mod_mikrotikvpn_traffic_daily (account_id, day, download_bytes, upload_bytes, balance_after_bytes)
           SELECT s.account_id, ?, s.download_bytes, s.upload_bytes, s.balance_after_bytes
             FROM mod_mikrotikvpn_traffic_samples s FORCE INDEX (ix_samples_batch) WHERE s.batch_id = ?
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
    return balances;
  }

  /** Queues the low-traffic and limited notices, and returns the accounts that must be limited now. */
  private async afterDebit(
    manager: EntityManager,
    ctx: RequestContext,
    deltas: Delta[],
    balances: Map<number, { balance: bigint; status: VpnAccountStatus }>,
    settings: Map<number, ProductSettings>,
  ): Promise<CollectedAccount[]> {
    const exhausted: CollectedAccount[] = [];
    const low: CollectedAccount[] = [];
    for (const d of deltas) {
      const account = d.account;
      const locked = balances.get(account.id);
      if (!locked) continue;
      account.balanceBytes = locked.balance.toString();
      account.status = locked.status;
      if (account.unlimited || (d.download === 0n && d.upload === 0n)) continue;
      const threshold = settings.get(account.productId)?.lowTrafficThresholdBytes ?? 0n;
      if (locked.balance <= 0n) {
        if (locked.status === VpnAccountStatus.ACTIVE || locked.status === VpnAccountStatus.PENDING)
          exhausted.push(account);
      } else if (threshold > 0n && locked.balance < threshold) {
        low.push(account);
      }
    }
    if (low.length || exhausted.length)
      await this.notifications.enqueueFor(manager, ctx, low, exhausted, settings);
    return exhausted;
  }

  /**
   * Deletes samples older than each product's history setting, at most once an hour per process.
   * The old rows are found with a plain (non-locking) read and deleted by primary key, 5,000 at a
   * time: a locking DELETE … JOIN waited on other routers' uncommitted batches (InnoDB reads the
   * row after each account's old samples to end its range) and failed the run after 50 s. A prune
   * that fails is logged and tried again next hour; the samples it would delete are harmless.
   */
  private async pruneSamples(settings: Map<number, ProductSettings>) {
    if (Date.now() - this.lastPrune < 3_600_000) return;
    this.lastPrune = Date.now();
    const byDays = new Map<number, number[]>();
    for (const [productId, s] of settings) {
      if (s.historyDays > 0) byDays.set(s.historyDays, [...(byDays.get(s.historyDays) ?? []), productId]);
    }
    try {
      for (const [days, productIds] of byDays) {
        const before = new Date(Date.now() - days * 86_400_000);
        for (;;) {
          const rows: { id: string }[] = await this.db.query(
            `SELECT s.id FROM mod_mikrotikvpn_traffic_samples s JOIN mod_mikrotikvpn_accounts a ON a.id = s.account_id
              WHERE a.product_id IN (${productIds.map(() => '?').join(',')}) AND s.at < ? LIMIT ${PRUNE_CHUNK}`,
            [...productIds, before],
          );
          if (!rows.length) break;
          await this.db.query(
            `DELETE FROM mod_mikrotikvpn_traffic_samples WHERE id IN (${rows.map((r) => BigInt(r.id)).join(',')})`,
          );
          if (rows.length < PRUNE_CHUNK) break;
        }
      }
    } catch (error) {
      // Logged through the run's error log (router id 0: no router's collection failed).
      (this.options.logError ?? logToStderr)(new Error('pruning old samples failed', { cause: error }), 0);
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

/**
 * Accounts of the router whose balance is used up but which are still ACTIVE (or PENDING) though
 * this run's debit did not use them up: a crash between an earlier commit and its limiting step, or
 * a debit by hand. From the run's own account query (balances of this batch as read under its
 * lock), so it costs no statement.
 */
function stillToLimit(accounts: CollectedAccount[], already: CollectedAccount[]): CollectedAccount[] {
  const seen = new Set(already.map((a) => a.id));
  return accounts.filter(
    (a) =>
      !seen.has(a.id) &&
      !a.unlimited &&
      !a.suspended &&
      (a.status === VpnAccountStatus.ACTIVE || a.status === VpnAccountStatus.PENDING) &&
      toBytes(a.balanceBytes) <= 0n,
  );
}

function logToStderr(error: unknown, routerId: number) {
  console.error(`collection of router ${routerId} failed:`, error);
}
