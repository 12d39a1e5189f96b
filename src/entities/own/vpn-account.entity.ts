import { TimestampedEntity } from './timestamped.entity';
import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';
import { Authorized, Field, Int, ObjectType, registerEnumType } from 'type-graphql';

export enum VpnAccountStatus {
  PENDING = 'PENDING',
  ACTIVE = 'ACTIVE',
  SUSPENDED = 'SUSPENDED',
  LIMITED = 'LIMITED',
  THROTTLED = 'THROTTLED',
  TERMINATED = 'TERMINATED',
}
export enum VpnProtocol {
  PPP = 'ppp',
  WIREGUARD = 'wireguard',
}
registerEnumType(VpnProtocol, {
  name: 'VpnProtocol',
  description:
    'PPP = a PPP secret on the router; WIREGUARD = a WireGuard peer. Both are metered by the same queue.',
});

registerEnumType(VpnAccountStatus, {
  name: 'VpnAccountStatus',
  description:
    'LIMITED = disabled because its traffic balance is used up; THROTTLED = online at the product\'s throttle speed because its traffic balance is used up (quota policy "throttle"); SUSPENDED = suspended by WHMCS or an admin; PENDING = a router step is still to be done (see statusReason).',
});

/** A VPN account: one per WHMCS service (tblhosting.id) while it lives; terminated rows stay for history. */
@ObjectType('VpnAccount')
@Entity({ name: 'mod_mikrotikvpn_accounts' })
export class VpnAccountEntity extends TimestampedEntity {
  @PrimaryGeneratedColumn({ type: 'int', unsigned: true })
  id!: number;

  @Field(() => Int, { description: 'The WHMCS service id (tblhosting.id): the key of an account.' })
  @Column({ name: 'service_id', type: 'int' })
  serviceId!: number;

  @Field(() => Int, { description: 'The WHMCS client id (tblclients.id).' })
  @Column({ name: 'client_id', type: 'int' })
  clientId!: number;

  @Column({ name: 'product_id', type: 'int' })
  productId!: number;

  @Column({ name: 'router_id', type: 'int', unsigned: true })
  routerId!: number;

  @Field()
  @Column({ type: 'varchar', length: 64 })
  username!: string;

  @Field({ description: 'The dedicated address given to the account (remote-address of its PPP secret).' })
  @Column({ type: 'varchar', length: 45 })
  address!: string;

  @Field(() => VpnProtocol)
  @Column({ type: 'varchar', length: 16, default: VpnProtocol.PPP })
  protocol!: VpnProtocol;

  @Field(() => VpnAccountStatus)
  @Column({ type: 'enum', enum: VpnAccountStatus, default: VpnAccountStatus.PENDING })
  status!: VpnAccountStatus;

  @Field(() => String, {
    nullable: true,
    description: 'Why the account is PENDING, SUSPENDED, LIMITED or THROTTLED.',
  })
  @Column({ name: 'status_reason', type: 'varchar', length: 255, nullable: true })
  statusReason!: string | null;

  /** What a PENDING account is still to become: `terminate` when a termination did not finish. */
  @Column({ name: 'pending_action', type: 'varchar', length: 16, nullable: true })
  pendingAction!: string | null;

  /** Suspended by WHMCS or an admin, independent of the traffic balance. */
  @Column({
    type: 'tinyint',
    width: 1,
    transformer: { to: (v: boolean) => (v ? 1 : 0), from: (v: number) => !!v },
  })
  suspended!: boolean;

  @Field({ description: 'The WHMCS billing cycle (Monthly, Quarterly, ...).' })
  @Column({ name: 'billing_cycle', type: 'varchar', length: 32 })
  billingCycle!: string;

  @Column({ name: 'balance_bytes', type: 'bigint' })
  balanceBytes!: string;

  @Column({ name: 'cycle_allowance_bytes', type: 'bigint', unsigned: true })
  cycleAllowanceBytes!: string;

  /** Traffic since the current cycle started (the last renewal), exact: the collector adds to it. */
  @Column({ name: 'cycle_used_bytes', type: 'bigint', unsigned: true, default: 0 })
  cycleUsedBytes!: string;

  /**
   * Rollover (see the migration Rollover1765000000000): the part of the balance that never expires
   * (bought traffic; what a `keep` renewal left), used last. Kept by credits and renewals only.
   */
  @Column({ name: 'kept_bytes', type: 'bigint', default: 0 })
  keptBytes!: string;

