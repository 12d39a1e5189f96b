import { Arg, Authorized, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import { VpnAccountEntity } from '../entities/own/vpn-account.entity';
import {
  CollectionFrequency,
  CollectionReport,
  NotificationType,
  TrafficSampleType,
  TrafficTopUpConnection,
  TrafficTopUpType,
  TrafficUsagePeriodType,
  UsageGranularity,
} from '../graphql/types/traffic.type';
import { AccountTraffic } from '../graphql/types/vpn-account-fields.type';
import { AddonCreditResult, AddonEvent, notATrafficAddon } from '../graphql/types/results.type';
import { TopUpTrafficInput } from '../graphql/inputs/top-up.input';
import { Bytes } from '../graphql/scalars';
import { pageSizeComplexity } from '../graphql/connection';
import type { GraphQLContext } from '../graphql/context';
import { requireId, requireIdString } from '../common/validate';
import { dayIn } from '../common/time-zone';
import { carriedOverBytes } from '../services/traffic/rollover.service';
import { ValidationError } from '../errors/app-errors';

/** Credits, collection, notifications and statistics. */
@Resolver(() => VpnAccountEntity)
export class TrafficResolver {
  @Authorized()
  @Query(() => TrafficUsagePeriodType, {
    description:
      "The traffic of a WHMCS server's accounts in a calendar month of WHMCS's time zone, summed from the daily totals: what the module's Usage Billing metric Traffic reports (overage billing).",
  })
  trafficUsageForServer(
    @Arg('serverId', () => Int) serverId: number,
    @Arg('month', () => String, { nullable: true, description: 'YYYY-MM; default: this month.' })
    month: string | null | undefined,
    @Arg('serviceId', () => Int, { nullable: true, description: 'Only this service (tenantUsage).' })
    serviceId: number | null | undefined,
    @Ctx() ctx: GraphQLContext,
  ) {
    return ctx.services.usageMetric.forServer(
      requireId('serverId', serverId),
      month ?? null,
      serviceId === null || serviceId === undefined ? null : requireId('serviceId', serviceId),
    );
  }

  @Authorized('admin')
  @Mutation(() => TrafficTopUpType, {
    nullable: true,
    description:
      "Starts a new billing cycle: credits the allowance of the cycle WHMCS has for the service now (tblhosting.billingcycle), in the product's current settings, once per cycleKey — by default the service's next due date. Null for unlimited products.",
  })
  renewVpnAccount(
    @Arg('serviceId', () => Int) serviceId: number,
    @Arg('cycleKey', () => String, {
      nullable: true,
      description: 'Names the cycle; without it the server uses `due:<next due date>` from WHMCS.',
    })
    cycleKey: string | null | undefined,
    @Arg('invoiceId', () => Int, { nullable: true }) invoiceId: number | null | undefined,
    @Ctx() ctx: GraphQLContext,
  ) {
    return ctx.services.traffic.renew(ctx, serviceId, cycleKey ?? null, invoiceId ?? null);
  }

  @Authorized('admin')
  @Mutation(() => AddonCreditResult, {
    description:
      "Credits a WHMCS traffic addon (tblhostingaddons.id) activated or renewed: its Traffic in GB times the quantity, once per paying invoice. NotATrafficAddon when the addon is not one of this module's.",
  })
  async creditHostingAddon(
    @Arg('hostingAddonId', () => Int) hostingAddonId: number,
    @Arg('event', () => AddonEvent) event: AddonEvent,
    @Ctx() ctx: GraphQLContext,
  ) {
    return (
      (await ctx.services.traffic.creditHostingAddon(ctx, hostingAddonId, event)) ??
      notATrafficAddon(hostingAddonId)
    );
  }

  @Authorized('admin')
  @Mutation(() => TrafficTopUpType, {
    description: 'Credits bought traffic (or an admin adjustment) once per key.',
  })
  topUpTraffic(@Arg('input', () => TopUpTrafficInput) input: TopUpTrafficInput, @Ctx() ctx: GraphQLContext) {
    return ctx.services.traffic.topUp(ctx, input);
  }

  @Authorized('admin')
  @Mutation(() => CollectionReport, {
    description: 'Collects traffic now: all routers, one router, or one frequency.',
  })
  collectTraffic(
    @Ctx() ctx: GraphQLContext,
    @Arg('routerId', () => ID, { nullable: true }) routerId?: string | null,
    @Arg('frequency', () => CollectionFrequency, { nullable: true }) frequency?: CollectionFrequency | null,
  ) {
    return ctx.services.collector.collect(ctx, {
      routerId: routerId == null ? undefined : requireIdString('routerId', routerId),
      frequency: frequency ?? undefined,
    });
  }

  @Authorized('admin')
  @Query(() => [NotificationType], { description: 'Emails waiting to be sent through WHMCS, oldest first.' })
  pendingNotifications(
    @Ctx() ctx: GraphQLContext,
    @Arg('first', () => Int, { nullable: true }) first?: number,
  ) {
    return ctx.services.notifications.pending(first ?? 50);
  }

  @Authorized('admin')
  @Mutation(() => Int, { description: 'Marks notifications delivered; returns how many were still pending.' })
  acknowledgeNotifications(@Arg('ids', () => [ID]) ids: string[], @Ctx() ctx: GraphQLContext) {
    if (ids.length > 500) throw new ValidationError('At most 500 ids at once');
    return ctx.services.notifications.acknowledge(ids.map((id) => requireIdString('ids', id)));
  }

  @Authorized('admin')
  @Mutation(() => Boolean, { description: 'Records a failed delivery; the notification stays pending.' })
  reportNotificationFailure(
    @Arg('id', () => ID) id: string,
    @Arg('error', () => String) error: string,
    @Ctx() ctx: GraphQLContext,
  ) {
    return ctx.services.notifications.reportFailure(requireIdString('id', id), error);
  }

  @FieldResolver(() => [TrafficSampleType], {
    complexity: 20,
    description: 'Traffic between two instants: per day (WHMCS time zone) or per collection sample.',
  })
  usage(
    @Root() account: VpnAccountEntity,
    @Ctx() ctx: GraphQLContext,
    @Arg('from', () => Date) from: Date,
    @Arg('to', () => Date) to: Date,
    @Arg('granularity', () => UsageGranularity, { defaultValue: UsageGranularity.DAY })
    granularity: UsageGranularity,
  ) {
    return ctx.services.traffic.usage(account, from, to, granularity);
  }

  @FieldResolver(() => TrafficTopUpConnection, {
    complexity: pageSizeComplexity,
    description: 'Newest first.',
  })
  topUps(
    @Root() account: VpnAccountEntity,
    @Ctx() ctx: GraphQLContext,
    @Arg('first', () => Int, { nullable: true }) first?: number,
    @Arg('after', () => String, { nullable: true }) after?: string,
  ) {
    return ctx.services.traffic.topUps(account, first, after);
  }

  @FieldResolver(() => String, {
    description:
      'The IANA time zone in which traffic days are counted (WHMCS_TIME_ZONE), so that screens show the same days.',
  })
  timeZone(@Ctx() ctx: GraphQLContext): string {
    return ctx.services.config.timeZone;
  }
}

@Resolver(() => TrafficTopUpType)
export class TrafficTopUpResolver {
  @FieldResolver(() => String, { description: 'The day of the credit in the WHMCS time zone, YYYY-MM-DD.' })
  day(@Root() topUp: TrafficTopUpType, @Ctx() ctx: GraphQLContext): string {
    return dayIn(ctx.services.config.timeZone, topUp.at);
  }
}

@Resolver(() => AccountTraffic)
export class AccountTrafficResolver {
  @FieldResolver(() => Bytes, {
    description:
      'Traffic since the current billing cycle started (the last renewal, or the creation), exact.',
  })
  usedThisCycleBytes(@Root() traffic: AccountTraffic, @Ctx() ctx: GraphQLContext) {
    return ctx.services.traffic.usedThisCycle(traffic.account);
  }

  @FieldResolver(() => Bytes, {
    description:
      'The part of the balance that is carried-over traffic (a product that carries unused traffic over): used first, it expires when its cycles run out. 0 when none.',
  })
  carriedOverBytes(@Root() traffic: AccountTraffic): bigint {
    return carriedOverBytes(traffic.account);
  }

  @FieldResolver(() => Date, {
    nullable: true,
    description:
      'When the soonest-expiring carried-over traffic still left expires: the start of the due date (WHMCS time zone) whose renewal ends its last cycle; it expires at that renewal. Null when none is left.',
  })
  async carriedOverExpiresAt(@Root() traffic: AccountTraffic, @Ctx() ctx: GraphQLContext) {
    if (carriedOverBytes(traffic.account) <= 0n) return null;
    return (await ctx.loaders.carriedOver.load(traffic.account)).expiresAt;
  }
}
