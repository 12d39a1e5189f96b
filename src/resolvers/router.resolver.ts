import { Arg, Authorized, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import { RouterEntity } from '../entities/own/router.entity';
import { RouterInput } from '../graphql/inputs/router.input';
import { AddressPool, RouterStatus } from '../graphql/types/router-fields.type';
import { VpnAccountConnection } from '../graphql/types/vpn-account-fields.type';
import { pageSizeComplexity } from '../graphql/connection';
import type { GraphQLContext } from '../graphql/context';
import { requireId, requireIdString } from '../common/validate';
import { NotFoundError } from '../errors/app-errors';
import { WireGuardInterfaceInfo } from '../graphql/types/wireguard.type';

@Resolver(() => RouterEntity)
export class RouterResolver {
  @Authorized()
  @Query(() => RouterEntity, { nullable: true })
  router(@Arg('id', () => ID) id: string, @Ctx() ctx: GraphQLContext) {
    return ctx.loaders.routerById.load(requireIdString('id', id));
  }

  @Authorized()
  @Query(() => RouterEntity, {
    nullable: true,
    description: 'The router of a WHMCS server record (tblservers.id).',
  })
  routerForServer(@Arg('serverId', () => Int) serverId: number, @Ctx() ctx: GraphQLContext) {
    return ctx.services.routers.findByServerId(requireId('serverId', serverId));
  }

  @Authorized()
  @Query(() => [RouterEntity])
  routers(@Ctx() ctx: GraphQLContext) {
    return ctx.services.routers.list();
  }

  @Authorized('admin')
  @Mutation(() => RouterEntity, { description: 'Create or update the router of a WHMCS server record.' })
  upsertRouter(@Arg('input', () => RouterInput) input: RouterInput, @Ctx() ctx: GraphQLContext) {
    return ctx.services.routers.upsert(ctx, input);
  }

  @FieldResolver(() => Boolean, { description: 'True when a CA certificate is pinned for api-ssl.' })
  caPinned(@Root() router: RouterEntity): boolean {
    return !!router.caPem;
  }

  @FieldResolver(() => RouterStatus, {
    description: 'Read live from the router; never fails the whole query.',
  })
  status(@Root() router: RouterEntity, @Ctx() ctx: GraphQLContext) {
    return ctx.loaders.routerStatus.load(router);
  }

  @Authorized()
  @Query(() => [WireGuardInterfaceInfo], {
    description: 'WireGuard interfaces on a router (for the product settings dropdown); none on RouterOS 6.',
  })
  async routerWireGuardInterfaces(@Arg('routerId', () => ID) routerId: string, @Ctx() ctx: GraphQLContext) {
    const router = await ctx.loaders.routerById.load(requireIdString('routerId', routerId));
    if (!router) throw new NotFoundError('Router', routerId);
    return ctx.loaders.wgInterfaces.load(router);
  }

  @Authorized()
  @Query(() => [String], { description: 'PPP profiles on a router (for the product settings dropdown).' })
  async routerProfiles(@Arg('routerId', () => ID) routerId: string, @Ctx() ctx: GraphQLContext) {
    const router = await ctx.loaders.routerById.load(requireIdString('routerId', routerId));
    if (!router) throw new NotFoundError('Router', routerId);
    const profiles = await ctx.services.gateway.listPppProfiles(ctx.loaders.targetOf(router));
    return profiles.map((p) => p.name);
  }

  @FieldResolver(() => AddressPool)
  addressPool(@Root() router: RouterEntity, @Ctx() ctx: GraphQLContext) {
    return ctx.loaders.addressPoolByRouter.load(router);
  }

  @FieldResolver(() => VpnAccountConnection, { complexity: pageSizeComplexity })
  accounts(
    @Root() router: RouterEntity,
    @Ctx() ctx: GraphQLContext,
    @Arg('first', () => Int, { nullable: true }) first?: number,
    @Arg('after', () => String, { nullable: true }) after?: string,
  ) {
    return ctx.services.accounts.page(first, after, { routerId: String(router.id) });
  }
}
