import { Field, Int, ObjectType } from 'type-graphql';
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
  /** The account itself, for lazily resolved fields (not exposed). */
  account!: VpnAccountEntity;
}

@ObjectType({
  description:
    "A notification threshold of the account's product reached in the current billing cycle (its email was queued unless the same collection used the balance up).",
})
export class ThresholdReached {
  @Field({ description: 'As the product setting writes it: 80%, 1 GB.' }) threshold!: string;
  @Field(() => Bytes, {
    description: 'The balance below which it counts as reached (a percentage: of the cycle allowance).',
  })
  balanceBelowBytes!: bigint;
  @Field(() => Date, { description: 'When it was (last) reached.' }) reachedAt!: Date;
  @Field(() => Date, { description: 'When it was first reached this cycle.' }) firstReachedAt!: Date;
  @Field(() => Int, {
    description: 'How often this cycle: a credit that lifts the balance back above re-arms it.',
  })
  times!: number;
}

@ObjectType()
export class VpnAccountConnection extends Connection(VpnAccountEntity, 'VpnAccount') {}

@ObjectType({ description: 'The live PPP session of an account (read from the router, batched per router).' })
export class VpnConnection {
  @Field() online!: boolean;
  @Field(() => String, { nullable: true, description: 'l2tp, pptp, sstp, ovpn, pppoe.' }) service!:
    string | null;
  @Field(() => String, { nullable: true, description: "The client's address as the router sees it." })
  callerId!: string | null;
  @Field(() => String, { nullable: true, description: 'The address given to the client.' }) address!:
    string | null;
  @Field(() => Int, { nullable: true }) uptimeSeconds!: number | null;
}
