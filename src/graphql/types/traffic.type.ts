import { ErrorCode } from './error-code.type';
import { Field, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import { GraphQLJSONObject } from 'graphql-scalars';
import { Bytes } from '../scalars';
import { Connection } from '../connection';
import { NotificationKind } from '../../entities/own/notification.entity';
import { TopUpKind, TopUpReason } from '../../entities/own/traffic-topup.entity';
import {
  CollectionFrequency,
  UsageGranularity,
  type CollectionReport as CollectionReportShape,
  type PendingNotice,
  type RouterCollection as RouterCollectionShape,
  type TopUpView,
  type UsageRow,
} from '../../services/traffic/traffic-types';

export { CollectionFrequency, UsageGranularity };

registerEnumType(UsageGranularity, { name: 'UsageGranularity' });

registerEnumType(CollectionFrequency, {
  name: 'CollectionFrequency',
  description: 'CRON collects the products set to "cron"; DAILY collects every product.',
});
registerEnumType(TopUpKind, {
  name: 'TopUpKind',
  description:
    'CYCLE, ADDON and ADJUSTMENT change the balance; NOTE is a 0-byte line (e.g. a move); ROLLOVER lines are written at a renewal of a product that carries unused traffic over (reasons CYCLE_UNUSED, CARRIED_OVER, CARRY_EXPIRED, with `period`).',
});
registerEnumType(TopUpReason, {
  name: 'TopUpReason',
  description:
    "Why the line was written; screens word it in the customer's language (with `cycle` for cycle credits).",
});
registerEnumType(NotificationKind, { name: 'NotificationKind' });

@ObjectType('TrafficSample', { description: "Traffic of one period, in the customer's perspective." })
export class TrafficSampleType implements UsageRow {
  @Field(() => Date, {
    description:
      'When the sample was taken (SAMPLE), or the instant the day starts in the WHMCS time zone (DAY).',
  })
  at!: Date;
  @Field({ description: 'The day in the WHMCS time zone, YYYY-MM-DD.' }) day!: string;
  @Field(() => Bytes) downloadBytes!: bigint;
  @Field(() => Bytes) uploadBytes!: bigint;
  @Field(() => Bytes) totalBytes!: bigint;
  @Field(() => Bytes, {
    description:
      "The balance at the end of this period (DAY: after the day's last collection or top-up, whichever came later).",
  })
  balanceAfterBytes!: bigint;
  @Field(() => Bytes, { description: 'Traffic credited during this period (DAY; 0 for SAMPLE).' })
  creditedBytes!: bigint;
}

@ObjectType('TrafficTopUp', { description: 'One line of the traffic-added history.' })
export class TrafficTopUpType implements TopUpView {
  @Field(() => ID) id!: string;
  @Field(() => Date) at!: Date;
  @Field(() => TopUpKind) kind!: TopUpKind;
  @Field(() => TopUpReason, { nullable: true, description: 'Null on lines written before reasons existed.' })
  reason!: TopUpReason | null;
  @Field(() => String, { nullable: true, description: 'The billing cycle credited (CYCLE lines).' })
  cycle!: string | null;
  @Field(() => String, {
    nullable: true,
    description:
      'ROLLOVER lines: the billing cycle the traffic came from, `YYYY-MM-DD/YYYY-MM-DD` (its first day and the day it ended, WHMCS time zone).',
  })
  period!: string | null;
  @Field(() => Bytes) bytes!: bigint;
  @Field(() => Bytes) balanceBeforeBytes!: bigint;
  @Field(() => Bytes) balanceAfterBytes!: bigint;
  @Field(() => Int, { nullable: true }) invoiceId!: number | null;
  @Field({
    description:
      "What a person or WHMCS named (an addon's name, an adjustment's reason); empty on lines the server words itself.",
  })
  description!: string;
}

@ObjectType()
export class TrafficTopUpConnection extends Connection(TrafficTopUpType, 'TrafficTopUp') {}

@ObjectType({ description: 'How one router fared in a collection run.' })
export class RouterCollection implements RouterCollectionShape {
  @Field() routerId!: string;
  @Field() ok!: boolean;
  @Field({ description: 'True when another server process was collecting this router.' }) skipped!: boolean;
  @Field(() => ErrorCode, { nullable: true }) errorCode!: ErrorCode | null;
  @Field(() => String, { nullable: true }) error!: string | null;
  @Field(() => Int, { description: 'Accounts whose counters were read.' }) accounts!: number;
  @Field(() => Int, { description: 'Samples written (accounts with new traffic).' }) samples!: number;
  @Field({ description: 'The router rebooted since the last run: counters started from zero.' })
  rebooted!: boolean;
  @Field(() => [Int], {
    description: 'Services whose queue is missing on the router (reconcile re-creates it).',
  })
  missingQueues!: number[];
  @Field(() => Bytes) downloadBytes!: bigint;
  @Field(() => Bytes) uploadBytes!: bigint;
  @Field(() => Int) durationMs!: number;
}

@ObjectType()
export class CollectionReport implements CollectionReportShape {
  @Field(() => Date) startedAt!: Date;
  @Field(() => Int) durationMs!: number;
  @Field(() => Int) accountsCollected!: number;
  @Field(() => Int) samplesWritten!: number;
  @Field(() => Bytes) downloadBytes!: bigint;
  @Field(() => Bytes) uploadBytes!: bigint;
  @Field(() => [Int], { description: 'Services limited in this run (balance used up).' }) limited!: number[];
  @Field(() => [RouterCollection]) routers!: RouterCollection[];
}

@ObjectType('Notification', { description: 'An email to send through WHMCS; pending until acknowledged.' })
export class NotificationType implements PendingNotice {
  @Field(() => ID) id!: string;
  @Field(() => NotificationKind) kind!: NotificationKind;
  @Field(() => Int) serviceId!: number;
  @Field({ description: 'WHMCS email template name (tblemailtemplates.name).' }) template!: string;
  @Field(() => GraphQLJSONObject, { description: 'Custom merge fields for the template.' })
  mergeFields!: Record<string, string>;
  @Field(() => Date) createdAt!: Date;
  @Field(() => Int) attempts!: number;
  @Field(() => String, { nullable: true }) lastError!: string | null;
}

@ObjectType('ServiceTrafficUsage', {
  description: "One service's traffic in a period: the sum of its daily totals, exact to the byte.",
})
export class ServiceTrafficUsageType {
  @Field(() => Int, { description: 'tblhosting.id' }) serviceId!: number;
  @Field({ description: "The account's user name (WHMCS's tenant for Usage Billing)." }) username!: string;
  @Field(() => Bytes) downloadBytes!: bigint;
  @Field(() => Bytes) uploadBytes!: bigint;
  @Field(() => Bytes, { description: 'downloadBytes + uploadBytes: what the Traffic metric bills.' })
  bytes!: bigint;
}

@ObjectType('TrafficUsagePeriod', {
  description:
    "A calendar month of a WHMCS server's accounts in WHMCS's time zone (Usage Billing's metric Traffic, PERIOD_MONTH).",
})
export class TrafficUsagePeriodType {
  @Field({ description: 'First day of the period (YYYY-MM-DD, WHMCS time zone).' }) from!: string;
  @Field({ description: 'Last day of the period.' }) to!: string;
  @Field() timeZone!: string;
  @Field(() => [ServiceTrafficUsageType]) services!: ServiceTrafficUsageType[];
}
