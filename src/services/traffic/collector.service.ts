import type { DataSource } from 'typeorm';
import { retryTransaction } from '../../db/retry';
import { RouterEntity } from '../../entities/own/router.entity';
import { VpnAccountStatus } from '../../entities/own/vpn-account.entity';
import { WhmcsProduct } from '../../entities/whmcs/whmcs-product.entity';
import { readProductSettings, type ProductSettings } from '../../product/product-settings';
import type { RequestContext } from '../../context/request-context';
import { AppError } from '../../errors/app-errors';
import { LockBusyError } from '../../db/named-lock';
import { dayIn, startOfDay, addDays } from '../../common/time-zone';
import { isDatabaseUnavailable } from '../../db/database-errors';
import { ErrorCode } from '../../errors/error-code';
import { DEFAULT_POLICY } from '../../product/product-policy';
import { desiredStatus } from '../lifecycle/desired-state';
import { attachPolicies } from '../product-policy-store';
import { MODULE_NAME } from '../product.service';
import type { CollectionFrequency, CollectionReport, RouterCollection } from './traffic-types';
import type { SessionLog } from '../sessions/session-log.service';
import type { VpnLifecycleService } from '../lifecycle/vpn-lifecycle.service';
import type { MeteredAccount, MeterPhase, TrafficMeter } from './meter.service';
import type { EventOutbox } from '../events/outbox.service';

/** Failures that mean the router could not be talked to at all (router.unreachable). */
const UNREACHABLE_CODES: ReadonlySet<string> = new Set([
  ErrorCode.ROUTER_UNREACHABLE,
  ErrorCode.ROUTER_TIMEOUT,
  ErrorCode.ROUTER_TLS_FAILED,
]);

/** Old samples deleted per statement when pruning. */
const PRUNE_CHUNK = 5000;

/** How often one process prunes old samples (monotonic clock). */
const PRUNE_EVERY_MS = 3_600_000;

/** The phases of one router's collection, in order, as reported to {@link TrafficCollector.onPhase}. */
export type CollectPhase = MeterPhase;

export interface CollectOptions {
  routerId?: number;
  frequency?: CollectionFrequency;
  /** Called as each router's collection ends (the CLI's progress line). */
  onRouterDone?: (result: RouterCollection) => void;
}

/**
 * Collects every router (in parallel, each read by the meter in one transaction), then limits the
 * accounts that ran out, after their counters are safely stored, and prunes old samples.
 */
export class TrafficCollector {
  private lastPrune: number | null = null;

  constructor(
    private readonly db: DataSource,
    private readonly meter: TrafficMeter,
    private readonly lifecycle: VpnLifecycleService,
    private readonly sessions: SessionLog,
    private readonly outbox: EventOutbox,
    private readonly options: {
      timeZone: string;
      maxConcurrent: number;
      /** Where an unexpected error in one router's collection is logged (the run goes on). */
      logError?: (error: unknown, routerId: number) => void;
      /** Called as each router's collection ends, in every run (metrics). */
      onRouterDone?: (result: RouterCollection) => void;
    },
  ) {}

  /** Profiling hook (the benchmark's): how long each phase of one router's collection took. */
  get onPhase(): ((routerId: number, phase: CollectPhase, ms: number) => void) | undefined {
    return this.meter.onPhase;
  }

  set onPhase(hook: ((routerId: number, phase: CollectPhase, ms: number) => void) | undefined) {
    this.meter.onPhase = hook;
  }

