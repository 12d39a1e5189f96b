import type { EntityManager } from 'typeorm';
import { toBytes } from '../../common/units';
import { addMonths, dayIn, startOfDay } from '../../common/time-zone';
import { TopUpKind, TopUpReason } from '../../entities/own/traffic-topup.entity';
import type { ProductPolicy } from '../../product/product-policy';
import { CYCLE_MONTHS, type BillingCycle } from '../../product/product-settings';
import type { TrafficLedger } from './traffic-ledger.service';
import { balanceParts, carriedOverExpiresAt, planRenewal, type CarryOver } from './rollover';

interface CarryOverRow {
  id: number;
  account_id: number;
  period: string;
  left_bytes: string;
  cycles_left: number;
  expires_at: Date | null;
}

function fromRow(r: CarryOverRow): CarryOver {
  return {
    id: Number(r.id),
    period: r.period,
    leftBytes: toBytes(r.left_bytes),
    cyclesLeft: Number(r.cycles_left),
    expiresAt: r.expires_at,
  };
}

export interface RenewalContext {
  accountId: number;
  /** The key of the cycle that starts (a repeated renewal never gets here: it was done). */
  cycleKey: string;
  /** The billing cycle WHMCS has now, and its next due date (YYYY-MM-DD, '' when none). */
  billingCycle: BillingCycle;
  nextDueDate: string;
  policy: Pick<ProductPolicy, 'rollover' | 'rolloverMaxBytes' | 'rolloverCycles'>;
  actor: string;
}

/**
 * The rollover at a renewal, in the renewal's transaction and under its lock on the account row:
 * the lines (CARRY_EXPIRED per expiring carry-over, CYCLE_UNUSED, CARRIED_OVER) go through the
 * ledger, each once per account and cycle key, before the new cycle's allowance is credited. A
 * renewal that is repeated, killed or run twice at once writes them once, with the credit, or not
 * at all.
 */
export async function rollOver(
  manager: EntityManager,
  ledger: TrafficLedger,
  timeZone: string,
  r: RenewalContext,
): Promise<void> {
  const [account] = (await manager.query(
    `SELECT balance_bytes, kept_bytes, carried_bytes, cycle_credited_bytes, created_at
       FROM mod_mikrotikvpn_accounts WHERE id = ? FOR UPDATE`,
    [r.accountId],
  )) as {
    balance_bytes: string;
    kept_bytes: string;
    carried_bytes: string;
    cycle_credited_bytes: string;
    created_at: Date;
  }[];
  const open = (
    (await manager.query(
      `SELECT id, account_id, period, left_bytes, cycles_left, expires_at FROM mod_mikrotikvpn_carryovers
        WHERE account_id = ? AND closed_at IS NULL ORDER BY id FOR UPDATE`,
      [r.accountId],
    )) as CarryOverRow[]
  ).map(fromRow);
  const plan = planRenewal(
    {
      balance: toBytes(account.balance_bytes),
      kept: toBytes(account.kept_bytes),
      carried: toBytes(account.carried_bytes),
      credited: toBytes(account.cycle_credited_bytes),
    },
    open,
    r.policy,
  );
  const key = (part: string) => `rollover:${r.accountId}:${r.cycleKey}:${part}`;
  for (const { carryOver, bytes } of plan.expired) {
    await ledger.credit(manager, {
      accountId: r.accountId,
      kind: TopUpKind.ROLLOVER,
      reason: TopUpReason.CARRY_EXPIRED,
      period: carryOver.period,
      bytes: -bytes,
      idempotencyKey: key(`expired-${carryOver.id}`),
      actor: r.actor,
    });
  }
  if (plan.unusedBytes > 0n || plan.carriedOverBytes > 0n) {
    const period = await endingPeriod(manager, timeZone, r.accountId, account.created_at);
    if (plan.unusedBytes > 0n)
      await ledger.credit(manager, {
        accountId: r.accountId,
        kind: TopUpKind.ROLLOVER,
        reason: TopUpReason.CYCLE_UNUSED,
        period,
        bytes: -plan.unusedBytes,
        idempotencyKey: key('unused'),
        actor: r.actor,
      });
    if (plan.carriedOverBytes > 0n) {
      const { topUp } = await ledger.credit(manager, {
        accountId: r.accountId,
        kind: TopUpKind.ROLLOVER,
        reason: TopUpReason.CARRIED_OVER,
        period,
        bytes: plan.carriedOverBytes,
        idempotencyKey: key('carried'),
        actor: r.actor,
      });
      await manager.query(
        `INSERT INTO mod_mikrotikvpn_carryovers
           (account_id, topup_id, period, carried_bytes, left_bytes, cycles_left, expires_at)
         VALUES (?, ?, ?, ?, ?, ?, ?)`,
        [
          r.accountId,
          topUp.id,
          period,
          plan.carriedOverBytes.toString(),
          plan.carriedOverBytes.toString(),
          r.policy.rolloverCycles,
          expectedExpiry(r, timeZone),
        ],
      );
    }
  }
  for (const c of plan.carryOvers) {
    await manager.query(
      `UPDATE mod_mikrotikvpn_carryovers SET left_bytes = ?, cycles_left = ?,
              closed_at = IF(?, UTC_TIMESTAMP(3), NULL) WHERE id = ?`,
      [c.leftBytes.toString(), c.cyclesLeft, c.closed ? 1 : 0, c.carryOver.id],
    );
  }
  // The new cycle starts with no allowance credited yet: its renewal credit adds it.
  await manager.query(
    'UPDATE mod_mikrotikvpn_accounts SET kept_bytes = ?, carried_bytes = ?, cycle_credited_bytes = 0 WHERE id = ?',
    [plan.kept.toString(), plan.carried.toString(), r.accountId],
  );
}

