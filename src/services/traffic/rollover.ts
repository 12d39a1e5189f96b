/**
 * Rollover of unused cycle traffic: the rules, on numbers only (the renewal applies them, screens
 * read them). One balance is debited by the collector; it is made of parts used in this order:
 *
 * 1. carried-over traffic, oldest first (it expires first);
 * 2. the current cycle's allowance (what its renewal, or a package change, credited);
 * 3. what never expires: bought traffic (addons, positive adjustments) and, under `keep`, what a
 *    renewal found left.
 *
 * Anything else that lowers the balance (a negative adjustment) is used the same way. Nothing
 * here is kept per debit: the parts follow from the balance and three columns that only credits
 * and renewals write (`kept_bytes`, `cycle_credited_bytes`, `carried_bytes`).
 */
import type { ProductPolicy } from '../../product/product-policy';

export interface BalanceColumns {
  balance: bigint;
  /** kept_bytes: what never expires, as last written (the balance may have fallen below it). */
  kept: bigint;
  /** carried_bytes: carried-over traffic the cycle started with. */
  carried: bigint;
  /** cycle_credited_bytes: allowance credited in the cycle. */
  credited: bigint;
}

export interface BalanceParts {
  /** Carried-over traffic still left. */
  carried: bigint;
  /** The cycle's allowance still left. */
  allowance: bigint;
  /** What never expires. */
  kept: bigint;
}

const max = (a: bigint, b: bigint) => (a > b ? a : b);
const min = (a: bigint, b: bigint) => (a < b ? a : b);

/** What is left of each part. A balance at or below zero has none left (the rest is a debt). */
export function balanceParts(c: BalanceColumns): BalanceParts {
  const kept = max(0n, min(c.kept, c.balance));
  const used = max(0n, c.balance - kept); // what is left of parts 1 and 2
  const carried = min(max(0n, c.carried), max(0n, used - max(0n, c.credited)));
  const allowance = min(max(0n, c.credited), used - carried);
  // More than carried + credited (not expected): it is nobody's to expire, so it is kept.
  return { carried, allowance, kept: kept + (used - carried - allowance) };
}

/** An open carry-over (mod_mikrotikvpn_carryovers), oldest first. */
export interface CarryOver {
  id: number;
  period: string;
  /** What was left of it when the current cycle started. */
  leftBytes: bigint;
  /** Renewals until it expires (1: it expires at the next renewal). */
  cyclesLeft: number;
  expiresAt: Date | null;
}

/** Spreads what is left of the carried-over traffic over the carry-overs, the oldest used first. */
export function carryOversLeft(carryOvers: readonly CarryOver[], carriedLeft: bigint): bigint[] {
  let used = carryOvers.reduce((sum, c) => sum + c.leftBytes, 0n) - carriedLeft;
  return carryOvers.map((c) => {
    const take = used > 0n ? min(c.leftBytes, used) : 0n;
    used -= take;
    return c.leftBytes - take;
  });
}

/** When the soonest-expiring carried-over traffic still left expires (null: none left). */
export function carriedOverExpiresAt(carryOvers: readonly CarryOver[], carriedLeft: bigint): Date | null {
  const left = carryOversLeft(carryOvers, carriedLeft);
  const i = left.findIndex((l) => l > 0n);
  return i < 0 ? null : carryOvers[i].expiresAt;
}

export interface RenewalPlan {
  /** CARRY_EXPIRED lines: carry-overs whose cycles ran out, with what was left of them. */
  expired: { carryOver: CarryOver; bytes: bigint }[];
  /** CYCLE_UNUSED: the unused allowance of the cycle that ended, leaving the balance (carry only). */
  unusedBytes: bigint;
  /** CARRIED_OVER: the part of it carried into the new cycle. */
  carriedOverBytes: bigint;
  /** The open carry-overs afterwards: what is left, renewals left, or closed. */
  carryOvers: { carryOver: CarryOver; leftBytes: bigint; cyclesLeft: number; closed: boolean }[];
  /** The columns for the new cycle, before its allowance is credited. */
  kept: bigint;
  carried: bigint;
}

/**
 * What a renewal does with the cycle that ended. `keep` (the default) writes no line: everything
 * left stays, for good (earlier carry-overs included, when a product went back to keep). `carry`
 * expires the carry-overs whose cycles ran out, takes the unused allowance out and carries as much
 * of it back in as the cap allows.
 */
export function planRenewal(
  columns: BalanceColumns,
  carryOvers: readonly CarryOver[],
  policy: Pick<ProductPolicy, 'rollover' | 'rolloverMaxBytes'>,
): RenewalPlan {
  const parts = balanceParts(columns);
  const left = carryOversLeft(carryOvers, parts.carried);
  if (policy.rollover !== 'carry') {
    return {
      expired: [],
      unusedBytes: 0n,
      carriedOverBytes: 0n,
      carryOvers: carryOvers.map((c, i) => ({
        carryOver: c,
        leftBytes: left[i],
        cyclesLeft: c.cyclesLeft,
        closed: true,
      })),
      kept: parts.kept + parts.carried + parts.allowance,
      carried: 0n,
    };
  }
  const expired: RenewalPlan['expired'] = [];
  const after: RenewalPlan['carryOvers'] = [];
  let stillCarried = 0n;
  carryOvers.forEach((c, i) => {
    const cyclesLeft = c.cyclesLeft - 1;
    const ends = cyclesLeft <= 0;
    if (ends && left[i] > 0n) expired.push({ carryOver: c, bytes: left[i] });
    const closed = ends || left[i] === 0n;
    if (!closed) stillCarried += left[i];
    after.push({ carryOver: c, leftBytes: left[i], cyclesLeft: Math.max(0, cyclesLeft), closed });
  });
  const room =
    policy.rolloverMaxBytes === null ? parts.allowance : max(0n, policy.rolloverMaxBytes - stillCarried);
  const carriedOverBytes = min(parts.allowance, room);
  return {
    expired,
    unusedBytes: parts.allowance,
    carriedOverBytes,
    carryOvers: after,
    kept: parts.kept,
    carried: stillCarried + carriedOverBytes,
  };
}