  async collect(ctx: RequestContext, options: CollectOptions = {}): Promise<CollectionReport> {
    const startedAt = new Date();
    const started = performance.now();
    const routers = await this.db
      .getRepository(RouterEntity)
      .find(options.routerId === undefined ? { order: { id: 'ASC' } } : { where: { id: options.routerId } });
    const products = await this.db.getRepository(WhmcsProduct).findBy({ servertype: MODULE_NAME });
    const settings = await attachPolicies(
      this.db,
      new Map(products.map((p) => [p.id, readProductSettings(p.configOptions())])),
    );

    const results: RouterCollection[] = [];
    const toLimit: number[] = [];
    const toReapply: number[] = [];
    let dbNow: Date | null = null;
    let next = 0;
    const worker = async () => {
      while (next < routers.length) {
        const router = routers[next++];
        const { result, limit, throttleDrift, at } = await this.collectRouter(
          ctx,
          router,
          settings,
          options.frequency,
        );
        dbNow ??= at;
        toLimit.push(...limit);
        toReapply.push(...throttleDrift);
        results.push(result);
        this.options.onRouterDone?.(result);
        options.onRouterDone?.(result);
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.options.maxConcurrent, routers.length) }, worker));

    // Limit what ran out, after the counters are safely stored.
    const limited: number[] = [];
    for (const serviceId of toLimit) {
      try {
        await this.lifecycle.settle(ctx, serviceId);
        limited.push(serviceId);
      } catch {
        // The account is PENDING with the reason; the next run or reconcile limits it.
      }
    }
    // Throttled accounts whose queue is not at the throttle speed (changed in the policy since,
    // or on the router) get it again now; not limited, so not reported as such.
    for (const serviceId of toReapply)
      await this.lifecycle.settle(ctx, serviceId, { reapply: true }).catch(() => undefined);
    if (dbNow) await this.pruneSamples(settings, dbNow);
    results.sort((a, b) => Number(a.routerId) - Number(b.routerId));
    return {
      startedAt,
      durationMs: Math.round(performance.now() - started),
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
  ): Promise<{ result: RouterCollection; limit: number[]; throttleDrift: number[]; at: Date | null }> {
    const started = performance.now();
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
    let limit: number[] = [];
    let throttleDrift: number[] = [];
    let at: Date | null = null;
    try {
      const reading = await this.meter.read(ctx, router, settings, {
        lockWaitSeconds: 0,
        // The every-cron run leaves products collected daily to the daily run. A restart it
        // notices is still remembered for them: their counters carry the boot epoch they were read in.
        skipProduct:
          frequency === 'CRON' ? (id) => settings.get(id)?.collectionFrequency === 'daily' : undefined,
      });
      at = reading.at;
      result.rebooted = reading.restarted;
      result.accounts = reading.accounts;
      result.missingQueues = reading.missingQueues;
      result.samples = reading.deltas.length;
      for (const d of reading.deltas) {
        result.downloadBytes += d.download;
        result.uploadBytes += d.upload;
      }
      limit = [...reading.exhausted, ...stillToSettle(reading.all, reading.exhausted, settings)].map(
        (a) => a.serviceId,
      );
      throttleDrift = reading.throttleDrift
        .filter((a) => !limit.includes(a.serviceId))
        .map((a) => a.serviceId);
      // One session per account (a product setting): a second one is ended in this collection.
      if (reading.duplicates.length)
        await this.lifecycle
          .endDuplicateSessions(ctx, router, reading.duplicates, settings)
          .catch((error) => (this.options.logError ?? logToStderr)(error, router.id));
      result.ok = true;
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
        result.errorCode = ErrorCode.INTERNAL_SERVER_ERROR;
        result.error = 'collection failed; see the server log';
        (this.options.logError ?? logToStderr)(error, router.id);
      }
    } finally {
      result.durationMs = Math.round(performance.now() - started);
    }
    if (!result.skipped) {
      await this.publishOutcome(router, result).catch((error) =>
        (this.options.logError ?? logToStderr)(error, router.id),
      );
    }
    return { result, limit, throttleDrift, at };
  }

  /**
   * collection.failed for every failed collection; router.unreachable when the router could not be
   * talked to and was reachable before, router.recovered at its next good collection. The change is
   * the router's `unreachable_since`, set and cleared by conditional updates, so each transition is
   * announced once, whichever process saw it.
   */
  private async publishOutcome(router: RouterEntity, result: RouterCollection): Promise<void> {
    const ref = { routerId: router.id };
    // A good collection of a router that was reachable when this run read it has nothing to clear
    // (no statement at all). Marked unreachable by another process since then, it is cleared by the
    // next run, which reads the mark.
    if (result.ok && !router.unreachableSince) return;
    await retryTransaction(() =>
      this.db.transaction(async (manager) => {
        if (result.ok) {
          const cleared: { affectedRows: number } = await manager.query(
            'UPDATE mod_mikrotikvpn_routers SET unreachable_since = NULL WHERE id = ? AND unreachable_since IS NOT NULL',
            [router.id],
          );
          if (cleared.affectedRows)
            await this.outbox.emit(manager, { type: 'router.recovered', payload: ref });
          return;
        }
        const failure = { ...ref, errorCode: result.errorCode ?? ErrorCode.INTERNAL_SERVER_ERROR };
        if (UNREACHABLE_CODES.has(failure.errorCode)) {
          const marked: { affectedRows: number } = await manager.query(
            'UPDATE mod_mikrotikvpn_routers SET unreachable_since = UTC_TIMESTAMP(3) WHERE id = ? AND unreachable_since IS NULL',
            [router.id],
          );
          if (marked.affectedRows)
            await this.outbox.emit(manager, {
              type: 'router.unreachable',
              payload: { ...failure, message: (result.error ?? '').slice(0, 300) },
            });
        }
        await this.outbox.emit(manager, {
          type: 'collection.failed',
          payload: { ...failure, message: (result.error ?? '').slice(0, 300) },
        });
      }),
    );
  }

  /**
   * Deletes samples older than each product's history setting — whole days in WHMCS's time zone,
   * counted on the database's clock — at most once an hour per process. The old rows are found with
   * a plain (non-locking) read and deleted by primary key, 5,000 at a time: a locking DELETE … JOIN
   * waited on other routers' uncommitted batches (InnoDB reads the row after each account's old
   * samples to end its range) and failed the run after 50 s. A prune that fails is logged and tried
   * again next hour; the samples it would delete are harmless.
   */
  private async pruneSamples(settings: Map<number, ProductSettings>, dbNow: Date) {
    if (this.lastPrune !== null && performance.now() - this.lastPrune < PRUNE_EVERY_MS) return;
    this.lastPrune = performance.now();
    const byDays = new Map<number, number[]>();
    for (const [productId, s] of settings) {
      if (s.historyDays > 0) byDays.set(s.historyDays, [...(byDays.get(s.historyDays) ?? []), productId]);
    }
    const today = dayIn(this.options.timeZone, dbNow);
    try {
      for (const [days, productIds] of byDays) {
        // Today and the `days` days before it are kept whole.
        const before = startOfDay(addDays(today, -days), this.options.timeZone);
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
        // The session log is kept as long as the samples.
        await this.sessions.prune(productIds, before, PRUNE_CHUNK);
      }
    } catch (error) {
      // Logged through the run's error log (router id 0: no router's collection failed).
      (this.options.logError ?? logToStderr)(new Error('pruning old samples failed', { cause: error }), 0);
    }
  }
}

