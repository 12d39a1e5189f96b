import { LessThan, Not, type DataSource } from 'typeorm';
import { VpnAccountEntity, VpnAccountStatus } from '../../entities/own/vpn-account.entity';
import { TopUpKind, TrafficTopUpEntity } from '../../entities/own/traffic-topup.entity';
import { actorName, type RequestContext } from '../../context/request-context';
import { NotFoundError, ValidationError } from '../../errors/app-errors';
import { requireId } from '../../common/validate';
import { toBytes } from '../../common/units';
import { dayIn } from '../../common/time-zone';
import { retryTransaction } from '../../db/retry';
import type { BillingCycle } from '../../product/product-settings';
import type { TrafficLedger } from '../traffic-ledger.service';
import type { VpnLifecycleService } from '../lifecycle/vpn-lifecycle.service';
import type { EventService } from '../event.service';
import {
  UsageGranularity,
  type TrafficSampleType,
  type TrafficTopUpType,
} from '../../graphql/types/traffic.type';
import type { TopUpTrafficInput } from '../../graphql/inputs/top-up.input';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, decodeCursor, encodeCursor } from '../../graphql/connection';

const MAX_DAYS = { [UsageGranularity.DAY]: 1100, [UsageGranularity.SAMPLE]: 62 };

/** Credits (cycle renewals, bought traffic, admin adjustments) and the statistics customers see. */
export class TrafficService {
  constructor(
    private readonly db: DataSource,
    private readonly ledger: TrafficLedger,
    private readonly lifecycle: VpnLifecycleService,
    private readonly events: EventService,
    private readonly timeZone: string,
  ) {}

  /** The billing cycle's allowance, once per cycle key; null for unlimited products. */
  async renew(
    ctx: RequestContext,
    serviceId: number,
    cycleKey: string,
    invoiceId: number | null,
  ): Promise<TrafficTopUpType | null> {
    requireId('serviceId', serviceId);
    if (!/^[\x21-\x7E]{1,100}$/.test(cycleKey))
      throw new ValidationError('cycleKey must be 1-100 visible ASCII characters');
    if (invoiceId != null) requireId('invoiceId', invoiceId);
    const account = await this.requireLive(serviceId);
    if (account.unlimited) return null;
    const allowance = toBytes(account.cycleAllowanceBytes);
    return this.credit(ctx, account, {
      kind: TopUpKind.CYCLE,
      bytes: allowance,
      // Per account: after terminate and re-create, the same service's new account is credited too.
      idempotencyKey: `cycle:${serviceId}:account-${account.id}:${cycleKey}`,
      previousKeys: [`cycle:${serviceId}:${cycleKey}`],
      invoiceId,
      description: `${account.billingCycle as BillingCycle} traffic allowance`,
    });
  }

  /** Bought traffic (ADDON), a cycle credit, or an admin ADJUSTMENT (which may be negative). */
  async topUp(ctx: RequestContext, input: TopUpTrafficInput): Promise<TrafficTopUpType> {
    requireId('serviceId', input.serviceId);
    if (input.invoiceId != null) requireId('invoiceId', input.invoiceId);
    const bytes = BigInt(input.bytes);
    if (input.kind === TopUpKind.ADJUSTMENT ? bytes === 0n : bytes <= 0n) {
      throw new ValidationError(
        input.kind === TopUpKind.ADJUSTMENT
          ? 'An adjustment must not be 0 bytes'
          : 'bytes must be more than 0',
        { field: 'bytes' },
      );
    }
    if (bytes > 10n ** 17n || bytes < -(10n ** 17n))
      throw new ValidationError('bytes is out of range', { field: 'bytes' });
    if (!/^[\x21-\x7E]{1,150}$/.test(input.idempotencyKey)) {
      throw new ValidationError('idempotencyKey must be 1-150 visible ASCII characters', {
        field: 'idempotencyKey',
      });
    }
    if ((input.description ?? '').length > 500) {
      throw new ValidationError('description must be at most 500 characters', { field: 'description' });
    }
    const account = await this.requireLive(input.serviceId);
    return (await this.credit(ctx, account, {
      kind: input.kind,
      bytes,
      idempotencyKey: `${input.kind.toLowerCase()}:${input.idempotencyKey}`,
      invoiceId: input.invoiceId ?? null,
      description: input.description ?? '',
    }))!;
  }

  private async credit(
    ctx: RequestContext,
    account: VpnAccountEntity,
    credit: {
      kind: TopUpKind;
      bytes: bigint;
      idempotencyKey: string;
      previousKeys?: string[];
      invoiceId: number | null;
      description: string;
    },
  ): Promise<TrafficTopUpType> {
    const { topUp, created } = await retryTransaction(() =>
      this.db.transaction(async (manager) => {
        const r = await this.ledger.credit(manager, {
          accountId: account.id,
          actor: actorName(ctx.actor),
          ...credit,
        });
        if (r.created) {
          await this.events.record(
            ctx,
            {
              action: `traffic.${credit.kind.toLowerCase()}`,
              result: 'OK',
              accountId: account.id,
              serviceId: account.serviceId,
              routerId: account.routerId,
              message: `${credit.bytes} bytes (${credit.idempotencyKey})`,
            },
            manager,
          );
        }
        return r;
      }),
    );
    // A credit that brings the balance back above zero restores the account at once.
    if (created) await this.lifecycle.settle(ctx, account.serviceId).catch(() => undefined);
    return toTopUp(topUp);
  }

