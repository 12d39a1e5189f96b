import { Arg, Authorized, Ctx, Field, Int, Mutation, ObjectType, Resolver } from 'type-graphql';
import { In } from 'typeorm';
import type { GraphQLContext } from '../graphql/context';
import { WhmcsService } from '../entities/whmcs/whmcs-service.entity';
import type { ClientTokenRevocationEntity } from '../entities/own/client-token-revocation.entity';
import { requireId } from '../common/validate';
import { ForbiddenError, ValidationError } from '../errors/app-errors';
import {
  CLIENT_TOKEN_PREFIX,
  DEFAULT_CLIENT_TOKEN_TTL_SECONDS,
  MAX_CLIENT_TOKEN_TTL_SECONDS,
} from '../auth/client-tokens';

@ObjectType()
export class ClientToken {
  @Field({ description: 'Send as "Authorization: Bearer <token>". Reads only the listed services.' })
  token!: string;
  @Field({ description: "The token's own id: `revokeClientToken(id: ...)` revokes this token alone." })
  id!: string;
  @Field(() => Date) expiresAt!: Date;
}

@ObjectType()
export class RevokedClientToken {
  @Field() id!: string;
  @Field(() => Int, { nullable: true, description: 'The client, when the token itself was given.' })
  clientId!: number | null;
  @Field(() => Date, { description: 'When the token would have expired anyway.' })
  expiresAt!: Date;
  @Field(() => Date) revokedAt!: Date;
}

@Resolver()
export class ClientTokenResolver {
  @Authorized('admin')
  @Mutation(() => ClientToken, {
    description:
      "A short-lived token for the client-area page, limited to the client's own services. Every request " +
      'made with it is refused (UNAUTHENTICATED) once one of those services belongs to another client in ' +
      'WHMCS, or once the token is revoked.',
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

  @Authorized('admin')
  @Mutation(() => RevokedClientToken, {
    description:
      'Revokes one client token at once, by its id (from mintClientToken) or by the token itself; other ' +
      'tokens and the encryption keys stay as they are. Revoking twice succeeds.',
  })
  async revokeClientToken(
    @Ctx() ctx: GraphQLContext,
    @Arg('id', () => String, { nullable: true }) id?: string,
    @Arg('token', () => String, { nullable: true }) token?: string,
  ): Promise<RevokedClientToken> {
    if ((id == null) === (token == null)) throw new ValidationError('Give either id or token');
    if (token != null) {
      if (!token.startsWith(CLIENT_TOKEN_PREFIX)) throw new ValidationError('That is not a client token');
      // An expired token may be revoked too (nothing changes): its claims are still its own.
      const check = ctx.services.clientTokens.verify(token, 0);
      if (!check.ok) throw new ValidationError('That client token is not valid (not signed by this server)');
      return revoked(
        await ctx.services.clientTokenService.revoke(ctx, {
          tokenId: check.claims.tokenId,
          claims: check.claims,
        }),
      );
    }
    return revoked(await ctx.services.clientTokenService.revoke(ctx, { tokenId: id! }));
  }
}

function revoked(row: ClientTokenRevocationEntity): RevokedClientToken {
  return { id: row.tokenId, clientId: row.clientId, expiresAt: row.expiresAt, revokedAt: row.revokedAt };
}
