import { Field, ObjectType } from 'type-graphql';
import { Bytes } from '../scalars';
import { Connection } from '../connection';
import { VpnAccountEntity } from '../../entities/own/vpn-account.entity';

@ObjectType({ description: 'Traffic balance of an account, in exact bytes.' })
export class AccountTraffic {
  @Field(() => Bytes, { description: 'What is left; can fall below 0 between two collections.' })
  balanceBytes!: bigint;
  @Field(() => Bytes, { description: 'Credited every billing cycle (0 when unlimited).' })
  cycleAllowanceBytes!: bigint;
  @Field({ description: 'Unlimited accounts are metered but never limited.' }) unlimited!: boolean;
}

@ObjectType()
export class VpnAccountConnection extends Connection(VpnAccountEntity, 'VpnAccount') {}
