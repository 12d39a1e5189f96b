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
import { bytesToGb, toBytes } from '../../common/units';
import type { PendingNotice } from './traffic-types';
import type { EventOutbox } from '../events/outbox.service';
import type { NewEvent } from '../events/event-types';

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

  async enqueueFor(
    manager: EntityManager,
    _ctx: RequestContext,
    low: NoticeAccount[],
    limited: NoticeAccount[],
    settings: Map<number, ProductSettings>,
  ): Promise<void> {
    const accounts = [...new Map([...low, ...limited].map((a) => [a.id, a])).values()];
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
    const rows: Partial<NotificationEntity>[] = [];
    const add = (account: NoticeAccount, kind: NotificationKind) => {
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
        dedupeKey: noticeKey(kind, account.id, src.last_cycle),
        template,
        mergeFields: JSON.stringify(mergeFields(account, s, src)),
        createdAt: new Date(),
        attempts: 0,
        lastError: null,
        acknowledgedAt: null,
      });
    };
    // The low-traffic event: raised where the notice is, once per account and cycle like it, but
    // whether or not the product has an email template.
    const events: NewEvent[] = [];
    for (const a of low) {
      const src = byId.get(a.id);
      if (!src) continue;
      events.push({
        type: 'traffic.threshold_reached',
        dedupeKey: `threshold:${a.id}:cycle-${src.last_cycle ?? 0}`,
        payload: {
          accountId: a.id,
          serviceId: a.serviceId,
          clientId: a.clientId,
          balanceBytes: String(a.balanceBytes),
          thresholdBytes: (settings.get(a.productId)?.lowTrafficThresholdBytes ?? 0n).toString(),
        },
      });
    }
    await this.outbox.emitAll(manager, events);
    for (const a of low) add(a, NotificationKind.LOW_TRAFFIC);
    for (const a of limited) {
      const policy = settings.get(a.productId)?.policy.onExhausted;
      add(a, a.notice ?? (policy === 'throttle' ? NotificationKind.THROTTLED : NotificationKind.LIMITED));
    }
    if (rows.length)
      await manager.createQueryBuilder().insert().into(NotificationEntity).values(rows).orIgnore().execute();
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
function mergeFields(account: NoticeAccount, s: ProductSettings, src: MergeSource): Record<string, string> {
  const balanceGb = bytesToGb(toBytes(account.balanceBytes), 2);
  const allowanceGb = bytesToGb(toBytes(account.cycleAllowanceBytes), 2);
  const thresholdGb = bytesToGb(s.lowTrafficThresholdBytes, 2);
  return {
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
