import { VpnAccountStatus, type VpnAccountEntity } from '../../entities/own/vpn-account.entity';
import type { NewEvent } from './event-types';

/** The ids every account event carries. */
export function accountRef(account: Pick<VpnAccountEntity, 'id' | 'serviceId' | 'clientId' | 'routerId'>) {
  return {
    accountId: account.id,
    serviceId: account.serviceId,
    clientId: account.clientId,
    routerId: account.routerId,
  };
}

/**
 * The events of one committed status change, decided in this one place for every path that settles
 * a status (the buttons, the collector's limiting, reconcile). PENDING is no state of its own: the
 * event comes when the change reaches its final status.
 */
export function statusChangeEvents(
  account: Pick<VpnAccountEntity, 'id' | 'serviceId' | 'clientId' | 'routerId' | 'balanceBytes'>,
  from: VpnAccountStatus,
  to: VpnAccountStatus,
): NewEvent[] {
  const base = { ...accountRef(account), status: to, previousStatus: from };
  const events: NewEvent[] = [];
  const S = VpnAccountStatus;
  if (to === S.SUSPENDED && from !== S.SUSPENDED) events.push({ type: 'account.suspended', payload: base });
  if (from === S.SUSPENDED && (to === S.ACTIVE || to === S.LIMITED || to === S.THROTTLED))
    events.push({ type: 'account.unsuspended', payload: base });
  if (to === S.LIMITED && from !== S.LIMITED)
    events.push({
      type: 'account.limited',
      payload: { ...base, balanceBytes: String(account.balanceBytes) },
    });
  // Slowed down instead of cut off (quota policy "throttle"); also a cut-off account whose product
  // switched to throttling.
  if (to === S.THROTTLED && from !== S.THROTTLED)
    events.push({
      type: 'account.throttled',
      payload: { ...base, balanceBytes: String(account.balanceBytes) },
    });
  if ((from === S.LIMITED || from === S.THROTTLED) && to === S.ACTIVE)
    events.push({
      type: 'account.restored',
      payload: { ...base, balanceBytes: String(account.balanceBytes) },
    });
  return events;
}
