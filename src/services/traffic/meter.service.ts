import crypto from 'node:crypto';
import { escape } from 'mysql2';
import type { DataSource, EntityManager } from 'typeorm';
import type { RouterEntity } from '../../entities/own/router.entity';
import { VpnAccountStatus } from '../../entities/own/vpn-account.entity';
import type { ProductSettings } from '../../product/product-settings';
import type { RequestContext } from '../../context/request-context';
import type { QueueCounters, RouterGateway } from '../../router';
import type { NamedLocks } from '../../db/named-lock';
import { dayIn } from '../../common/time-zone';
import { retryTransaction } from '../../db/retry';
import { toBytes } from '../../common/units';
import { DEFAULT_POLICY } from '../../product/product-policy';
import type { RouterService } from '../router.service';
import { queueName } from '../lifecycle/desired-state';
import { counterDelta, type PreviousReading } from './counter-delta';
import { estimatedBootTime, routerRestarted, type UptimeReading } from './router-restart';
import type { NoticeAccount, NotificationService } from './notification.service';
import type { DuplicateSession, SessionLog } from '../sessions/session-log.service';
import type { ActiveSession } from '../../router';

/** An account's row as locked by a reading: its balance and cycle traffic after the debit. */
interface LockedBalance {
  balance: bigint;
  cycleUsed: bigint;
  status: VpnAccountStatus;
}

/** Rows per INSERT: large enough to be one statement for a big router, small enough for max_allowed_packet. */
const INSERT_CHUNK = 5000;

/** The lock one router's readings are taken under, by every process: collections and final reads. */
export function meterLockName(routerId: number): string {
  return `collect:${routerId}`;
}

/** What the meter reads of an account: one raw query per router, no entity hydration. */
export interface MeteredAccount extends NoticeAccount {
  clientId: number;
  protocol: string;
  status: VpnAccountStatus;
  suspended: boolean;
  unlimited: boolean;
  /** Traffic of the current cycle (overage's ceiling), as read. */
  cycleUsedBytes: string;
  previous: PreviousReading;
  /**
   * Whose counters these are. `account`: the account's own queue (its last counters move on).
   * A removal: a queue the account left behind on its old router; the account is billed, the
   * removal row keeps the counters.
   */
  counters: { kind: 'account' } | { kind: 'removal'; removalId: number };
}

export interface MeteredDelta {
  account: MeteredAccount;
  counters: QueueCounters;
  download: bigint;
  upload: bigint;
}

/** The phases of one router's reading, in order, as reported to {@link TrafficMeter.onPhase}. */
export type MeterPhase = 'lock' | 'read' | 'deltas' | 'write';

/** What one reading of a router found and billed. */
export interface MeterReading {
  /** The router restarted since its previous reading (the boot epoch moved on). */
  restarted: boolean;
  /** Accounts whose counters were read. */
  accounts: number;
  /** Accounts (and removals) whose queue was not on the router. */
  missingQueues: number[];
  deltas: MeteredDelta[];
  /**
   * Accounts this reading used up while ACTIVE or PENDING (balance ≤ 0; with overage billing, the
   * cycle's traffic at the ceiling), to be limited or throttled as their product's policy says.
   */
  exhausted: MeteredAccount[];
  /** Every account in scope, with balances as read: the caller finds accounts still to limit. */
  all: MeteredAccount[];
  /**
   * THROTTLED accounts whose queue's max-limit is not their product's throttle speed (the speed
   * was changed in the policy, or on the router): set again at this collection.
   */
  throttleDrift: MeteredAccount[];
  /** The database clock at the reading. */
  at: Date;
  /** Second sessions of accounts (whole-router readings only): the newer ones. */
  duplicates: DuplicateSession[];
}

export interface MeterScope {
  /** Only these accounts (a final read before a queue is removed); all live accounts otherwise. */
  accounts?: { id: number; serviceId: number }[];
  /** A queue left behind by a move, read for its account instead of the account's own queue. */
  removal?: RemovalToMeter;
  /** Leave out accounts of products collected daily (the every-cron collection). */
  skipProduct?: (productId: number) => boolean;
  /** How long to wait for another process's reading of the same router (seconds; 0 = skip it). */
  lockWaitSeconds: number;
}

