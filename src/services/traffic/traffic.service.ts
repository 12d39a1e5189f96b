import { In, LessThan, type DataSource } from 'typeorm';
import { VpnAccountEntity } from '../../entities/own/vpn-account.entity';
import { WhmcsService } from '../../entities/whmcs/whmcs-service.entity';
import { TopUpKind, TopUpReason, TrafficTopUpEntity } from '../../entities/own/traffic-topup.entity';
import { actorName, type RequestContext } from '../../context/request-context';
import { NotFoundError, ValidationError } from '../../errors/app-errors';
import { requireId } from '../../common/validate';
import { MAX_BYTES, toBytes } from '../../common/units';
import { addDays, dayIn, startOfDay } from '../../common/time-zone';
import { retryTransaction } from '../../db/retry';
import type { TrafficLedger } from './traffic-ledger.service';
import { rollOver } from './rollover.service';
import { currentCycle, type VpnLifecycleService } from '../lifecycle/vpn-lifecycle.service';
import type { EventService } from '../event.service';
import type { WhmcsBillingService } from '../whmcs-billing.service';
import { requireLiveAccount } from '../live-account';
import { MODULE_NAME } from '../product.service';
import { readAddonSettings } from '../../product/product-settings';
import { UsageGranularity, type TopUpRequest, type TopUpView, type UsageRow } from './traffic-types';
import { pageRequest, toPage } from '../../common/pagination';

const MAX_DAYS = { [UsageGranularity.DAY]: 1100, [UsageGranularity.SAMPLE]: 62 };

const KEY_PATTERN = /^[\x21-\x7E]{1,100}$/;

/** Credits (cycle renewals, bought traffic, admin adjustments) and the statistics customers see. */
export class TrafficService {
  constructor(
    private readonly db: DataSource,
    private readonly ledger: TrafficLedger,
    private readonly lifecycle: VpnLifecycleService,
    private readonly events: EventService,
    private readonly billing: WhmcsBillingService,
    private readonly timeZone: string,
  ) {}

  /**
   * A new billing cycle (WHMCS's Renew): the allowance of the cycle WHMCS has for the service NOW
   * (tblhosting.billingcycle) in the product's current settings, credited once per cycle key. The
   * key is the caller's, or else the service's next due date (`due:YYYY-MM-DD`). Null for
   * unlimited products (the cycle still starts anew: its usage counts from zero).
   */
  async renew(
    ctx: RequestContext,
    serviceId: number,
    cycleKey: string | null,
    invoiceId: number | null,
  ): Promise<TopUpView | null> {
    requireId('serviceId', serviceId);
    if (cycleKey != null && !KEY_PATTERN.test(cycleKey))
      throw new ValidationError('cycleKey must be 1-100 visible ASCII characters', { field: 'cycleKey' });
    if (invoiceId != null) requireId('invoiceId', invoiceId);
    const account = await this.requireLive(serviceId);
    // The invoice that paid the renewal, unless the caller names it.
    invoiceId ??= (await this.billing.latestPaidInvoice('Hosting', serviceId))?.id ?? null;
    const service = await this.db.getRepository(WhmcsService).findOneBy({ id: serviceId });
    if (!service) throw new NotFoundError('WHMCS service', serviceId);
    const cycle = currentCycle(service);
    const due = service.nextduedate ? String(service.nextduedate).slice(0, 10) : '';
    if (cycleKey == null && !/^\d{4}-\d{2}-\d{2}$/.test(due))
      throw new ValidationError(`WHMCS service ${serviceId} has no next due date to name the cycle by`, {
        field: 'nextduedate',
      });
    const key = cycleKey ?? `due:${due}`;
    const settings = await this.lifecycle.productSettings(account.productId);
    const allowance = settings.trafficPerCycle.get(cycle) ?? 0n;
    // Per account: after terminate and re-create, the same service's new account is credited too.
    const idempotencyKey = `cycle:${serviceId}:account-${account.id}:${key}`;
    const { topUp, created } = await retryTransaction(() =>
      this.db.transaction(async (manager) => {
        const [row] = await manager.query(
          'SELECT cycle_key FROM mod_mikrotikvpn_accounts WHERE id = ? FOR UPDATE',
          [account.id],
        );
        const done = await manager.getRepository(TrafficTopUpEntity).findOne({
          where: { accountId: account.id, idempotencyKey: In([idempotencyKey, `cycle:${serviceId}:${key}`]) },
        });
        if (done) return { topUp: done, created: false };
        if (row.cycle_key === key) return { topUp: null, created: false }; // an unlimited cycle, already started
        // The cycle that ended: its unused allowance is kept, or carried over and the rest expires.
        await rollOver(manager, this.ledger, this.timeZone, {
          accountId: account.id,
          cycleKey: key,
          billingCycle: cycle,
          nextDueDate: due,
          policy: settings.policy,
          actor: actorName(ctx.actor),
        });
        account.billingCycle = cycle;
        account.cycleAllowanceBytes = allowance.toString();
        account.unlimited = allowance === 0n;
        account.cycleKey = key;
        account.cycleUsedBytes = '0';
        await manager.update(
          VpnAccountEntity,
          { id: account.id },
          {
            billingCycle: cycle,
            cycleAllowanceBytes: account.cycleAllowanceBytes,
            unlimited: account.unlimited,
            cycleKey: key,
            cycleUsedBytes: '0',
          },
        );
        const credit =
          allowance > 0n
            ? (
                await this.ledger.credit(manager, {
                  accountId: account.id,
                  kind: TopUpKind.CYCLE,
                  reason: TopUpReason.RENEWAL,
                  cycle,
                  bytes: allowance,
                  idempotencyKey,
                  invoiceId,
                  actor: actorName(ctx.actor),
                })
              ).topUp
            : null;
        await this.events.record(
          ctx,
          {
            action: 'traffic.cycle',
            result: 'OK',
            accountId: account.id,
            serviceId: account.serviceId,
            routerId: account.routerId,
            message: `${cycle}: ${allowance > 0n ? `${allowance} bytes` : 'unlimited'} (${key})`,
          },
          manager,
        );
        return { topUp: credit, created: true };
      }),
    );
    // The new cycle may restore a used-up account (a credit, or a product now unlimited).
    if (created) await this.lifecycle.settle(ctx, serviceId).catch(() => undefined);
    return topUp ? toTopUp(topUp) : null;
  }

