import { In, type DataSource } from 'typeorm';
import { VpnAccountEntity, VpnAccountStatus } from '../entities/own/vpn-account.entity';
import { ValidationError } from '../errors/app-errors';
import { pageRequest, toPage } from '../common/pagination';

/** Which accounts to list (all given fields must match). */
export interface AccountFilter {
  status?: VpnAccountStatus[];
  routerId?: string;
  productId?: number;
  clientId?: number;
}

/** Reads and pages VPN accounts. (Lifecycle changes live in the lifecycle service.) */
export class VpnAccountService {
  constructor(private readonly db: DataSource) {}

  /** The live account of a service, or else its most recent terminated one. */
  async findByServiceId(serviceId: number): Promise<VpnAccountEntity | null> {
    return this.db.getRepository(VpnAccountEntity).findOne({
      where: { serviceId },
      // Live first (TERMINATED sorts last in the enum), then the newest.
      order: { status: 'ASC', id: 'DESC' },
    });
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
    const afterId = cursorId ?? 0;
    const qb = this.db
      .getRepository(VpnAccountEntity)
      .createQueryBuilder('a')
      .where('a.id > :afterId', { afterId })
      .orderBy('a.id', 'ASC')
      .take(size + 1);
    if (filter.status?.length) qb.andWhere('a.status IN (:...status)', { status: filter.status });
    if (filter.routerId !== undefined) {
      if (!/^\d{1,10}$/.test(filter.routerId)) throw new ValidationError('routerId is not a router id');
      qb.andWhere('a.router_id = :routerId', { routerId: Number(filter.routerId) });
    }
    if (filter.productId !== undefined)
      qb.andWhere('a.product_id = :productId', { productId: filter.productId });
    if (filter.clientId !== undefined) qb.andWhere('a.client_id = :clientId', { clientId: filter.clientId });
    const rows = await qb.getMany();
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
