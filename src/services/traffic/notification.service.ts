import { In, IsNull, type DataSource, type EntityManager } from 'typeorm';
import { NotificationEntity, NotificationKind } from '../../entities/own/notification.entity';
import type { VpnAccountEntity } from '../../entities/own/vpn-account.entity';

/**
 * What a notice needs of an account. `notice`: which used-up notice (LIMITED or THROTTLED); without
 * it, the one the product's quota policy gives.
 */
export type NoticeAccount = Pick<
  VpnAccountEntity,
  'id' | 'serviceId' | 'productId' | 'username' | 'balanceBytes' | 'cycleAllowanceBytes' | 'clientId'
> & { notice?: NotificationKind };
import type { ProductSettings } from '../../product/product-settings';
import type { RequestContext } from '../../context/request-context';
import {
  bytesToGb,
  percentUsed,
  thresholdBoundBytes,
  toBytes,
  type TrafficThreshold,
} from '../../common/units';
import type { PendingNotice } from './traffic-types';
import type { EventOutbox } from '../events/outbox.service';
import type { NewEvent } from '../events/event-types';

/** A threshold an account reached in its current cycle (the API's `thresholdsReached`). */
export interface ThresholdReached {
  /** As the product setting writes it: `80%`, `1 GB`. */
  threshold: string;
  /** The balance below which it counts as reached (for a percentage: of the cycle allowance). */
  balanceBelowBytes: bigint;
  /** The last time it was reached (the database clock). */
  reachedAt: Date;
  firstReachedAt: Date;
  /** How often this cycle (more than once after a credit re-armed it). */
  times: number;
}

/**
 * Re-arms, in a credit's transaction (under the account's lock), the reached thresholds the credit
 * lifted the balance back to or above: the next debit below one of them notifies again.
 */
export async function rearmThresholds(
  manager: EntityManager,
  accountId: number,
  balanceBytes: bigint,
): Promise<void> {
  await manager.query(
    `UPDATE mod_mikrotikvpn_threshold_states SET reached_at = NULL
      WHERE account_id = ? AND reached_at IS NOT NULL AND bound_bytes <= ?`,
    [accountId, balanceBytes.toString()],
  );
}

/**
 * A new cycle credit names a new cycle: the threshold rows of the ones before are of no more use
 * (thresholds are once per cycle, and the cycle is named by its credit). Under the account's lock.
 */
export async function forgetEndedCycles(
  manager: EntityManager,
  accountId: number,
  cycleTopUpId: number,
): Promise<void> {
  await manager.query(
    'DELETE FROM mod_mikrotikvpn_threshold_states WHERE account_id = ? AND cycle_topup_id < ?',
    [accountId, cycleTopUpId],
  );
}

/** A threshold reached by a debit: one notice and one event. */
interface Crossing {
  account: NoticeAccount;
  threshold: TrafficThreshold;
  bound: bigint;
  cycle: number;
  times: number;
}

/** The product's thresholds the account's balance is below now. */
function reachedNow(
  account: NoticeAccount,
  s: ProductSettings | undefined,
): { threshold: TrafficThreshold; bound: bigint }[] {
  if (!s) return [];
  const balance = toBytes(account.balanceBytes);
  const allowance = toBytes(account.cycleAllowanceBytes);
  const out: { threshold: TrafficThreshold; bound: bigint }[] = [];
  for (const threshold of s.lowTrafficThresholds) {
    const bound = thresholdBoundBytes(threshold, allowance);
    if (bound !== null && balance < bound) out.push({ threshold, bound });
  }
  return out;
}

interface MergeSource {
  id: number;
  firstname: string | null;
  lastname: string | null;
  product: string | null;
  nextduedate: string | Date | null;
  last_cycle: number | null;
}

/**
 * One notice of each kind per billing cycle (the cycle is named by its credit; accounts without one
 * count as one long cycle), whatever made the balance fall and however many processes noticed it.
 */