export interface RemovalToMeter {
  id: number;
  accountId: number;
  serviceId: number;
  previous: PreviousReading;
}

/**
 * Reads routers' queue counters and turns them into samples, daily totals and balance debits in ONE
 * transaction per router reading, so a crash at any point neither loses nor double-counts a byte.
 * Readings of one router never overlap, across all server processes (GET_LOCK): the traffic
 * collector reads whole routers, lifecycle actions read one account before its queue goes away.
 *
 * Time comes from the database server, never from this process: the reading's instant (samples,
 * days) and the router-restart rule (see router-restart.ts) use the database's clock, the router's
 * uptime, and this process's monotonic clock for the length of the exchange.
 */
export class TrafficMeter {
  /** Profiling hook (the benchmark's): how long each phase of one router's reading took. */
  onPhase?: (routerId: number, phase: MeterPhase, ms: number) => void;

  constructor(
    private readonly db: DataSource,
    private readonly routers: RouterService,
    private readonly gateway: RouterGateway,
    private readonly notifications: NotificationService,
    private readonly locks: NamedLocks,
    private readonly timeZone: string,
    private readonly sessions: SessionLog,
  ) {}

  /** Reads and bills a router (or some of its accounts) under the router's lock. */
  read(
    ctx: RequestContext,
    router: RouterEntity,
    settings: Map<number, ProductSettings>,
    scope: MeterScope,
  ): Promise<MeterReading> {
    let mark = performance.now();
    const phase = (name: MeterPhase) => {
      const now = performance.now();
      this.onPhase?.(router.id, name, now - mark);
      mark = now;
    };
    return this.locks.with(meterLockName(router.id), scope.lockWaitSeconds, async () => {
      phase('lock');
      const target = this.routers.target(router);
      // A whole router is read with one print of every queue; a few accounts with a filtered print.
      const names = scope.removal
        ? [queueName(scope.removal.serviceId)]
        : scope.accounts?.map((a) => queueName(a.serviceId));
      const started = performance.now();
      let dbAnswered = 0;
      let uptimeAnswered = 0;
      // The state query runs while the router answers: it is off the critical path. The router's
      // restart bookkeeping is re-read here, under the lock, never taken from a row read earlier.
      const statePromise = this.stateOf(router.id, scope).then((s) => {
        dbAnswered = performance.now();
        return s;
      });
      // A whole router's reading also reads its live PPP sessions (the session log): one print.
      const wholeRouter = !names;
      const [state, counters, resource, active] = await Promise.all([
        statePromise,
        this.gateway.readQueueCounters(target, names),
        this.gateway.systemResource(target).then((r) => {
          uptimeAnswered = performance.now();
          return r;
        }),
        wholeRouter ? this.gateway.listActiveSessions(target) : Promise.resolve<ActiveSession[]>([]),
      ]);
      phase('read');
      const reading: UptimeReading = {
        dbTimeMs: state.dbNow.getTime(),
        uptimeSeconds: resource.uptimeSeconds,
        windowMs: Math.ceil(Math.max(dbAnswered, uptimeAnswered) - started),
      };
      const restarted = state.previous
        ? routerRestarted(state.previous, reading)
        : state.lastUptimeSeconds !== null && resource.uptimeSeconds < state.lastUptimeSeconds;
      const epoch = state.bootEpoch + (restarted ? 1 : 0);
      const accounts = scope.removal
        ? state.accounts.map((a) => ({
            ...a,
            previous: scope.removal!.previous,
            counters: { kind: 'removal' as const, removalId: scope.removal!.id },
          }))
        : state.accounts.filter((a) => !scope.skipProduct?.(a.productId));
      const byName = new Map(counters.map((c) => [c.name, c]));
      const deltas: MeteredDelta[] = [];
      const throttleDrift: MeteredAccount[] = [];
      const missingQueues: number[] = [];
      let read = 0;
      for (const account of accounts) {
        const current = byName.get(queueName(account.serviceId));
        if (!current) {
          missingQueues.push(account.serviceId);
          continue;
        }
        read++;
        if (account.status === VpnAccountStatus.THROTTLED && account.counters.kind === 'account') {
          const policy = settings.get(account.productId)?.policy;
          if (
            policy?.onExhausted === 'throttle' &&
            (current.maxLimit?.downloadBps !== policy.throttleDownloadBps ||
              current.maxLimit?.uploadBps !== policy.throttleUploadBps)
          )
            throttleDrift.push(account);
        }
        const p = account.previous;
        const d = counterDelta(
          p,
          { download: current.downloadBytes, upload: current.uploadBytes, queueId: current.id },
          epoch,
        );
        const changed =
          d.download > 0n ||
          d.upload > 0n ||
          current.downloadBytes !== p.download ||
          current.uploadBytes !== p.upload ||
          current.id !== p.queueId ||
          p.bootEpoch !== epoch;
        if (changed) deltas.push({ account, counters: current, download: d.download, upload: d.upload });
      }
      phase('deltas');
      const at = state.dbNow;
      // READ COMMITTED: no gap locks, so the batches of routers read in parallel never deadlock.
      let duplicates: DuplicateSession[] = [];
      const exhausted = await retryTransaction(() =>
        this.db.transaction('READ COMMITTED', async (manager) => {
          const { balances, batchId } = await this.writeBatch(manager, deltas, at, epoch);
          if (wholeRouter) {
            duplicates = await this.sessions.applyReading(manager, {
              routerId: router.id,
              epoch,
              restarted,
              bootAt: estimatedBootTime(reading),
              at,
              previousAt: state.previous ? new Date(state.previous.dbTimeMs) : null,
              // Every PPP account of the router, also those this run does not bill (daily products):
              // their sessions are still the router's sessions.
              accounts: state.accounts.filter((a) => a.protocol === 'ppp'),
              active,
              deltas: deltas.map((d) => ({
                accountId: d.account.id,
                download: d.download,
                upload: d.upload,
              })),
              batchId,
            });
          } else if (!scope.removal) {
            // A final read of some accounts: their last bytes belong to the session just ended.
            await this.sessions.addTraffic(
              manager,
              deltas.map((d) => ({ accountId: d.account.id, download: d.download, upload: d.upload })),
              state.previous ? new Date(state.previous.dbTimeMs) : null,
            );
          }
          await manager.query(
            `UPDATE mod_mikrotikvpn_routers
                SET last_uptime_seconds = ?, last_boot_at = ?, last_read_at = ?, last_read_window_ms = ?,
                    boot_epoch = ?, last_seen_at = ?
              WHERE id = ?`,
            [reading.uptimeSeconds, estimatedBootTime(reading), at, reading.windowMs, epoch, at, router.id],
          );
          return this.afterDebit(manager, ctx, deltas, balances, settings);
        }),
      );
      phase('write');
      return {
        restarted,
        accounts: read,
        missingQueues,
        deltas,
        exhausted,
        all: accounts,
        throttleDrift,
        at,
        duplicates,
      };
    });
  }

