import { Not, type DataSource } from 'typeorm';
import { VpnAccountEntity, VpnAccountStatus } from '../entities/own/vpn-account.entity';
import { NotFoundError } from '../errors/app-errors';

/**
 * The live account of a WHMCS service, in one place: a service has at most one account that is not
 * TERMINATED (a unique key says so); terminated ones stay for history.
 */
export function findLiveAccount(db: DataSource, serviceId: number): Promise<VpnAccountEntity | null> {
  return db
    .getRepository(VpnAccountEntity)
    .findOneBy({ serviceId, status: Not(VpnAccountStatus.TERMINATED) });
}

/** The live account of a service, or NOT_FOUND. */
export async function requireLiveAccount(db: DataSource, serviceId: number): Promise<VpnAccountEntity> {
  const account = await findLiveAccount(db, serviceId);
  if (!account) throw new NotFoundError('VPN account of service', serviceId);
  return account;
}