function noticeKey(kind: NotificationKind, accountId: number, cycleCredit: number | null): string {
  const prefix =
    kind === NotificationKind.LOW_TRAFFIC
      ? 'low'
      : kind === NotificationKind.THROTTLED
        ? 'throttled'
        : 'limited';
  return `${prefix}:${accountId}:cycle-${cycleCredit ?? 0}`;
}

/**
 * The outbox of customer emails. A notice is written in the same transaction as the change that
 * caused it (the debit that crossed a threshold, the status change to LIMITED), deduplicated by key
 * (one low-traffic and one used-up notice per billing cycle), and stays pending until the WHMCS
 * module reports that WHMCS accepted it.
 */
export class NotificationService {
  constructor(
    private readonly db: DataSource,
    private readonly outbox: EventOutbox,
  ) {}

  /**
   * Queues, in the caller's transaction, the notices of the accounts just debited (`debited`: their
   * balance as left by the debit, under the account's row lock) and of those just used up
   * (`limited`). Under the lock, whichever process debits next sees what this one wrote: each
   * threshold is reached once per cycle (until a credit re-arms it: rearmThresholds).
   * A debit that uses the balance up records the thresholds it crossed without their notices:
   * the used-up notice says more.
   */
  async enqueueFor(
    manager: EntityManager,
    _ctx: RequestContext,
    debited: NoticeAccount[],
    limited: NoticeAccount[],
    settings: Map<number, ProductSettings>,
  ): Promise<void> {
    // Only accounts below at least one of their product's thresholds need a look at their cycle.
    const below = debited.filter((a) => reachedNow(a, settings.get(a.productId)).length > 0);
    const accounts = [...new Map([...below, ...limited].map((a) => [a.id, a])).values()];
    if (!accounts.length) return;
    const sources: MergeSource[] = await manager.query(
      `SELECT a.id, c.firstname, c.lastname, p.name AS product, h.nextduedate,
              (SELECT MAX(t.id) FROM mod_mikrotikvpn_traffic_topups t WHERE t.account_id = a.id AND t.kind = 'CYCLE') AS last_cycle
         FROM mod_mikrotikvpn_accounts a
         LEFT JOIN tblhosting h ON h.id = a.service_id
         LEFT JOIN tblclients c ON c.id = a.client_id
         LEFT JOIN tblproducts p ON p.id = a.product_id
        WHERE a.id IN (${accounts.map(() => '?').join(',')})`,
      accounts.map((a) => a.id),
    );
    const byId = new Map(sources.map((s) => [Number(s.id), s]));
    const crossings = await this.cross(manager, below, byId, settings);
    const rows: Partial<NotificationEntity>[] = [];
    const add = (account: NoticeAccount, kind: NotificationKind, crossing?: Crossing) => {
      const s = settings.get(account.productId);
      const src = byId.get(account.id);
      if (!s || !src) return;
      const template =
        kind === NotificationKind.LOW_TRAFFIC
          ? s.lowTrafficTemplate
          : kind === NotificationKind.THROTTLED
            ? s.policy.throttledTemplate
            : s.limitedTemplate;
      if (!template) return;
      rows.push({
        accountId: account.id,
        serviceId: account.serviceId,
        kind,
        dedupeKey: crossing
          ? `low:${account.id}:cycle-${src.last_cycle ?? 0}:${crossing.threshold.id}:${crossing.times}`
          : noticeKey(kind, account.id, src.last_cycle),
        template,
        mergeFields: JSON.stringify(mergeFields(account, s, src, crossing)),
        createdAt: new Date(),
        attempts: 0,
        lastError: null,
        acknowledgedAt: null,
      });
    };
    // The threshold event: raised where the notice is, once per threshold reached like it, but
    // whether or not the product has an email template.
    const events: NewEvent[] = crossings.map((c) => ({
      type: 'traffic.threshold_reached',
      dedupeKey: `threshold:${c.account.id}:cycle-${c.cycle}:${c.threshold.id}:${c.times}`,
      payload: {
        accountId: c.account.id,
        serviceId: c.account.serviceId,
        clientId: c.account.clientId,
        balanceBytes: String(c.account.balanceBytes),
        thresholdBytes: c.bound.toString(),
        threshold: c.threshold.label,
      },
    }));
    await this.outbox.emitAll(manager, events);
    for (const c of crossings) add(c.account, NotificationKind.LOW_TRAFFIC, c);
    for (const a of limited) {
      const policy = settings.get(a.productId)?.policy.onExhausted;
      add(a, a.notice ?? (policy === 'throttle' ? NotificationKind.THROTTLED : NotificationKind.LIMITED));
    }
    if (rows.length)
      await manager.createQueryBuilder().insert().into(NotificationEntity).values(rows).orIgnore().execute();
  }