  /**
   * The router's restart bookkeeping, the database clock and the accounts in scope: one statement,
   * whatever the number of accounts (for 2,500 accounts TypeORM's hydration alone took longer than
   * the router's reply, so rows are read raw).
   */
  private async stateOf(routerId: number, scope: MeterScope) {
    // A removal bills its account wherever the account lives now.
    const join = scope.removal
      ? `a.id = ${Number(scope.removal.accountId)}`
      : scope.accounts
        ? `a.router_id = r.id AND a.id IN (${scope.accounts.map((a) => Number(a.id)).join(',') || 'NULL'})`
        : `a.router_id = r.id AND a.status <> 'TERMINATED'`;
    const rows: {
      db_now: Date;
      boot_epoch: number;
      last_uptime_seconds: string | null;
      last_read_at: Date | null;
      last_read_window_ms: number | null;
      id: number | null;
      service_id: number;
      client_id: number;
      protocol: string;
      product_id: number;
      username: string;
      status: VpnAccountStatus;
      suspended: number;
      unlimited: number;
      balance_bytes: string;
      cycle_used_bytes: string;
      cycle_allowance_bytes: string;
      last_download_counter: string;
      last_upload_counter: string;
      counter_queue_id: string | null;
      counter_boot_epoch: number | null;
    }[] = await this.db.query(
      `SELECT UTC_TIMESTAMP(3) AS db_now, r.boot_epoch, r.last_uptime_seconds, r.last_read_at, r.last_read_window_ms,
              a.id, a.service_id, a.client_id, a.protocol, a.product_id, a.username, a.status, a.suspended, a.unlimited, a.balance_bytes,
              a.cycle_used_bytes, a.cycle_allowance_bytes, a.last_download_counter, a.last_upload_counter, a.counter_queue_id,
              a.counter_boot_epoch
         FROM mod_mikrotikvpn_routers r
         LEFT JOIN mod_mikrotikvpn_accounts a ON ${join}
        WHERE r.id = ?`,
      [routerId],
    );
    const [first] = rows;
    if (!first) throw new Error(`router ${routerId} is gone`);
    const lastUptime = first.last_uptime_seconds === null ? null : Number(first.last_uptime_seconds);
    return {
      dbNow: first.db_now,
      bootEpoch: Number(first.boot_epoch),
      lastUptimeSeconds: lastUptime,
      previous:
        first.last_read_at && lastUptime !== null
          ? {
              dbTimeMs: first.last_read_at.getTime(),
              uptimeSeconds: lastUptime,
              windowMs: Number(first.last_read_window_ms ?? 0),
            }
          : null,
      accounts: rows
        .filter((r) => r.id !== null)
        .map((r): MeteredAccount => ({
          id: r.id!,
          serviceId: r.service_id,
          clientId: r.client_id,
          protocol: r.protocol,
          productId: r.product_id,
          username: r.username,
          status: r.status,
          suspended: !!r.suspended,
          unlimited: !!r.unlimited,
          balanceBytes: r.balance_bytes,
          cycleUsedBytes: r.cycle_used_bytes,
          cycleAllowanceBytes: r.cycle_allowance_bytes,
          previous: {
            download: toBytes(r.last_download_counter),
            upload: toBytes(r.last_upload_counter),
            queueId: r.counter_queue_id,
            bootEpoch: r.counter_boot_epoch,
          },
          counters: { kind: 'account' },
        })),
    };
  }