  /** The allowance credited in the current cycle (its renewal, a package change). */
  @Column({ name: 'cycle_credited_bytes', type: 'bigint', default: 0 })
  cycleCreditedBytes!: string;

  /** Carried-over traffic the current cycle started with: used first. */
  @Column({ name: 'carried_bytes', type: 'bigint', default: 0 })
  carriedBytes!: string;

  /** The key of the renewal that started the current cycle (e.g. `due:2026-12-01`). */
  @Column({ name: 'cycle_key', type: 'varchar', length: 120, nullable: true })
  cycleKey!: string | null;

  @Column({
    type: 'tinyint',
    width: 1,
    transformer: { to: (v: boolean) => (v ? 1 : 0), from: (v: number) => !!v },
  })
  unlimited!: boolean;

  @Column({ name: 'last_download_counter', type: 'bigint', unsigned: true })
  lastDownloadCounter!: string;

  @Column({ name: 'last_upload_counter', type: 'bigint', unsigned: true })
  lastUploadCounter!: string;

  /** The `.id` of the queue the last counters came from: a new id means the counters restarted. */
  @Column({ name: 'counter_queue_id', type: 'varchar', length: 20, nullable: true })
  counterQueueId!: string | null;

  /** The router's boot epoch when the last counters were read: a restart seen by any run is not forgotten. */
  @Column({ name: 'counter_boot_epoch', type: 'int', unsigned: true, nullable: true })
  counterBootEpoch!: number | null;

  @Column({ name: 'last_counters_at', type: 'datetime', precision: 3, nullable: true })
  lastCountersAt!: Date | null;

  /**
   * Every comment prefix this account's router objects have carried (JSON array): a product change
   * or an edited prefix does not make our own secret and queue look foreign.
   */
  @Column({
    name: 'comment_prefixes',
    type: 'varchar',
    length: 1000,
    default: '[]',
    transformer: {
      to: (v: string[] | undefined) => JSON.stringify(v ?? []),
      from: (v: string | null) => parsePrefixes(v),
    },
  })
  commentPrefixes!: string[];

  /** RouterOS `.id` of the account's PPP secret, as last seen: ours whatever its comment says now. */
  @Column({ name: 'secret_ros_id', type: 'varchar', length: 20, nullable: true })
  secretRosId!: string | null;

  /** RouterOS `.id` of the account's simple queue, as last seen. */
  @Column({ name: 'queue_ros_id', type: 'varchar', length: 20, nullable: true })
  queueRosId!: string | null;

  /** WireGuard: the peer's public key (the client's); null for PPP accounts. */
  @Column({ name: 'wg_public_key', type: 'varchar', length: 44, nullable: true })
  wgPublicKey!: string | null;

  /** WireGuard: the client's private key, encrypted with the key ring (never in a response but the config). */
  @Column({ name: 'wg_private_key', type: 'varchar', length: 255, nullable: true })
  wgPrivateKey!: string | null;

  /** WireGuard: the preshared key, encrypted with the key ring. */
  @Column({ name: 'wg_preshared_key', type: 'varchar', length: 255, nullable: true })
  wgPresharedKey!: string | null;

  /** RouterOS `.id` of the account's WireGuard peer, as last seen. */
  @Column({ name: 'peer_ros_id', type: 'varchar', length: 20, nullable: true })
  peerRosId!: string | null;

  /** What could not be applied on the router (a missing profile, say); reconcile retries it. */
  @Authorized()
  @Field(() => String, {
    nullable: true,
    description:
      'What could not be applied on the router (e.g. a PPP profile that does not exist there). Enforcement (disabling, ending the session) never waits for it; reconcile retries it. Not for client tokens.',
  })
  @Column({ name: 'router_problem', type: 'varchar', length: 500, nullable: true })
  routerProblem!: string | null;

  @Field(() => Date, { nullable: true })
  @Column({ name: 'terminated_at', type: 'datetime', precision: 3, nullable: true })
  terminatedAt!: Date | null;
}

/** The stored prefix list; anything unreadable counts as none. */
export function parsePrefixes(value: string | null | undefined): string[] {
  try {
    const list: unknown = JSON.parse(value ?? '[]');
    return Array.isArray(list) ? list.filter((p): p is string => typeof p === 'string') : [];
  } catch {
    return [];
  }
}