  /**
   * The thresholds the accounts reached with this debit for the first time this cycle (or since a
   * credit re-armed them), recorded as reached; those to notify (some balance left) are returned.
   */
  private async cross(
    manager: EntityManager,
    below: NoticeAccount[],
    sources: Map<number, MergeSource>,
    settings: Map<number, ProductSettings>,
  ): Promise<Crossing[]> {
    if (!below.length) return [];
    const states: {
      account_id: number;
      cycle_topup_id: number;
      threshold: string;
      reached_at: Date | null;
      times: number;
    }[] = await manager.query(
      `SELECT account_id, cycle_topup_id, threshold, reached_at, times FROM mod_mikrotikvpn_threshold_states
          WHERE ${below.map(() => '(account_id = ? AND cycle_topup_id = ?)').join(' OR ')}`,
      below.flatMap((a) => [a.id, Number(sources.get(a.id)?.last_cycle ?? 0)]),
    );
    const known = new Map(states.map((r) => [`${r.account_id}:${r.cycle_topup_id}:${r.threshold}`, r]));
    const fresh: (Crossing & { notify: boolean })[] = [];
    for (const account of below) {
      if (!sources.has(account.id)) continue;
      const cycle = Number(sources.get(account.id)?.last_cycle ?? 0);
      for (const { threshold, bound } of reachedNow(account, settings.get(account.productId))) {
        const state = known.get(`${account.id}:${cycle}:${threshold.id}`);
        if (state && state.reached_at !== null) continue;
        fresh.push({
          account,
          threshold,
          bound,
          cycle,
          times: (state?.times ?? 0) + 1,
          notify: toBytes(account.balanceBytes) > 0n,
        });
      }
    }
    if (!fresh.length) return [];
    await manager.query(
      `INSERT INTO mod_mikrotikvpn_threshold_states
         (account_id, cycle_topup_id, threshold, label, bound_bytes, reached_at, first_reached_at, times)
       VALUES ${fresh.map(() => '(?, ?, ?, ?, ?, UTC_TIMESTAMP(3), UTC_TIMESTAMP(3), ?)').join(', ')}
       ON DUPLICATE KEY UPDATE reached_at = VALUES(reached_at), label = VALUES(label),
         bound_bytes = VALUES(bound_bytes), times = VALUES(times)`,
      fresh.flatMap((c) => [
        c.account.id,
        c.cycle,
        c.threshold.id,
        c.threshold.label,
        c.bound.toString(),
        c.times,
      ]),
    );
    return fresh.filter((c) => c.notify);
  }

