import { Arg, Authorized, Ctx, Field, Int, Mutation, ObjectType, Resolver } from 'type-graphql';
import { In } from 'typeorm';
import type { GraphQLContext } from '../graphql/context';
import { WhmcsService } from '../entities/whmcs/whmcs-service.entity';
import { requireId } from '../common/validate';
import { ForbiddenError, ValidationError } from '../errors/app-errors';
import { DEFAULT_CLIENT_TOKEN_TTL_SECONDS, MAX_CLIENT_TOKEN_TTL_SECONDS } from '../auth/client-tokens';

@ObjectType()
export class ClientToken {
  @Field({ description: 'Send as "Authorization: Bearer <token>". Reads only the listed services.' })
  token!: string;
  @Field(() => Date) expiresAt!: Date;
}

@Resolver()
export class ClientTokenResolver {
  @Authorized('admin')
  @Mutation(() => ClientToken, {
    description: "A short-lived token for the client-area page, limited to the client's own services.",
  })
  async mintClientToken(
    @Arg('clientId', () => Int) clientId: number,
    @Arg('serviceIds', () => [Int]) serviceIds: number[],
    @Ctx() ctx: GraphQLContext,
    @Arg('ttlSeconds', () => Int, { nullable: true }) ttlSeconds?: number,
  ): Promise<ClientToken> {
    requireId('clientId', clientId);
    if (!serviceIds.length || serviceIds.length > 100)
      throw new ValidationError('serviceIds must list 1 to 100 services');
    serviceIds.forEach((id) => requireId('serviceIds', id));
    const ttl = ttlSeconds ?? DEFAULT_CLIENT_TOKEN_TTL_SECONDS;
    if (!Number.isInteger(ttl) || ttl < 10 || ttl > MAX_CLIENT_TOKEN_TTL_SECONDS) {
      throw new ValidationError(`ttlSeconds must be from 10 to ${MAX_CLIENT_TOKEN_TTL_SECONDS}`);
    }
    const owned = await ctx.services.db
      .getRepository(WhmcsService)
      .findBy({ id: In(serviceIds), userid: clientId });
    if (owned.length !== new Set(serviceIds).size) {
      throw new ForbiddenError('Every service of a client token must belong to that client');
    }
    return ctx.services.clientTokens.mint(clientId, [...new Set(serviceIds)], ttl);
  }
}
