import { TimestampedEntity } from './timestamped.entity';
import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';
import { Field, ID, Int, ObjectType } from 'type-graphql';

/** A MikroTik router, one per WHMCS server record of our module. Its password is encrypted at rest. */
@ObjectType('Router', { description: 'A MikroTik router (one WHMCS server record of this module).' })
@Entity({ name: 'mod_mikrotikvpn_routers' })
export class RouterEntity extends TimestampedEntity {
  @Field(() => ID)
  @PrimaryGeneratedColumn({ type: 'int', unsigned: true })
  id!: number;

  @Field(() => Int, { description: 'The WHMCS server id (tblservers.id).' })
  @Column({ name: 'server_id', type: 'int' })
  serverId!: number;

  @Field()
  @Column({ type: 'varchar', length: 255 })
  name!: string;

  @Field()
  @Column({ type: 'varchar', length: 255 })
  host!: string;

  @Field(() => Int)
  @Column({ type: 'int', unsigned: true })
  port!: number;

  @Field({ description: 'api-ssl (true) or plain API (false).' })
  @Column({
    type: 'tinyint',
    width: 1,
    transformer: { to: (v: boolean) => (v ? 1 : 0), from: (v: number) => !!v },
  })
  tls!: boolean;

  @Field()
  @Column({ type: 'varchar', length: 255 })
  username!: string;

  /** `keyid:iv:tag:ciphertext` (see src/auth/secret-box.ts). Never exposed. */
  @Column({ name: 'password_encrypted', type: 'text' })
  passwordEncrypted!: string;

  @Column({ name: 'ca_pem', type: 'text', nullable: true })
  caPem!: string | null;

  @Field(() => String, {
    nullable: true,
    description: "Pinned SHA-256 fingerprint of the router's certificate.",
  })
  @Column({ name: 'fingerprint_sha256', type: 'varchar', length: 95, nullable: true })
  fingerprintSha256!: string | null;

  @Field(() => String, { nullable: true, description: 'System identity, as last read from the router.' })
  @Column({ type: 'varchar', length: 255, nullable: true })
  identity!: string | null;

  @Field(() => String, { nullable: true, description: 'RouterOS version, as last read from the router.' })
  @Column({ type: 'varchar', length: 64, nullable: true })
  version!: string | null;

  @Column({ name: 'last_uptime_seconds', type: 'bigint', unsigned: true, nullable: true })
  lastUptimeSeconds!: string | null;

  /** Boot time as last estimated (database time − uptime): shown, never compared across readings. */
  @Column({ name: 'last_boot_at', type: 'datetime', precision: 3, nullable: true })
  lastBootAt!: Date | null;

  /** Bumped at every restart any reading notices; an account's counters carry the epoch they were read in. */
  @Column({ name: 'boot_epoch', type: 'int', unsigned: true, default: 0 })
  bootEpoch!: number;

  /** The database server's clock when the uptime was last read (see router-restart.ts). */
  @Column({ name: 'last_read_at', type: 'datetime', precision: 3, nullable: true })
  lastReadAt!: Date | null;

  /** How long that read took (ms): how far apart the database time and the uptime may be. */
  @Column({ name: 'last_read_window_ms', type: 'int', unsigned: true, nullable: true })
  lastReadWindowMs!: number | null;

  @Field(() => Date, { nullable: true })
  @Column({ name: 'last_seen_at', type: 'datetime', precision: 3, nullable: true })
  lastSeenAt!: Date | null;

  /** Set by the first failed collection, cleared by the next good one (router.unreachable/recovered). */
  @Column({ name: 'unreachable_since', type: 'datetime', precision: 3, nullable: true, update: false })
  unreachableSince!: Date | null;
}
