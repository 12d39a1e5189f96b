import { In, type EntityManager } from 'typeorm';
import { TopUpKind, TopUpReason, TrafficTopUpEntity } from '../../entities/own/traffic-topup.entity';
import { toBytes } from '../../common/units';
import { ConflictError } from '../../errors/app-errors';
import type { EventOutbox } from '../events/outbox.service';
import { rearmThresholds } from './notification.service';

export interface CreditInput {
  accountId: number;
  kind: TopUpKind;
  reason: TopUpReason;
  bytes: bigint;
  /** Unique per credit (cycle key, addon + invoice, ...): a repeated key credits nothing. */
  idempotencyKey: string;
  /**
   * Other spellings of the same key: a credit of THIS account under one of them counts as done (and,
   * for caller keys, must be the same credit).
   */
  previousKeys?: string[];
  /**
   * The key was chosen by the caller (topUpTraffic): sent again, it must mean the same credit —
   * same kind and amount — or it is refused. Keys the server builds (renewals) are answered with
   * the first credit even when the allowance has changed since.
   */
  callerKey?: boolean;
  invoiceId?: number | null;
  /** The billing cycle credited (CYCLE). */
  cycle?: string | null;
  /** ROLLOVER lines: the cycle the traffic came from (YYYY-MM-DD/YYYY-MM-DD). */
  period?: string | null;
  description?: string;
  actor: string;
}

/**
 * The traffic ledger: every change of an account's balance other than metered traffic is a top-up
 * row with the balance before and after, written in the same transaction as the balance update.
 */
export class TrafficLedger {
  constructor(private readonly outbox: EventOutbox) {}

  /**
   * Credits (or, with negative bytes, debits) an account once per idempotency key. Must run inside a
   * transaction; the account row is locked so that before/after are exact while debits go on.
   * Returns the top-up, and whether it is new (false: the key was used before, nothing changed).
   * A key already used for another account (say, the terminated account of the same service) or,
   * for caller keys, for another amount or kind is a CONFLICT naming the key: it is never credited
   * twice, and never answered with a credit that is not the one asked for.
   */
  async credit(
    manager: EntityManager,
    input: CreditInput,
  ): Promise<{ topUp: TrafficTopUpEntity; created: boolean }> {
    const repo = manager.getRepository(TrafficTopUpEntity);
    const [account] = await manager.query(
      'SELECT balance_bytes, service_id, client_id, router_id FROM mod_mikrotikvpn_accounts WHERE id = ? FOR UPDATE',
      [input.accountId],
    );
    // Checked after taking the account lock: a concurrent credit with the same key has committed by now.
    const existing = await repo.findBy({
      idempotencyKey: In([input.idempotencyKey, ...(input.previousKeys ?? [])]),
    });
    if (input.callerKey && existing.some((t) => t.accountId !== input.accountId)) {
      throw new ConflictError(
        `The idempotency key "${shown(input.idempotencyKey)}" was already used for another VPN account`,
      );
    }
    const mine = existing.find((t) => t.accountId === input.accountId);
    if (mine) {
      if (input.callerKey && (mine.kind !== input.kind || toBytes(mine.bytes) !== input.bytes)) {
        throw new ConflictError(
          `The idempotency key "${shown(input.idempotencyKey)}" was already used for another credit (${mine.kind}, ${mine.bytes} bytes), not ${input.kind} of ${input.bytes} bytes`,
        );
      }
      return { topUp: mine, created: false };
    }
    if (existing.some((t) => t.idempotencyKey === input.idempotencyKey)) {
      throw new ConflictError(
        `The idempotency key "${shown(input.idempotencyKey)}" was already used for another VPN account`,
      );
    }
    const before = toBytes(account.balance_bytes);
    const after = before + input.bytes;
    // The parts of the balance (rollover.ts): an allowance credited counts for this cycle; bought
    // traffic never expires (kept is first brought down to the balance it had: what was used of
    // it is gone). ROLLOVER lines are the renewal's, which writes those columns itself.
    const credited = input.kind === TopUpKind.CYCLE && input.bytes > 0n ? input.bytes : 0n;
    const bought =
      (input.kind === TopUpKind.ADDON || input.kind === TopUpKind.ADJUSTMENT) && input.bytes > 0n
        ? input.bytes
        : 0n;
    await manager.query(
      bought > 0n
        ? `UPDATE mod_mikrotikvpn_accounts SET balance_bytes = balance_bytes + ?,
             kept_bytes = LEAST(kept_bytes, GREATEST(?, 0)) + ? WHERE id = ?`
        : `UPDATE mod_mikrotikvpn_accounts SET balance_bytes = balance_bytes + ?,
             cycle_credited_bytes = cycle_credited_bytes + ? WHERE id = ?`,
      bought > 0n
        ? [input.bytes.toString(), before.toString(), bought.toString(), input.accountId]
        : [input.bytes.toString(), credited.toString(), input.accountId],
    );
    if (input.bytes > 0n) await rearmThresholds(manager, input.accountId, after);
    // The database's clock, as for samples: ordering a day's top-ups against its collections
    // (both under this account's lock) must not depend on which process wrote them.
    const [{ now }] = await manager.query('SELECT UTC_TIMESTAMP(3) AS now');
    const topUp = repo.create({
      accountId: input.accountId,
      at: now as Date,
      kind: input.kind,
      reason: input.reason,
      cycle: input.cycle ?? null,
      period: input.period ?? null,
      bytes: input.bytes.toString(),
      balanceBeforeBytes: before.toString(),
      balanceAfterBytes: after.toString(),
      idempotencyKey: input.idempotencyKey,
      invoiceId: input.invoiceId ?? null,
      description: (input.description ?? '').slice(0, 500),
      actor: input.actor.slice(0, 128),
    });
    await repo.insert(topUp);
    // Traffic added (a renewal, an addon, an adjustment) is published with the credit; a NOTE is not,
    // nor the first cycle's allowance: it is part of account.created (and undone with a failed create).
    // Nor ROLLOVER lines: they move traffic between the parts of a balance at a renewal, whose
    // credit is published with the balance they leave.
    if (
      input.kind !== TopUpKind.NOTE &&
      input.kind !== TopUpKind.ROLLOVER &&
      input.reason !== TopUpReason.FIRST_CYCLE
    )
      await this.outbox.emit(manager, {
        type: 'traffic.credited',
        payload: {
          accountId: input.accountId,
          serviceId: Number(account.service_id),
          clientId: Number(account.client_id),
          routerId: Number(account.router_id),
          kind: input.kind,
          bytes: input.bytes.toString(),
          balanceBytes: after.toString(),
          topUpId: String(topUp.id),
        },
      });
    return { topUp, created: true };
  }
}

/** Keys are visible ASCII (validated); the kind prefix the server adds is not the caller's. */
function shown(key: string): string {
  return key.replace(/^(addon|adjustment|cycle):/, '');
}