  /** The thresholds each account reached in its current cycle (and not re-armed since), by account. */
  async reachedThisCycle(accountIds: readonly number[]): Promise<Map<number, ThresholdReached[]>> {
    const out = new Map<number, ThresholdReached[]>(accountIds.map((id) => [id, []]));
    if (!accountIds.length) return out;
    const rows: {
      account_id: number;
      label: string;
      threshold: string;
      bound_bytes: string;
      reached_at: Date;
      first_reached_at: Date;
      times: number;
    }[] = await this.db.query(
      `SELECT s.account_id, s.label, s.threshold, s.bound_bytes, s.reached_at, s.first_reached_at, s.times
           FROM mod_mikrotikvpn_threshold_states s
          WHERE s.account_id IN (${accountIds.map(() => '?').join(',')}) AND s.reached_at IS NOT NULL
            AND s.cycle_topup_id = (SELECT COALESCE(MAX(t.id), 0) FROM mod_mikrotikvpn_traffic_topups t
                                     WHERE t.account_id = s.account_id AND t.kind = 'CYCLE')
          ORDER BY s.account_id, s.bound_bytes DESC, s.id`,
      [...accountIds],
    );
    for (const r of rows)
      out.get(Number(r.account_id))?.push({
        threshold: r.label,
        balanceBelowBytes: toBytes(r.bound_bytes),
        reachedAt: r.reached_at,
        firstReachedAt: r.first_reached_at,
        times: Number(r.times),
      });
    return out;
  }

  async pending(first = 50): Promise<PendingNotice[]> {
    const rows = await this.db.getRepository(NotificationEntity).find({
      where: { acknowledgedAt: IsNull() },
      order: { id: 'ASC' },
      take: Math.min(Math.max(first, 1), 500),
    });
    return rows.map((r) => ({
      id: String(r.id),
      kind: r.kind,
      serviceId: r.serviceId,
      template: r.template,
      mergeFields: JSON.parse(r.mergeFields) as Record<string, string>,
      createdAt: r.createdAt,
      attempts: r.attempts,
      lastError: r.lastError,
    }));
  }

  /** Marks notices delivered; returns how many were pending. Repeating it changes nothing. */
  async acknowledge(ids: number[]): Promise<number> {
    if (!ids.length) return 0;
    const result = await this.db
      .getRepository(NotificationEntity)
      .update({ id: In(ids), acknowledgedAt: IsNull() }, { acknowledgedAt: new Date() });
    return result.affected ?? 0;
  }

  /** Records a failed delivery; the notice stays pending. */
  async reportFailure(id: number, error: string): Promise<boolean> {
    const result = await this.db
      .getRepository(NotificationEntity)
      .createQueryBuilder()
      .update()
      .set({ attempts: () => 'attempts + 1', lastError: error.slice(0, 500) })
      .where('id = :id AND acknowledged_at IS NULL', { id })
      .execute();
    return (result.affected ?? 0) > 0;
  }
}

/**
 * Our merge fields, and the same values under the names that templates written for the reference
 * module use (`username`, `traffic_balance_gb`, `traffic_billingcycle_gb`,
 * `notification_traffic_remainder`), so existing templates render unchanged.
 */
function mergeFields(
  account: NoticeAccount,
  s: ProductSettings,
  src: MergeSource,
  crossing?: Crossing,
): Record<string, string> {
  const balanceGb = bytesToGb(toBytes(account.balanceBytes), 2);
  const allowanceGb = bytesToGb(toBytes(account.cycleAllowanceBytes), 2);
  const thresholdGb = bytesToGb(crossing ? crossing.bound : s.lowTrafficThresholdBytes, 2);
  // A threshold notice also says which threshold and how much of the allowance is used.
  const threshold: Record<string, string> = crossing
    ? {
        vpn_threshold: crossing.threshold.label,
        vpn_used_percent: percentUsed(toBytes(account.balanceBytes), toBytes(account.cycleAllowanceBytes)),
      }
    : {};
  return {
    ...threshold,
    client_name: [src.firstname, src.lastname].filter(Boolean).join(' '),
    service_product_name: src.product ?? '',
    service_next_due_date: formatDate(src.nextduedate),
    vpn_username: account.username,
    vpn_balance_gb: balanceGb,
    vpn_cycle_allowance_gb: allowanceGb,
    vpn_threshold_gb: thresholdGb,
    username: account.username,
    traffic_balance_gb: balanceGb,
    traffic_billingcycle_gb: allowanceGb,
    notification_traffic_remainder: thresholdGb,
  };
}

function formatDate(value: string | Date | null): string {
  if (!value) return '';
  return typeof value === 'string' ? value.slice(0, 10) : value.toISOString().slice(0, 10);
}