  /**
   * Samples, balances, last counters and daily totals: a fixed number of statements per batch,
   * whatever the number of accounts. The accounts' rows are locked first (FOR UPDATE), so the
   * balance each sample records is exactly the balance its debit leaves, without a second pass over
   * the samples. Returns the balances and statuses read under the lock.
   */
  private async writeBatch(
    manager: EntityManager,
    deltas: MeteredDelta[],
    at: Date,
    epoch: number,
  ): Promise<{
    balances: Map<number, LockedBalance>;
    batchId: bigint | null;
  }> {
    const balances = new Map<number, LockedBalance>();
    if (!deltas.length) return { balances, batchId: null };
    // Rows and values below are written into the SQL directly: every one is a number, a bigint or
    // a driver-escaped string. Formatting ~25,000 placeholders per router of 2,500 accounts cost
    // the collector more CPU than the router's reply. The rows are locked through the primary key
    // only: a plan that scans would lock (and wait for) other routers' accounts.
    const locked: {
      id: number;
      balance_bytes: string;
      cycle_used_bytes: string;
      status: VpnAccountStatus;
    }[] = await manager.query(
      `SELECT id, balance_bytes, cycle_used_bytes, status FROM mod_mikrotikvpn_accounts FORCE INDEX (PRIMARY) WHERE id IN (${deltas.map((d) => Number(d.account.id)).join(',')}) FOR UPDATE`,
    );
    for (const row of locked)
      balances.set(row.id, {
        balance: toBytes(row.balance_bytes),
        cycleUsed: toBytes(row.cycle_used_bytes),
        status: row.status,
      });
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
        if (locked) {
          locked.balance = after;
          locked.cycleUsed += d.download + d.upload;
        }
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
    // A removal's counters stay on its own row: the account's own queue lives on another router.
    // The running totals (the session log's) count the account's own queue only, for the same reason.
    const ownCounters = deltas[0].account.counters.kind === 'account';
    await manager.query(
      `UPDATE mod_mikrotikvpn_traffic_samples s FORCE INDEX (ix_samples_batch)
         STRAIGHT_JOIN mod_mikrotikvpn_accounts a ON a.id = s.account_id
          SET a.balance_bytes = IF(a.unlimited, a.balance_bytes, a.balance_bytes - CAST(s.download_bytes AS SIGNED) - CAST(s.upload_bytes AS SIGNED)),
              a.cycle_used_bytes = a.cycle_used_bytes + s.download_bytes + s.upload_bytes${
                ownCounters
                  ? `,
              a.metered_download_bytes = a.metered_download_bytes + s.download_bytes,
              a.metered_upload_bytes = a.metered_upload_bytes + s.upload_bytes,
              a.last_download_counter = s.download_counter,
              a.last_upload_counter = s.upload_counter,
              a.counter_queue_id = s.queue_id,
              a.counter_boot_epoch = ${Number(epoch)},
              a.last_counters_at = s.at`
                  : ''
              }
        WHERE s.batch_id = ?`,
      [batchId.toString()],
    );
    for (const d of deltas) {
      if (d.account.counters.kind !== 'removal') continue;
      await manager.query(
        `UPDATE mod_mikrotikvpn_router_removals
            SET last_download_counter = ?, last_upload_counter = ?, counter_queue_id = ?, counter_boot_epoch = ?
          WHERE id = ?`,
        [
          d.counters.downloadBytes.toString(),
          d.counters.uploadBytes.toString(),
          d.counters.id,
          epoch,
          d.account.counters.removalId,
        ],
      );
    }
    // balance_at is the write's own time: under the account's lock it orders this balance against
    // the day's top-ups, which take the same lock.
    await manager.query(
      `INSERT INTO mod_mikrotikvpn_traffic_daily (account_id, day, download_bytes, upload_bytes, balance_after_bytes, balance_at)
         SELECT s.account_id, ?, s.download_bytes, s.upload_bytes, s.balance_after_bytes, UTC_TIMESTAMP(3)
           FROM mod_mikrotikvpn_traffic_samples s FORCE INDEX (ix_samples_batch) WHERE s.batch_id = ?
       ON DUPLICATE KEY UPDATE
         download_bytes = mod_mikrotikvpn_traffic_daily.download_bytes + VALUES(download_bytes),
         upload_bytes = mod_mikrotikvpn_traffic_daily.upload_bytes + VALUES(upload_bytes),
         balance_after_bytes = VALUES(balance_after_bytes),
         balance_at = VALUES(balance_at)`,
      [dayIn(this.timeZone, at), batchId.toString()],
    );
    return { balances, batchId };
  }