  async usage(
    account: VpnAccountEntity,
    from: Date,
    to: Date,
    granularity: UsageGranularity,
  ): Promise<TrafficSampleType[]> {
    if (!(from < to)) throw new ValidationError('from must be before to');
    if ((to.getTime() - from.getTime()) / 86_400_000 > MAX_DAYS[granularity]) {
      throw new ValidationError(`A ${granularity} range may span at most ${MAX_DAYS[granularity]} days`);
    }
    if (granularity === UsageGranularity.SAMPLE) {
      const rows: { at: Date; download_bytes: string; upload_bytes: string; balance_after_bytes: string }[] =
        await this.db.query(
          `SELECT at, download_bytes, upload_bytes, balance_after_bytes FROM mod_mikrotikvpn_traffic_samples
            WHERE account_id = ? AND at >= ? AND at < ? ORDER BY at, id`,
          [account.id, from, to],
        );
      return rows.map((r) => sample(r.at, dayIn(this.timeZone, r.at), r));
    }
    const rows: { day: string; download_bytes: string; upload_bytes: string; balance_after_bytes: string }[] =
      await this.db.query(
        `SELECT DATE_FORMAT(day, '%Y-%m-%d') AS day, download_bytes, upload_bytes, balance_after_bytes
           FROM mod_mikrotikvpn_traffic_daily WHERE account_id = ? AND day >= ? AND day <= ? ORDER BY day`,
        [account.id, dayIn(this.timeZone, from), dayIn(this.timeZone, new Date(to.getTime() - 1))],
      );
    return rows.map((r) => sample(new Date(`${r.day}T00:00:00Z`), r.day, r));
  }

  async topUps(account: VpnAccountEntity, first: number | undefined, after: string | null | undefined) {
    const size = first ?? DEFAULT_PAGE_SIZE;
    if (!Number.isInteger(size) || size < 1 || size > MAX_PAGE_SIZE) {
      throw new ValidationError(`first must be from 1 to ${MAX_PAGE_SIZE}`);
    }
    const beforeId = after == null ? null : decodeCursor(after);
    if (after != null && beforeId === null) throw new ValidationError('after is not a cursor from this API');
    const rows = await this.db.getRepository(TrafficTopUpEntity).find({
      where: { accountId: account.id, ...(beforeId === null ? {} : { id: LessThan(beforeId) }) },
      order: { id: 'DESC' },
      take: size + 1,
    });
    const nodes = rows.slice(0, size).map(toTopUp);
    const edges = nodes.map((node) => ({ cursor: encodeCursor(Number(node.id)), node }));
    return {
      nodes,
      edges,
      pageInfo: { hasNextPage: rows.length > size, endCursor: edges.at(-1)?.cursor ?? null },
    };
  }

  /** Traffic since the last cycle credit (whole days, from the daily totals). */
  async usedThisCycle(account: VpnAccountEntity): Promise<bigint> {
    const [row] = await this.db.query(
      `SELECT COALESCE(SUM(d.download_bytes + d.upload_bytes), 0) AS used
         FROM mod_mikrotikvpn_traffic_daily d
        WHERE d.account_id = ?
          AND d.day >= COALESCE((SELECT DATE(MAX(t.at)) FROM mod_mikrotikvpn_traffic_topups t
                                  WHERE t.account_id = d.account_id AND t.kind = 'CYCLE'), '1970-01-01')`,
      [account.id],
    );
    return toBytes(String(row.used));
  }

  private async requireLive(serviceId: number): Promise<VpnAccountEntity> {
    const account = await this.db
      .getRepository(VpnAccountEntity)
      .findOneBy({ serviceId, status: Not(VpnAccountStatus.TERMINATED) });
    if (!account) throw new NotFoundError('VPN account of service', serviceId);
    return account;
  }
}

function sample(
  at: Date,
  day: string,
  r: { download_bytes: string; upload_bytes: string; balance_after_bytes: string },
): TrafficSampleType {
  const download = toBytes(r.download_bytes);
  const upload = toBytes(r.upload_bytes);
  return {
    at,
    day,
    downloadBytes: download,
    uploadBytes: upload,
    totalBytes: download + upload,
    balanceAfterBytes: toBytes(r.balance_after_bytes),
  };
}

function toTopUp(row: TrafficTopUpEntity): TrafficTopUpType {
  return {
    id: String(row.id),
    at: row.at,
    kind: row.kind,
    bytes: toBytes(row.bytes),
    balanceBeforeBytes: toBytes(row.balanceBeforeBytes),
    balanceAfterBytes: toBytes(row.balanceAfterBytes),
    invoiceId: row.invoiceId,
    description: row.description,
  };
}
