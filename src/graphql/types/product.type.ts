import { VpnProtocol } from '../../entities/own/vpn-account.entity';
import type { ProductSettings } from '../../product/product-settings';
import { Authorized, Field, Int, ObjectType } from 'type-graphql';
import { GraphQLSafeInt } from 'graphql-scalars';
import { Bytes } from '../scalars';
import type { ProductView } from '../../services/product.service';

@ObjectType({ description: "Speed limits in the customer's perspective, in bits per second (0 = no limit)." })
export class Bandwidth {
  @Field(() => GraphQLSafeInt) downloadBitsPerSecond!: number;
  @Field(() => GraphQLSafeInt) uploadBitsPerSecond!: number;
}

@ObjectType({ description: 'Traffic credited to the balance each billing cycle.' })
export class CycleAllowance {
  @Field({
    description:
      'WHMCS billing cycle: One Time, Monthly, Quarterly, Semi-Annually, Annually, Biennially, Triennially.',
  })
  cycle!: string;
  @Field(() => Bytes, { description: '0 when unlimited.' }) bytes!: bigint;
  @Field() unlimited!: boolean;
}

@ObjectType()
export class EmailTemplates {
  @Field({ description: 'Sent once per cycle when the balance falls below the threshold.' })
  lowTraffic!: string;
  @Field({ description: 'Sent when the balance is used up and the account is limited.' }) limited!: string;
}

@ObjectType({
  description:
    "What happens when an account's traffic is used up (the product's quota policy; the server's own table, set with setProductPolicy). A change applies to the product's accounts at the next collection.",
})
export class ProductPolicyType {
  @Field({
    description:
      'cutoff = disabled until traffic is added (LIMITED; the default); throttle = online at the throttle speed (THROTTLED); overage = keeps going, WHMCS bills the traffic beyond the allowance (Usage Billing metric Traffic).',
  })
  onExhausted!: string;
  @Field(() => Bandwidth, {
    description: "throttle: the queue's max-limit while used up (customer perspective).",
  })
  throttle!: Bandwidth;
  @Field({ description: "throttle: the WHMCS email template sent when an account is throttled ('' = none)." })
  throttledTemplate!: string;
  @Field(() => Bytes, {
    nullable: true,
    description:
      'overage: traffic in a billing cycle at which the account is cut off anyway (null = no ceiling).',
  })
  overageCeilingBytes!: bigint | null;
  @Field({
    description:
      'What a renewal does with the unused allowance of the cycle that ended: keep = it stays in the balance and never expires (the default); carry = it is carried over up to rolloverMaxBytes, lasts rolloverCycles further cycles and is used first; the rest expires.',
  })
  rollover!: string;
  @Field(() => Bytes, {
    nullable: true,
    description:
      'carry: the most carried-over traffic an account holds at once (null = no cap; 0 = nothing is carried).',
  })
  rolloverMaxBytes!: bigint | null;
  @Field(() => Int, { description: 'carry: the further billing cycles carried-over traffic lasts.' })
  rolloverCycles!: number;
}

/** A WHMCS product (tblproducts) read through the product-settings manifest. */
@ObjectType('Product')
export class ProductType implements ProductView {
  @Field(() => Int) id!: number;
  @Field() name!: string;
  @Field({ description: 'True when the product uses this module (tblproducts.servertype = mikrotikvpn).' })
  usesModule!: boolean;
  @Field() commentPrefix!: string;
  @Field({ description: 'PPP profile of the secrets.' }) profile!: string;
  @Field({ description: 'PPP service of the secrets (any, l2tp, pptp, sstp, ovpn, pppoe), or wireguard.' })
  service!: string;
  @Field(() => VpnProtocol, { description: 'PPP or WIREGUARD (service = wireguard).' })
  protocol!: VpnProtocol;
  @Field({ description: 'A second simultaneous session of an account is ended (One session per account).' })
  singleSession!: boolean;
  @Field({ description: "WireGuard: the router interface peers go on ('' = the router's only one)." })
  wgInterface!: string;
  /** The settings read through the manifest (not a field: services use them). */
  settings!: ProductSettings;
  @Field(() => Bandwidth) bandwidth!: Bandwidth;
  @Field(() => [CycleAllowance]) trafficPerCycle!: CycleAllowance[];
  @Field(() => Int, { description: 'Days detailed samples are kept (0 = all).' }) historyDays!: number;
  @Field(() => Bytes, {
    description:
      'The first "GB remaining" notification threshold (0 = none): the single threshold of older versions.',
  })
  lowTrafficThresholdBytes!: bigint;
  @Field(() => [String], {
    description: 'The notification thresholds as the setting writes them (80%, 1 GB), in its order.',
  })
  lowTrafficThresholds!: string[];
  @Field(() => EmailTemplates) templates!: EmailTemplates;
  @Field() instructionsUrl!: string;
  @Field(() => [String]) protocols!: string[];
  @Authorized('admin')
  @Field({ description: 'L2TP IPsec pre-shared key (admin keys only).' })
  l2tpPsk!: string;
  @Field({ description: 'cron (every collection run) or daily.' }) collectionFrequency!: string;
  @Field(() => [String], { description: 'Settings whose stored value is malformed (their default is used).' })
  invalidSettings!: string[];
}