  /**
   * A WHMCS traffic addon (tblhostingaddons.id) activated or renewed: its "Traffic in GB" times the
   * quantity ordered, credited once per paying invoice (or, without one, per activation date or
   * due date). Null when the addon is not one of this module's (nothing to do for it).
   */
  async creditHostingAddon(
    ctx: RequestContext,
    hostingAddonId: number,
    event: 'ACTIVATION' | 'RENEWAL',
  ): Promise<TopUpView | null> {
    requireId('hostingAddonId', hostingAddonId);
    const held = await this.billing.hostingAddon(hostingAddonId);
    if (!held) throw new NotFoundError('WHMCS hosting addon', hostingAddonId);
    const addon = held.addonid > 0 ? await this.billing.addon(held.addonid) : null;
    if (!addon || addon.module !== MODULE_NAME) return null;
    const { trafficBytesPerUnit } = readAddonSettings(await this.billing.addonSettingValues(addon.id));
    if (trafficBytesPerUnit === null) {
      throw new ValidationError(
        `The addon "${addon.name}" has no valid "Traffic in GB" setting (trafficGb): open its Module Settings in WHMCS and save a number of GB`,
        { field: 'trafficGb', addonId: addon.id },
      );
    }
    const quantity = Math.max(1, Number(held.qty) || 1);
    const invoice = await this.billing.latestPaidInvoice('Addon', hostingAddonId);
    // The same keys the WHMCS module built before this moved here, so nothing is credited twice
    // across the upgrade: WHMCS calling CreateAccount and the AddonActivation hook for one payment
    // credits once.
    const key = invoice
      ? `addon:${hostingAddonId}:invoice:${invoice.id}`
      : `addon:${hostingAddonId}:${event.toLowerCase()}:${event === 'RENEWAL' ? held.nextduedate : held.regdate}`;
    return this.topUp(ctx, {
      serviceId: held.hostingid,
      bytes: trafficBytesPerUnit * BigInt(quantity),
      idempotencyKey: key,
      invoiceId: invoice?.id ?? null,
      description: quantity > 1 ? `${addon.name} × ${quantity}` : addon.name,
      kind: TopUpKind.ADDON,
    });
  }

