import { Field, ID, Int, ObjectType } from 'type-graphql';
import { Bytes } from '../scalars';
import { Connection } from '../connection';
import { VpnAccountEntity } from '../../entities/own/vpn-account.entity';
import type { SessionView } from '../../services/sessions/session-log.service';

@ObjectType('VpnSession', {
  description:
    'One VPN connection, as the collector saw it (one /ppp/active print per router per collection). A session our own action ended has its exact end; one that ended by itself ended between lastSeenAt and endedAt.',
})
export class VpnSessionType implements Omit<SessionView, 'id' | 'accountId' | 'clientId' | 'routerId'> {
  @Field(() => ID) id!: string;
  @Field(() => Int) serviceId!: number;
  @Field({ description: 'ppp (WireGuard sessions are not logged yet).' }) protocol!: string;
  @Field(() => String, { nullable: true, description: 'l2tp, sstp, pptp, ovpn, pppoe.' }) service!:
    string | null;
  @Field(() => String, {
    nullable: true,
    description: 'Where the client connected from (its public address, or a PPPoE MAC).',
  })
  callerId!: string | null;
  @Field(() => String, { nullable: true, description: 'The address the account had in the session.' })
  address!: string | null;
  @Field(() => Date, { description: "The reading's database time minus the session's uptime." })
  startedAt!: Date;
  @Field(() => Date, { description: 'The last collection that saw the session.' }) lastSeenAt!: Date;
  @Field(() => Date, {
    nullable: true,
    description: 'Null while open. Exact when endExact; else the first collection that no longer saw it.',
  })
  endedAt!: Date | null;
  @Field({ description: 'The end was recorded at the moment our own action ended the session.' })
  endExact!: boolean;
  @Field(() => String, {
    nullable: true,
    description:
      'disconnected, router restarted, limited, suspended, reset, terminated, moved to another server, reconnected for a new package, duplicate session.',
  })
  endReason!: string | null;
  @Field(() => Bytes, { description: 'Traffic to the customer counted while the session was open.' })
  downloadBytes!: bigint;
  @Field(() => Bytes) uploadBytes!: bigint;
  @Field(() => Int, { description: 'Seconds from start to end (or to the last sighting while open).' })
  durationSeconds!: number;
  @Field() open!: boolean;
  /** Not a field: the account, for AddressOwner. */
  accountId!: number;
}

@ObjectType()
export class VpnSessionConnection extends Connection(VpnSessionType, 'VpnSession') {}

@ObjectType({ description: 'Who had an address at an instant, from the session log.' })
export class AddressOwner {
  @Field() address!: string;
  @Field(() => Date) at!: Date;
  @Field({ description: "The address is in one of the servers' Assigned IP Addresses." }) ours!: boolean;
  @Field(() => VpnSessionType, { nullable: true }) session!: VpnSessionType | null;
  @Field(() => VpnAccountEntity, {
    nullable: true,
    description: 'The account that held it (with its service and client ids).',
  })
  account!: VpnAccountEntity | null;
  @Field({
    description:
      'False when the instant falls between the last collection that saw the session and the one that found it gone.',
  })
  certain!: boolean;
  @Field(() => String, {
    nullable: true,
    description: 'Why there is no session: not ours, before the oldest kept, or none held it.',
  })
  reason!: string | null;
  @Field(() => String, {
    nullable: true,
    description: 'The reason as a stable code: NOT_OURS, BEFORE_RETENTION or NO_SESSION.',
  })
  reasonCode!: string | null;
}

/** The API's view of a logged session. */
export function toSessionType(s: SessionView): VpnSessionType {
  const end = s.endedAt ?? s.lastSeenAt;
  return {
    id: String(s.id),
    serviceId: s.serviceId,
    protocol: s.protocol,
    service: s.service,
    callerId: s.callerId,
    address: s.address,
    startedAt: s.startedAt,
    lastSeenAt: s.lastSeenAt,
    endedAt: s.endedAt,
    endExact: s.endExact,
    endReason: s.endReason,
    downloadBytes: s.downloadBytes,
    uploadBytes: s.uploadBytes,
    durationSeconds: Math.max(0, Math.round((end.getTime() - s.startedAt.getTime()) / 1000)),
    open: s.endedAt === null,
    accountId: s.accountId,
  };
}
