import { In, type EntityManager } from 'typeorm';
import { TopUpKind, TrafficTopUpEntity } from '../entities/own/traffic-topup.entity';
import { toBytes } from '../common/units';
import { ConflictError } from '../errors/app-errors';

export interface CreditInput {
  accountId: number;
  kind: TopUpKind;
  bytes: bigint;
  /** Unique per credit (cycle key, addon + invoice, ...): a repeated key credits nothing. */
  idempotencyKey: string;
  /** Older spellings of the same key: a credit of THIS account under one of them counts as done. */
  previousKeys?: string[];
  invoiceId?: number | null;
  description?: string;
  actor: string;
}

/**
 * The traffic ledger: every change of an account's balance other than metered traffic is a top-up
 * row with the balance before and after, written in the same transaction as the balance update.
 */
export class TrafficLedger {
  /**
   * Credits (or, with negative bytes, debits) an account once per idempotency key. Must run inside a
   * transaction; the account row is locked so that before/after are exact while debits go on.
   * Returns the top-up, and whether it is new (false: the key was used before, nothing changed).
   * A key already used for another account (say, the terminated account of the same service) is a
   * CONFLICT: it is never credited twice, and never answered with the other account's top-up.
   */
  async credit(
    manager: EntityManager,
    input: CreditInput,
  ): Promise<{ topUp: TrafficTopUpEntity; created: boolean }> {
    const repo = manager.getRepository(TrafficTopUpEntity);
    const [account] = await manager.query(
      'SELECT balance_bytes FROM mod_mikrotikvpn_accounts WHERE id = ? FOR UPDATE',
      [input.accountId],
    );
    // Checked after taking the account lock: a concurrent credit with the same key has committed by now.
    const existing = await repo.findBy({
      idempotencyKey: In([input.idempotencyKey, ...(input.previousKeys ?? [])]),
    });
    const mine = existing.find((t) => t.accountId === input.accountId);
    if (mine) return { topUp: mine, created: false };
    if (existing.some((t) => t.idempotencyKey === input.idempotencyKey))
      throw new ConflictError('This idempotency key was already used for another VPN account');
    const before = toBytes(account.balance_bytes);
    const after = before + input.bytes;
    await manager.query(
      'UPDATE mod_mikrotikvpn_accounts SET balance_bytes = balance_bytes + ? WHERE id = ?',
      [input.bytes.toString(), input.accountId],
    );
    const topUp = repo.create({
      accountId: input.accountId,
      at: new Date(),
      kind: input.kind,
      bytes: input.bytes.toString(),
      balanceBeforeBytes: before.toString(),
      balanceAfterBytes: after.toString(),
      idempotencyKey: input.idempotencyKey,
      invoiceId: input.invoiceId ?? null,
      description: (input.description ?? '').slice(0, 500),
      actor: input.actor.slice(0, 128),
    });
    await repo.insert(topUp);
    return { topUp, created: true };
  }
}