  /** Bought traffic (ADDON), a cycle credit, or an admin ADJUSTMENT (which may be negative). */
  async topUp(ctx: RequestContext, input: TopUpRequest): Promise<TopUpView> {
    requireId('serviceId', input.serviceId);
    if (input.invoiceId != null) requireId('invoiceId', input.invoiceId);
    if (input.kind === TopUpKind.NOTE)
      throw new ValidationError('NOTE lines are written by the server, not credited', { field: 'kind' });
    const bytes = BigInt(input.bytes);
    if (input.kind === TopUpKind.ADJUSTMENT ? bytes === 0n : bytes <= 0n) {
      throw new ValidationError(
        input.kind === TopUpKind.ADJUSTMENT
          ? 'An adjustment must not be 0 bytes'
          : 'bytes must be more than 0',
        { field: 'bytes' },
      );
    }
    if (bytes > MAX_BYTES || bytes < -MAX_BYTES)
      throw new ValidationError('bytes is out of range', { field: 'bytes' });
    if (!/^[\x21-\x7E]{1,150}$/.test(input.idempotencyKey)) {
      throw new ValidationError('idempotencyKey must be 1-150 visible ASCII characters', {
        field: 'idempotencyKey',
      });
    }
    const description = (input.description ?? '').trim();
    if (description.length > 500) {
      throw new ValidationError('description must be at most 500 characters', { field: 'description' });
    }
    if (input.kind === TopUpKind.ADJUSTMENT && !description) {
      throw new ValidationError('An adjustment needs a reason (description): the customer sees it', {
        field: 'description',
      });
    }
    const account = await this.requireLive(input.serviceId);
    return (await this.credit(ctx, account, {
      kind: input.kind,
      reason:
        input.kind === TopUpKind.CYCLE
          ? TopUpReason.RENEWAL
          : input.kind === TopUpKind.ADJUSTMENT
            ? TopUpReason.ADJUSTMENT
            : TopUpReason.ADDON,
      cycle: input.kind === TopUpKind.CYCLE ? account.billingCycle : null,
      bytes,
      idempotencyKey: `${input.kind.toLowerCase()}:${input.idempotencyKey}`,
      // One key names one credit, whatever kind it was sent with.
      previousKeys: [TopUpKind.ADDON, TopUpKind.ADJUSTMENT, TopUpKind.CYCLE]
        .filter((k) => k !== input.kind)
        .map((k) => `${k.toLowerCase()}:${input.idempotencyKey}`),
      callerKey: true,
      invoiceId: input.invoiceId ?? null,
      description,
    }))!;
  }

  private async credit(
    ctx: RequestContext,
    account: VpnAccountEntity,
    credit: {
      kind: TopUpKind;
      reason: TopUpReason;
      cycle: string | null;
      bytes: bigint;
      idempotencyKey: string;
      previousKeys: string[];
      callerKey: boolean;
      invoiceId: number | null;
      description: string;
    },
  ): Promise<TopUpView> {
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
    // A credit that brings the balance back above zero restores the account at once; a negative
    // adjustment that uses it up limits it (with the used-up notice).
    if (created) await this.lifecycle.settle(ctx, account.serviceId).catch(() => undefined);
    return toTopUp(topUp);
  }