/**
 * The cycle that ends, as first day/last day in WHMCS's time zone: from the day its allowance was
 * credited (its renewal, or the account's first cycle) to today.
 */
async function endingPeriod(
  manager: EntityManager,
  timeZone: string,
  accountId: number,
  createdAt: Date,
): Promise<string> {
  const [start] = (await manager.query(
    `SELECT at FROM mod_mikrotikvpn_traffic_topups
      WHERE account_id = ? AND kind = 'CYCLE' AND reason IN ('FIRST_CYCLE', 'RENEWAL')
      ORDER BY at DESC, id DESC LIMIT 1`,
    [accountId],
  )) as { at: Date }[];
  const [{ now }] = await manager.query('SELECT UTC_TIMESTAMP(3) AS now');
  return `${dayIn(timeZone, start?.at ?? createdAt)}/${dayIn(timeZone, now as Date)}`;
}

/**
 * When a carry-over made now is expected to expire: at the renewal that ends its last cycle, i.e.
 * the start (WHMCS time zone) of the due date that ends the new cycle, plus its further cycles.
 * Null when WHMCS has no due date or the cycle does not renew. It expires at that renewal,
 * whenever WHMCS runs it.
 */
function expectedExpiry(r: RenewalContext, timeZone: string): Date | null {
  const months = CYCLE_MONTHS[r.billingCycle];
  if (!/^\d{4}-\d{2}-\d{2}$/.test(r.nextDueDate) || r.nextDueDate < '1971' || months === null) return null;
  return startOfDay(addMonths(r.nextDueDate, months * (r.policy.rolloverCycles - 1)), timeZone);
}

/** Carried-over traffic now and when the soonest of it expires, for accounts (one statement). */
export async function carriedOver(
  db: Pick<EntityManager, 'query'>,
  accounts: readonly {
    id: number;
    balanceBytes: string;
    keptBytes: string;
    carriedBytes: string;
    cycleCreditedBytes: string;
  }[],
): Promise<Map<number, { bytes: bigint; expiresAt: Date | null }>> {
  const result = new Map<number, { bytes: bigint; expiresAt: Date | null }>();
  const carrying: number[] = [];
  for (const a of accounts) {
    const bytes = carriedOverBytes(a);
    result.set(a.id, { bytes, expiresAt: null });
    if (bytes > 0n) carrying.push(a.id);
  }
  if (!carrying.length) return result;
  const rows = (await db.query(
    `SELECT id, account_id, period, left_bytes, cycles_left, expires_at FROM mod_mikrotikvpn_carryovers
      WHERE account_id IN (${carrying.map(() => '?').join(',')}) AND closed_at IS NULL ORDER BY id`,
    carrying,
  )) as CarryOverRow[];
  for (const id of carrying) {
    const mine = rows.filter((row) => Number(row.account_id) === id).map(fromRow);
    const entry = result.get(id)!;
    entry.expiresAt = carriedOverExpiresAt(mine, entry.bytes);
  }
  return result;
}

/** The carried-over part of an account's balance now (no statement: its own columns). */
export function carriedOverBytes(a: {
  balanceBytes: string;
  keptBytes: string;
  carriedBytes: string;
  cycleCreditedBytes: string;
}): bigint {
  return balanceParts({
    balance: toBytes(a.balanceBytes),
    kept: toBytes(a.keptBytes),
    carried: toBytes(a.carriedBytes),
    credited: toBytes(a.cycleCreditedBytes),
  }).carried;
}
