import { In, type DataSource } from 'typeorm';
import { VpnAccountEntity, VpnAccountStatus } from '../entities/own/vpn-account.entity';
import { ValidationError } from '../errors/app-errors';
import { pageRequest, toPage } from '../common/pagination';
import { entityRows, type EntityRows } from '../db/entity-rows';

/** Which accounts to list (all given fields must match). */
export interface AccountFilter {
  status?: VpnAccountStatus[];
  routerId?: string;
  productId?: number;
  clientId?: number;
}

/** Reads and pages VPN accounts. (Lifecycle changes live in the lifecycle service.) */
export class VpnAccountService {
  /** Every request of a customer's page starts here: its SQL is written once (see entityRows). */
  private readonly rows: EntityRows<VpnAccountEntity>;

  constructor(private readonly db: DataSource) {
    this.rows = entityRows(db, VpnAccountEntity);
  }

  /** The live account of a service, or else its most recent terminated one. */
  async findByServiceId(serviceId: number): Promise<VpnAccountEntity | null> {
    // Live first (TERMINATED sorts last in the enum), then the newest.
    const [account] = await this.rows.query('WHERE service_id = ? ORDER BY status ASC, id DESC LIMIT 1', [
      serviceId,
    ]);
    return account ?? null;
  }

  async findByServiceIds(serviceIds: readonly number[]): Promise<Map<number, VpnAccountEntity>> {
    const rows = serviceIds.length
      ? await this.db.getRepository(VpnAccountEntity).find({
          where: { serviceId: In([...serviceIds]) },
          order: { status: 'ASC', id: 'DESC' },
        })
      : [];
    const byService = new Map<number, VpnAccountEntity>();
    for (const row of rows) if (!byService.has(row.serviceId)) byService.set(row.serviceId, row);
    return byService;
  }

  async page(first: number | undefined, after: string | null | undefined, filter: AccountFilter = {}) {
    const { size, cursorId } = pageRequest(first, after);
    const where = ['id > ?'];
    const parameters: unknown[] = [cursorId ?? 0];
    if (filter.status?.length) {
      where.push(`status IN (${filter.status.map(() => '?').join(', ')})`);
      parameters.push(...filter.status);
    }
    if (filter.routerId !== undefined) {
      if (!/^\d{1,10}$/.test(filter.routerId)) throw new ValidationError('routerId is not a router id');
      where.push('router_id = ?');
      parameters.push(Number(filter.routerId));
    }
    if (filter.productId !== undefined) {
      where.push('product_id = ?');
      parameters.push(filter.productId);
    }
    if (filter.clientId !== undefined) {
      where.push('client_id = ?');
      parameters.push(filter.clientId);
    }
    const rows = await this.rows.query(
      `WHERE ${where.join(' AND ')} ORDER BY id ASC LIMIT ${Number(size) + 1}`,
      parameters,
    );
    return toPage(rows, size, (a) => a.id);
  }

  static readonly LIVE_STATUSES = [
    VpnAccountStatus.PENDING,
    VpnAccountStatus.ACTIVE,
    VpnAccountStatus.SUSPENDED,
    VpnAccountStatus.LIMITED,
    VpnAccountStatus.THROTTLED,
  ];
}