  async usage(
    account: VpnAccountEntity,
    from: Date,
    to: Date,
    granularity: UsageGranularity,
  ): Promise<UsageRow[]> {
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
      return rows.map((r) => ({
        ...amounts(r.download_bytes, r.upload_bytes),
        at: r.at,
        day: dayIn(this.timeZone, r.at),
        balanceAfterBytes: toBytes(r.balance_after_bytes),
        creditedBytes: 0n,
      }));
    }
    return this.days(account, from, to);
  }

  /**
   * Every day of the range in WHMCS's time zone (from the account's first day, up to today), quiet
   * days included, each with its
   * traffic, the traffic credited that day, and the balance at its end — after that day's last
   * collection or top-up, whichever came later (both carry the database's time, taken under the
   * account's lock). Two statements, whatever the range.
   */
  private async days(account: VpnAccountEntity, from: Date, to: Date): Promise<UsageRow[]> {
    const tz = this.timeZone;
    const first = dayIn(tz, from);
    const today = dayIn(tz, new Date());
    const wanted = dayIn(tz, new Date(to.getTime() - 1));
    const last = wanted < today ? wanted : today;
    if (first > last) return [];
    const rangeStart = startOfDay(first, tz);
    const rangeEnd = startOfDay(addDays(last, 1), tz);
    // One statement: the range's daily rows and credits, and the last of each before the range (the
    // opening balance). `part` tells them apart.
    const rows = (await this.db.query(
      `(SELECT ${UsagePart.DAY} AS part, DATE_FORMAT(day, '%Y-%m-%d') AS day, download_bytes, upload_bytes,
               balance_after_bytes, balance_at AS at, 0 AS id
          FROM mod_mikrotikvpn_traffic_daily WHERE account_id = ? AND day >= ? AND day <= ?)
       UNION ALL
       (SELECT ${UsagePart.OPENING_DAY}, DATE_FORMAT(day, '%Y-%m-%d'), 0, 0, balance_after_bytes, balance_at, 0
          FROM mod_mikrotikvpn_traffic_daily WHERE account_id = ? AND day < ? ORDER BY day DESC LIMIT 1)
       UNION ALL
       (SELECT ${UsagePart.CREDIT}, NULL, bytes, 0, balance_after_bytes, at, id
          FROM mod_mikrotikvpn_traffic_topups WHERE account_id = ? AND at >= ? AND at < ?)
       UNION ALL
       (SELECT ${UsagePart.OPENING_CREDIT}, NULL, 0, 0, balance_after_bytes, at, id
          FROM mod_mikrotikvpn_traffic_topups WHERE account_id = ? AND at < ? ORDER BY at DESC, id DESC LIMIT 1)`,
      [account.id, first, last, account.id, first, account.id, rangeStart, rangeEnd, account.id, rangeStart],
    )) as {
      part: number | string;
      day: string | null;
      /** A day's download, or a credit's bytes. */
      download_bytes: string;
      upload_bytes: string;
      balance_after_bytes: string;
      at: Date | null;
      id: number | string;
    }[];
    // A balance is known at an instant; a day's end balance is the latest one up to its end.
    // Daily rows written before balance_at existed count as written at the start of their day.
    type Mark = { at: number; order: number; balance: bigint };
    const marks: Mark[] = [];
    const byDay = new Map<string, { download: string; upload: string }>();
    const creditedByDay = new Map<string, bigint>();
    let opening = false;
    let earliest = dayIn(tz, account.createdAt);
    for (const r of rows) {
      const part = Number(r.part);
      const balance = toBytes(r.balance_after_bytes);
      if (part === UsagePart.DAY || part === UsagePart.OPENING_DAY) {
        const day = r.day!;
        marks.push({ at: r.at ? r.at.getTime() : startOfDay(day, tz).getTime(), order: 0, balance });
        if (part === UsagePart.DAY) byDay.set(day, { download: r.download_bytes, upload: r.upload_bytes });
        else opening = true;
        if (day < earliest) earliest = day;
      } else {
        const at = r.at!;
        marks.push({ at: at.getTime(), order: Number(r.id), balance });
        if (part === UsagePart.CREDIT) {
          const day = dayIn(tz, at);
          creditedByDay.set(day, (creditedByDay.get(day) ?? 0n) + toBytes(r.download_bytes));
          if (day < earliest) earliest = day;
        } else opening = true;
      }
    }
    marks.sort((a, b) => a.at - b.at || a.order - b.order);
    // Days before the account existed are not listed (it had no balance then): the range starts at
    // its creation day, or earlier where it has traffic or credits (history imported, say).
    const start = !opening && earliest > first ? earliest : first;
    const result: UsageRow[] = [];
    let balance = 0n;
    let m = 0;
    let dayStart = startOfDay(start, tz);
    for (let day = start; day <= last;) {
      const nextDay = addDays(day, 1);
      const next = startOfDay(nextDay, tz);
      const end = next.getTime();
      while (m < marks.length && marks[m].at < end) balance = marks[m++].balance;
      const row = byDay.get(day);
      const downloadBytes = row ? toBytes(row.download) : 0n;
      const uploadBytes = row ? toBytes(row.upload) : 0n;
      // Written out, not spread from amounts(): a spread makes every row a slow dictionary object.
      result.push({
        downloadBytes,
        uploadBytes,
        totalBytes: downloadBytes + uploadBytes,
        at: dayStart,
        day,
        balanceAfterBytes: balance,
        creditedBytes: creditedByDay.get(day) ?? 0n,
      });
      dayStart = next;
      day = nextDay;
    }
    return result;
  }

  async topUps(account: VpnAccountEntity, first: number | undefined, after: string | null | undefined) {
    const { size, cursorId } = pageRequest(first, after);
    const rows = await this.db.getRepository(TrafficTopUpEntity).find({
      where: { accountId: account.id, ...(cursorId === null ? {} : { id: LessThan(cursorId) }) },
      order: { id: 'DESC' },
      take: size + 1,
    });
    return toPage(rows.map(toTopUp), size, (t) => Number(t.id));
  }

  /** Traffic since the current cycle started (the last renewal, or the account's creation), exact. */
  usedThisCycle(account: VpnAccountEntity): bigint {
    return toBytes(account.cycleUsedBytes);
  }

  private requireLive(serviceId: number): Promise<VpnAccountEntity> {
    return requireLiveAccount(this.db, serviceId);
  }
}

/** The parts of the usage statement (see `days`). */
const enum UsagePart {
  DAY = 0,
  OPENING_DAY = 1,
  CREDIT = 2,
  OPENING_CREDIT = 3,
}

function amounts(download: string, upload: string) {
  const downloadBytes = toBytes(download);
  const uploadBytes = toBytes(upload);
  return { downloadBytes, uploadBytes, totalBytes: downloadBytes + uploadBytes };
}

function toTopUp(row: TrafficTopUpEntity): TopUpView {
  return {
    id: String(row.id),
    at: row.at,
    kind: row.kind,
    reason: row.reason,
    cycle: row.cycle,
    period: row.period,
    bytes: toBytes(row.bytes),
    balanceBeforeBytes: toBytes(row.balanceBeforeBytes),
    balanceAfterBytes: toBytes(row.balanceAfterBytes),
    invoiceId: row.invoiceId,
    description: row.description,
  };
}
