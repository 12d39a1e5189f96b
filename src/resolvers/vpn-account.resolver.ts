import { Arg, Authorized, Ctx, FieldResolver, Int, Query, Resolver, Root } from 'type-graphql';
import { VpnAccountEntity, VpnAccountStatus, VpnProtocol } from '../entities/own/vpn-account.entity';
import { WireGuardConfig, WireGuardPeerStatus } from '../graphql/types/wireguard.type';
import { wireGuardStatus } from '../services/wireguard/wireguard.service';
import { peerOnline } from '../router';
import { RouterEntity } from '../entities/own/router.entity';
import { ProductType, Bandwidth } from '../graphql/types/product.type';
import {
  AccountTraffic,
  ThresholdReached,
  VpnAccountConnection,
  VpnConnection,
} from '../graphql/types/vpn-account-fields.type';
import { VpnAccountFilter } from '../graphql/inputs/vpn-account-filter.input';
import { pageSizeComplexity } from '../graphql/connection';
import type { GraphQLContext } from '../graphql/context';
import { requireId } from '../common/validate';
import { toBytes } from '../common/units';
import { ForbiddenError } from '../errors/app-errors';

@Resolver(() => VpnAccountEntity)
export class VpnAccountResolver {
  @Authorized('client')
  @Query(() => VpnAccountEntity, {
    nullable: true,
    description:
      'The account of a WHMCS service (tblhosting.id). A client token reads only its own services.',
  })
  vpnAccount(@Arg('serviceId', () => Int) serviceId: number, @Ctx() ctx: GraphQLContext) {
    requireId('serviceId', serviceId);
    if (ctx.actor.kind === 'client' && !ctx.actor.serviceIds.includes(serviceId)) {
      throw new ForbiddenError('This token may not read that service');
    }
    return ctx.services.accounts.findByServiceId(serviceId);
  }

  @Authorized()
  @Query(() => VpnAccountConnection, { complexity: pageSizeComplexity })
  vpnAccounts(
    @Ctx() ctx: GraphQLContext,
    @Arg('first', () => Int, { nullable: true }) first?: number,
    @Arg('after', () => String, { nullable: true }) after?: string,
    @Arg('filter', () => VpnAccountFilter, { nullable: true }) filter?: VpnAccountFilter,
  ) {
    return ctx.services.accounts.page(first, after, filter);
  }

  @Authorized()
  @FieldResolver(() => RouterEntity, { description: 'Not for client tokens.' })
  async router(@Root() account: VpnAccountEntity, @Ctx() ctx: GraphQLContext) {
    return ctx.loaders.routerById.load(account.routerId);
  }

  @FieldResolver(() => ProductType, {
    nullable: true,
    description: 'Null when the WHMCS product was deleted.',
  })
  product(@Root() account: VpnAccountEntity, @Ctx() ctx: GraphQLContext) {
    return ctx.loaders.productById.load(account.productId);
  }

  @FieldResolver(() => Bandwidth, { nullable: true, description: "The product's speed limits." })
  async bandwidth(@Root() account: VpnAccountEntity, @Ctx() ctx: GraphQLContext) {
    return (await ctx.loaders.productById.load(account.productId))?.bandwidth ?? null;
  }

  @FieldResolver(() => VpnConnection, {
    nullable: true,
    description:
      'Live session, read from the router: one /ppp/active/print (WireGuard: one peers print) per router per request. WireGuard accounts are online while their last handshake is under 3 minutes old.',
  })
  async connection(
    @Root() account: VpnAccountEntity,
    @Ctx() ctx: GraphQLContext,
  ): Promise<VpnConnection | null> {
    if (account.status === VpnAccountStatus.TERMINATED) return null;
    const router = await ctx.loaders.routerById.load(account.routerId);
    if (!router) return null;
    if (account.protocol === VpnProtocol.WIREGUARD) {
      // No session: online while handshakes are recent; the caller is where the router last heard it from.
      const peer = account.wgPublicKey
        ? await ctx.loaders.router.wireguardPeers.load({
            router: ctx.loaders.targetOf(router),
            publicKey: account.wgPublicKey,
          })
        : null;
      const online = peer !== null && peerOnline(peer);
      return {
        online,
        service: online ? 'wireguard' : null,
        callerId: online ? peer.currentEndpoint : null,
        address: online ? account.address : null,
        uptimeSeconds: null,
      };
    }
    const session = await ctx.loaders.router.activeSessions.load({
      router: ctx.loaders.targetOf(router),
      username: account.username,
    });
    if (!session) return { online: false, service: null, callerId: null, address: null, uptimeSeconds: null };
    return {
      online: true,
      service: session.service || null,
      callerId: session.callerId || null,
      address: session.address || null,
      uptimeSeconds: session.uptimeSeconds,
    };
  }

  @FieldResolver(() => WireGuardPeerStatus, {
    nullable: true,
    description:
      'WireGuard accounts: the peer (public key, endpoint, last handshake). Null for PPP accounts.',
  })
  wireguard(@Root() account: VpnAccountEntity, @Ctx() ctx: GraphQLContext) {
    if (account.status === VpnAccountStatus.TERMINATED) return null;
    return wireGuardStatus(account, ctx.loaders.wireguard);
  }

  @Authorized('client')
  @FieldResolver(() => WireGuardConfig, {
    nullable: true,
    description:
      "WireGuard accounts: the customer's wg-quick file and its QR code, with the client's private key. Only for an admin key or the account's own client token. Null for PPP accounts, and while the router cannot be read (the config carries the router interface's key and port).",
  })
  wireGuardConfig(@Root() account: VpnAccountEntity, @Ctx() ctx: GraphQLContext) {
    const { actor } = ctx;
    const allowed =
      actor.kind === 'system' ||
      (actor.kind === 'apiKey' && actor.scope === 'admin') ||
      (actor.kind === 'client' && actor.serviceIds.includes(account.serviceId));
    if (!allowed)
      throw new ForbiddenError(
        "Only an admin key or the account's own client token may read its WireGuard config",
      );
    if (account.status === VpnAccountStatus.TERMINATED) return null;
    return ctx.services.wireguard.configFor(account, ctx.loaders.wireguard);
  }

  @FieldResolver(() => Int, {
    description:
      "Sessions of this account ended because another one was already open (the product's One session per account), in the session log's retention.",
  })
  duplicateSessionsEnded(@Root() account: VpnAccountEntity, @Ctx() ctx: GraphQLContext) {
    return ctx.loaders.duplicateSessions.load(account.id);
  }

  @FieldResolver(() => [ThresholdReached], {
    description:
      "The product's notification thresholds this account reached in its current billing cycle, largest balance first.",
  })
  thresholdsReached(@Root() account: VpnAccountEntity, @Ctx() ctx: GraphQLContext) {
    return ctx.loaders.thresholdsReached.load(account.id);
  }

  @FieldResolver(() => AccountTraffic)
  traffic(@Root() account: VpnAccountEntity): AccountTraffic {
    return {
      balanceBytes: toBytes(account.balanceBytes),
      cycleAllowanceBytes: toBytes(account.cycleAllowanceBytes),
      unlimited: account.unlimited,
      account,
    };
  }
}
