import { Arg, Authorized, Ctx, ID, Int, Mutation, Resolver } from 'type-graphql';
import { VpnAccountEntity } from '../entities/own/vpn-account.entity';
import { CreateVpnAccountInput } from '../graphql/inputs/create-vpn-account.input';
import { RouterInput } from '../graphql/inputs/router.input';
import { ReconcileReport, RouterTestResult } from '../graphql/types/lifecycle.type';
import { TerminateVpnServiceResult, nothingToTerminate } from '../graphql/types/results.type';
import type { GraphQLContext } from '../graphql/context';
import { requireIdString } from '../common/validate';

/** The WHMCS module's buttons and hooks, one mutation each. All are idempotent. */
@Resolver()
export class LifecycleResolver {
  @Authorized('admin')
  @Mutation(() => RouterTestResult, {
    description: 'Checks credentials, TLS pin and RouterOS version of a router.',
  })
  testRouterConnection(@Arg('input', () => RouterInput) input: RouterInput, @Ctx() ctx: GraphQLContext) {
    return ctx.services.routerCheck.test(ctx, input);
  }

  @Authorized('admin')
  @Mutation(() => VpnAccountEntity, {
    description:
      'Creates the account of a WHMCS service (secret, queue, address, first allowance). Repeating it returns the account and repairs the router side.',
  })
  createVpnAccount(
    @Arg('input', () => CreateVpnAccountInput) input: CreateVpnAccountInput,
    @Ctx() ctx: GraphQLContext,
  ) {
    return ctx.services.lifecycle.create(ctx, input);
  }

  @Authorized('admin')
  @Mutation(() => VpnAccountEntity, { description: 'Disables the secret and ends the live session.' })
  suspendVpnAccount(
    @Arg('serviceId', () => Int) serviceId: number,
    @Arg('reason', () => String, { nullable: true }) reason: string | null,
    @Ctx() ctx: GraphQLContext,
  ) {
    return ctx.services.lifecycle.suspend(ctx, serviceId, reason);
  }

  @Authorized('admin')
  @Mutation(() => VpnAccountEntity, {
    description:
      "Enables the secret again, unless the traffic balance is used up (then LIMITED, or THROTTLED under the product's Slow down policy).",
  })
  unsuspendVpnAccount(@Arg('serviceId', () => Int) serviceId: number, @Ctx() ctx: GraphQLContext) {
    return ctx.services.lifecycle.unsuspend(ctx, serviceId);
  }

  @Authorized('admin')
  @Mutation(() => VpnAccountEntity, {
    description: 'Removes the secret and queue and frees the address; history stays.',
  })
  terminateVpnAccount(@Arg('serviceId', () => Int) serviceId: number, @Ctx() ctx: GraphQLContext) {
    return ctx.services.lifecycle.terminate(ctx, serviceId);
  }

  @Authorized('admin')
  @Mutation(() => TerminateVpnServiceResult, {
    description:
      "Terminates the service's account like terminateVpnAccount; a service that never had one answers NothingToTerminate (WHMCS's Terminate then has nothing to do) instead of an error.",
  })
  async terminateVpnService(@Arg('serviceId', () => Int) serviceId: number, @Ctx() ctx: GraphQLContext) {
    return (await ctx.services.lifecycle.terminateIfAny(ctx, serviceId)) ?? nothingToTerminate(serviceId);
  }

  @Authorized('admin')
  @Mutation(() => VpnAccountEntity, {
    description:
      'WireGuard accounts: a new key pair and preshared key; the old config stops working. (changeVpnPassword does the same for a WireGuard account.)',
  })
  regenerateWireGuardKeys(@Arg('serviceId', () => Int) serviceId: number, @Ctx() ctx: GraphQLContext) {
    return ctx.services.lifecycle.regenerateKeys(ctx, serviceId);
  }

  @Authorized('admin')
  @Mutation(() => VpnAccountEntity, {
    description: "Applies another product's profile, service, limits and allowance.",
  })
  changeVpnPackage(
    @Arg('serviceId', () => Int) serviceId: number,
    @Arg('productId', () => Int) productId: number,
    @Ctx() ctx: GraphQLContext,
  ) {
    return ctx.services.lifecycle.changePackage(ctx, serviceId, productId);
  }

  @Authorized('admin')
  @Mutation(() => VpnAccountEntity, {
    description: 'Sets the PPP password on the router. It is never stored or returned.',
  })
  changeVpnPassword(
    @Arg('serviceId', () => Int) serviceId: number,
    @Arg('password', () => String) password: string,
    @Ctx() ctx: GraphQLContext,
  ) {
    return ctx.services.lifecycle.changePassword(ctx, serviceId, password);
  }

  @Authorized('admin')
  @Mutation(() => VpnAccountEntity, { description: 'Ends the live PPP session; the customer reconnects.' })
  resetVpnConnection(@Arg('serviceId', () => Int) serviceId: number, @Ctx() ctx: GraphQLContext) {
    return ctx.services.lifecycle.resetConnection(ctx, serviceId);
  }

  @Authorized('admin')
  @Mutation(() => ReconcileReport, {
    description:
      'Makes every router (or one) match the database, and reports foreign secrets and shadowing queues.',
  })
  reconcile(
    @Arg('routerId', () => ID, { nullable: true }) routerId: string | null,
    @Ctx() ctx: GraphQLContext,
  ) {
    return ctx.services.reconcile.reconcile(
      ctx,
      routerId == null ? undefined : requireIdString('routerId', routerId),
    );
  }
}
