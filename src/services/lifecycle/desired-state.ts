import crypto from 'node:crypto';
import { VpnAccountStatus, VpnProtocol, type VpnAccountEntity } from '../../entities/own/vpn-account.entity';
import { toBytes } from '../../common/units';
import type { ProductSettings } from '../../product/product-settings';
import { DEFAULT_POLICY, type ProductPolicy } from '../../product/product-policy';
import type { PppSecretSpec, PppService, SimpleQueueSpec } from '../../router';
import type { DesiredAccount } from './router-plan';

/**
 * What an account should look like on its router, derived from the database alone. Every lifecycle
 * mutation and reconcile apply this same picture, so they can never disagree.
 */

/** What the status rules read of an account. */
export type StatusInputs = Pick<
  VpnAccountEntity,
  'status' | 'suspended' | 'unlimited' | 'balanceBytes' | 'cycleUsedBytes'
>;

/**
 * The status the account should have, under its product's quota policy: suspension wins over
 * everything; unlimited accounts are never limited; a used-up balance cuts off (LIMITED), slows
 * down (THROTTLED) or, with overage billing, changes nothing until the cycle's traffic reaches the
 * ceiling, if the product has one.
 */
export function desiredStatus(
  account: StatusInputs,
  policy: ProductPolicy = DEFAULT_POLICY,
): VpnAccountStatus {
  if (account.status === VpnAccountStatus.TERMINATED) return VpnAccountStatus.TERMINATED;
  if (account.suspended) return VpnAccountStatus.SUSPENDED;
  if (account.unlimited) return VpnAccountStatus.ACTIVE;
  if (policy.onExhausted === 'overage') {
    const ceiling = policy.overageCeilingBytes;
    return ceiling !== null && toBytes(account.cycleUsedBytes) >= ceiling
      ? VpnAccountStatus.LIMITED
      : VpnAccountStatus.ACTIVE;
  }
  if (toBytes(account.balanceBytes) > 0n) return VpnAccountStatus.ACTIVE;
  return policy.onExhausted === 'throttle' ? VpnAccountStatus.THROTTLED : VpnAccountStatus.LIMITED;
}

/** The status reason of a used-up account (LIMITED or THROTTLED). */
export function usedUpReason(status: VpnAccountStatus): string {
  return status === VpnAccountStatus.THROTTLED
    ? 'traffic balance used up: slowed down to the throttle speed'
    : 'traffic balance used up';
}

/** A secret is disabled while its account is suspended or limited (a throttled one stays online). */
export function shouldBeDisabled(account: StatusInputs, policy: ProductPolicy = DEFAULT_POLICY): boolean {
  const status = desiredStatus(account, policy);
  return status === VpnAccountStatus.SUSPENDED || status === VpnAccountStatus.LIMITED;
}

/** The queue's max-limit: the product's speed, or the throttle speed while THROTTLED (customer perspective). */
export function desiredMaxLimit(
  account: StatusInputs,
  settings: ProductSettings,
): { downloadBps: bigint; uploadBps: bigint } {
  if (desiredStatus(account, settings.policy) === VpnAccountStatus.THROTTLED)
    return { downloadBps: settings.policy.throttleDownloadBps, uploadBps: settings.policy.throttleUploadBps };
  return {
    downloadBps: BigInt(settings.downloadBitsPerSecond),
    uploadBps: BigInt(settings.uploadBitsPerSecond),
  };
}

/** The comment that traces a secret and a queue back to the WHMCS service. */
export function ownerComment(settings: ProductSettings, serviceId: number): string {
  return `${settings.commentPrefix}${serviceId}`;
}

/** The queue's name is fixed by the service id, so it survives package and username changes. */
export function queueName(serviceId: number): string {
  return `vpn-${serviceId}`;
}

export function secretSpec(
  account: VpnAccountEntity,
  settings: ProductSettings,
): Omit<PppSecretSpec, 'password'> {
  return {
    name: account.username,
    service: settings.service as PppService,
    profile: settings.profile,
    remoteAddress: account.address,
    comment: ownerComment(settings, account.serviceId),
    disabled: shouldBeDisabled(account, settings.policy),
  };
}

export function queueSpec(account: VpnAccountEntity, settings: ProductSettings): SimpleQueueSpec {
  return {
    name: queueName(account.serviceId),
    address: account.address,
    maxLimit: desiredMaxLimit(account, settings),
    comment: ownerComment(settings, account.serviceId),
  };
}

/** Every prefix whose comment marks the account's objects as ours: those it carried, and the product's. */
export function ownPrefixes(
  account: Pick<VpnAccountEntity, 'commentPrefixes'>,
  settings: ProductSettings | null,
): string[] {
  const prefixes = [...account.commentPrefixes];
  if (settings && !prefixes.includes(settings.commentPrefix)) prefixes.push(settings.commentPrefix);
  return prefixes;
}

/** A WireGuard account's peer as it should be: the interface resolved and the preshared key decrypted. */
export interface DesiredPeer {
  interface: string;
  presharedKey: string;
}

/**
 * The whole picture the router plan works from (see router-plan.ts). A WireGuard account needs
 * `peer`: the interface its product names (resolved on the router) and its preshared key.
 */
export function desiredAccount(
  account: VpnAccountEntity,
  settings: ProductSettings,
  peer: DesiredPeer | null = null,
): DesiredAccount {
  const wireguard = account.protocol === VpnProtocol.WIREGUARD;
  if (wireguard && (!peer || !account.wgPublicKey)) {
    throw new Error(`account ${account.id} is WireGuard but has no peer picture`);
  }
  return {
    protocol: wireguard ? 'wireguard' : 'ppp',
    peer: wireguard ? { ...peer!, publicKey: account.wgPublicKey! } : null,
    peerRosId: account.peerRosId,
    peerPublicKey: account.wgPublicKey,
    username: account.username,
    address: account.address,
    disabled: shouldBeDisabled(account, settings.policy),
    profile: settings.profile,
    service: settings.service as PppService,
    comment: ownerComment(settings, account.serviceId),
    ownComments: ownPrefixes(account, settings).map((p) => `${p}${account.serviceId}`),
    secretRosId: account.secretRosId,
    queueRosId: account.queueRosId,
    queueName: queueName(account.serviceId),
    maxLimit: desiredMaxLimit(account, settings),
  };
}

/** A password for a secret that had to be re-created without one: the admin must set the real one again. */
export function placeholderPassword(): string {
  return crypto.randomBytes(18).toString('base64url');
}

export const USERNAME_PATTERN = /^[A-Za-z0-9._@-]{1,64}$/;
/** Printable ASCII: the RouterOS API client sends win1252, so anything else would arrive altered. */
export const PASSWORD_PATTERN = /^[\x20-\x7E]{1,128}$/;