  /** Queues the low-traffic and used-up notices, and returns the accounts that must be limited now. */
  private async afterDebit(
    manager: EntityManager,
    ctx: RequestContext,
    deltas: MeteredDelta[],
    balances: Map<number, LockedBalance>,
    settings: Map<number, ProductSettings>,
  ): Promise<MeteredAccount[]> {
    const exhausted: MeteredAccount[] = [];
    const debited: MeteredAccount[] = [];
    for (const d of deltas) {
      const account = d.account;
      const locked = balances.get(account.id);
      if (!locked) continue;
      account.balanceBytes = locked.balance.toString();
      account.cycleUsedBytes = locked.cycleUsed.toString();
      account.status = locked.status;
      if (account.unlimited || (d.download === 0n && d.upload === 0n)) continue;
      // Thresholds are looked at for every debit (notification.service decides which are new).
      debited.push(account);
      // Overage billing never limits for the balance, only at the cycle's ceiling (if any).
      const policy = settings.get(account.productId)?.policy ?? DEFAULT_POLICY;
      const usedUp =
        policy.onExhausted === 'overage'
          ? policy.overageCeilingBytes !== null && locked.cycleUsed >= policy.overageCeilingBytes
          : locked.balance <= 0n;
      if (usedUp) {
        if (locked.status === VpnAccountStatus.ACTIVE || locked.status === VpnAccountStatus.PENDING)
          exhausted.push(account);
      }
    }
    if (debited.length || exhausted.length)
      await this.notifications.enqueueFor(manager, ctx, debited, exhausted, settings);
    return exhausted;
  }
}
