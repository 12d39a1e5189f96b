import { In, type DataSource } from 'typeorm';
import { VpnAccountEntity, VpnAccountStatus } from '../entities/own/vpn-account.entity';
import { ValidationError } from '../errors/app-errors';
import type { VpnAccountFilter } from '../graphql/inputs/vpn-account-filter.input';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, decodeCursor, encodeCursor } from '../graphql/connection';

export interface Page<T> {
  nodes: T[];
  edges: { cursor: string; node: T }[];
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
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

  async page(first: number | undefined, after: string | null | undefined, filter: VpnAccountFilter = {}) {
    const size = first ?? DEFAULT_PAGE_SIZE;
    if (!Number.isInteger(size) || size < 1 || size > MAX_PAGE_SIZE) {
      throw new ValidationError(`first must be from 1 to ${MAX_PAGE_SIZE}`);
    }
    const afterId = after == null ? 0 : decodeCursor(after);
    if (afterId === null) throw new ValidationError('after is not a cursor from this API');
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
    return toPage(rows, size);
  }

  static readonly LIVE_STATUSES = [
    VpnAccountStatus.PENDING,
    VpnAccountStatus.ACTIVE,
    VpnAccountStatus.SUSPENDED,
    VpnAccountStatus.LIMITED,
  ];
}

function toPage(rows: VpnAccountEntity[], size: number): Page<VpnAccountEntity> {
  const nodes = rows.slice(0, size);
  const edges = nodes.map((node) => ({ cursor: encodeCursor(node.id), node }));
  return {
    nodes,
    edges,
    pageInfo: {
      hasNextPage: rows.length > size,
      endCursor: edges.length ? edges[edges.length - 1].cursor : null,
    },
  };
}