/**
 * Accounts of the router whose used-up status is not the one their product's policy gives, though
 * this run's debit did not use them up: still ACTIVE (or PENDING) after a crash between an earlier
 * commit and its limiting step, or a debit by hand; or THROTTLED / LIMITED under a policy that has
 * changed since (a product switched from throttle to cut-off, or back, or to overage billing,
 * applies at the next collection). From the run's own account query (balances of this batch as read under its lock), so
 * it costs no statement. A LIMITED account with a positive balance is left to its top-up, as before.
 */
function stillToSettle(
  accounts: MeteredAccount[],
  already: MeteredAccount[],
  settings: Map<number, ProductSettings>,
): MeteredAccount[] {
  const seen = new Set(already.map((a) => a.id));
  const S = VpnAccountStatus;
  return accounts.filter((a) => {
    if (seen.has(a.id) || a.unlimited || a.suspended) return false;
    if (![S.ACTIVE, S.PENDING, S.LIMITED, S.THROTTLED].includes(a.status)) return false;
    const policy = settings.get(a.productId)?.policy ?? DEFAULT_POLICY;
    const want = desiredStatus(a, policy);
    if (want === a.status) return false;
    if (want === S.LIMITED || want === S.THROTTLED) return true;
    // Out of a used-up status because the policy changed (a top-up settles its own account).
    return a.status === S.THROTTLED || (a.status === S.LIMITED && policy.onExhausted !== 'cutoff');
  });
}

function logToStderr(error: unknown, routerId: number) {
  console.error(`collection of router ${routerId} failed:`, error);
}
