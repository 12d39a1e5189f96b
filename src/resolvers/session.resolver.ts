import { Arg, Authorized, Ctx, Int, Query, Resolver } from 'type-graphql';
import { AddressOwner, VpnSessionConnection, toSessionType } from '../graphql/types/session.type';
import { pageSizeComplexity } from '../graphql/connection';
import type { GraphQLContext } from '../graphql/context';
import { requireId } from '../common/validate';
import { ForbiddenError, ValidationError } from '../errors/app-errors';
import type { Page } from '../common/pagination';
import type { SessionView } from '../services/sessions/session-log.service';
import { VpnAccountEntity } from '../entities/own/vpn-account.entity';

const shape = (page: Page<SessionView>) => ({
  nodes: page.nodes.map(toSessionType),
  edges: page.edges.map((e) => ({ cursor: e.cursor, node: toSessionType(e.node) })),
  pageInfo: page.pageInfo,
});

/** The session log: a service's connections, a caller's, and who had an address when. */
@Resolver()
export class SessionResolver {
  @Authorized('client')
  @Query(() => VpnSessionConnection, {
    complexity: pageSizeComplexity,
    description:
      "A service's sessions, newest first, overlapping [from, to]. A client token reads only its own services.",
  })
  async sessions(
    @Arg('serviceId', () => Int) serviceId: number,
    @Ctx() ctx: GraphQLContext,
    @Arg('from', () => Date, { nullable: true }) from?: Date,
    @Arg('to', () => Date, { nullable: true }) to?: Date,
    @Arg('first', () => Int, { nullable: true }) first?: number,
    @Arg('after', () => String, { nullable: true }) after?: string,
  ) {
    requireId('serviceId', serviceId);
    if (ctx.actor.kind === 'client' && !ctx.actor.serviceIds.includes(serviceId)) {
      throw new ForbiddenError('This token may not read that service');
    }
    return shape(await ctx.services.sessions.page({ serviceId, from, to }, first, after));
  }

  @Authorized()
  @Query(() => VpnSessionConnection, {
    complexity: pageSizeComplexity,
    description:
      'Sessions that came from this caller (a public address, or a PPPoE MAC), newest first. Not for client tokens.',
  })
  async sessionsByCallerId(
    @Arg('callerId', () => String) callerId: string,
    @Ctx() ctx: GraphQLContext,
    @Arg('from', () => Date, { nullable: true }) from?: Date,
    @Arg('to', () => Date, { nullable: true }) to?: Date,
    @Arg('first', () => Int, { nullable: true }) first?: number,
    @Arg('after', () => String, { nullable: true }) after?: string,
  ) {
    const value = callerId.trim();
    if (!value || value.length > 64)
      throw new ValidationError('callerId must be 1-64 characters', { field: 'callerId' });
    return shape(await ctx.services.sessions.page({ callerId: value, from, to }, first, after));
  }

  @Authorized()
  @Query(() => AddressOwner, {
    description:
      'Who had an address at an instant: the account and the session that held it, or why there is none (not ours, before the oldest session kept). Not for client tokens.',
  })
  async addressOwner(
    @Arg('address', () => String) address: string,
    @Arg('at', () => Date) at: Date,
    @Ctx() ctx: GraphQLContext,
  ): Promise<AddressOwner> {
    const answer = await ctx.services.sessions.addressOwner(address, at);
    const account = answer.session
      ? await ctx.services.db.getRepository(VpnAccountEntity).findOneBy({ id: answer.session.accountId })
      : null;
    return { ...answer, session: answer.session ? toSessionType(answer.session) : null, account };
  }
}
