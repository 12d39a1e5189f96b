import crypto from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { AppError, ForbiddenError, UnauthenticatedError } from '../errors/app-errors';
import { ErrorCode } from '../errors/error-code';
import type { AppServices } from '../app-services';
import type { Database } from '../db/database';
import { createLoaders } from '../loaders/create-loaders';
import { CLIENT_TOKEN_PREFIX } from '../auth/client-tokens';
import type { GraphQLContext } from '../graphql/context';
import type { RequestLocals } from './request-id';
import type { Actor } from './request-context';
import { silentLogger } from '../common/logger';
import { isUnexpectedError } from '../errors/format-error';

/**
 * Builds the context of one GraphQL request: authenticates the caller and creates fresh loaders.
 * With `clientTokensOnly` (the public CLIENT_PORT listener) anything but a client token is refused
 * with FORBIDDEN before it is looked up: an admin or read key never works from the internet.
 */
export function createContextFactory(
  services: AppServices,
  database: Database,
  options: { clientTokensOnly?: boolean } = {},
) {
  return async ({
    req,
    locals,
  }: {
    req: IncomingMessage;
    locals?: RequestLocals;
  }): Promise<GraphQLContext> => {
    // Given by the endpoint (beginRequest); the fallback only serves a server built without it.
    const requestId = locals?.requestId ?? crypto.randomUUID();
    const log = locals?.log ?? silentLogger;
    // Nothing is served before the database is ready: not while it is down, nor while migrations run
    // (a request would meet tables in the middle of a change).
    if (!database.isReady) {
      throw withStatus(
        new AppError(
          ErrorCode.DATABASE_UNAVAILABLE,
          database.isInitialized
            ? 'The server is starting (database migrations are running); try again shortly'
            : 'The database is unavailable; try again shortly',
        ),
        503,
      );
    }
    const header = req.headers.authorization ?? '';
    const bearer = /^Bearer\s+(\S+)$/i.exec(header)?.[1];
    if (options.clientTokensOnly && bearer && !bearer.startsWith(CLIENT_TOKEN_PREFIX)) {
      throw withStatus(
        new ForbiddenError(
          'This listener accepts client tokens only; API keys are refused here (use the private address)',
        ),
        403,
      );
    }
    let actor: Actor;
    try {
      ({ actor } = await authenticate(services, header));
    } catch (error) {
      // A refusal is the caller's; anything else (the database lost mid-check) is logged here, with
      // the request's id, since no GraphQL request exists yet to log it.
      if (isUnexpectedError(error)) log.error({ err: error }, 'unexpected error in a request');
      throw error;
    }
    return {
      requestId,
      log,
      actor,
      services,
      loaders: createLoaders(services, actor.kind === 'client' ? { sharedLiveReads: true } : undefined),
    };
  };
}

/**
 * Who an `Authorization` value names, the same way for requests and subscriptions: an API key, or a
 * client token whose signature, expiry, revocation and owner all hold. `recheck` asks the same
 * questions again (a subscription lives longer than a token may).
 */
export async function authenticate(
  services: AppServices,
  header: string,
): Promise<{ actor: Actor; recheck: () => Promise<void> }> {
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  if (!match)
    throw withStatus(new UnauthenticatedError('Send an API key as "Authorization: Bearer <key>"'), 401);
  const secret = match[1];
  if (secret.startsWith(CLIENT_TOKEN_PREFIX)) {
    const check = async () => {
      const verified = services.clientTokens.verify(secret);
      if (!verified.ok) {
        const error = new UnauthenticatedError(
          verified.reason === 'expired'
            ? 'The client token has expired; reload the page'
            : 'The client token is not valid',
        );
        (error.extensions as Record<string, unknown>).reason =
          verified.reason === 'expired' ? 'TOKEN_EXPIRED' : 'TOKEN_INVALID';
        throw withStatus(error, 401);
      }
      // The signature says who the token was minted for; the database says whether that still holds.
      const standing = await services.clientTokenService.standing(verified.claims);
      if (standing !== 'ok') {
        const error = new UnauthenticatedError(
          standing === 'revoked'
            ? 'The client token was revoked'
            : 'The client token names a service that no longer belongs to its client',
        );
        (error.extensions as Record<string, unknown>).reason =
          standing === 'revoked' ? 'TOKEN_REVOKED' : 'TOKEN_OWNER_CHANGED';
        throw withStatus(error, 401);
      }
      return verified.claims;
    };
    const { clientId, serviceIds } = await check();
    return {
      actor: { kind: 'client', clientId, serviceIds },
      recheck: async () => {
        await check();
      },
    };
  }
  const key = await services.apiKeys.authenticate(secret);
  if (!key) throw withStatus(new UnauthenticatedError('The API key is unknown or revoked'), 401);
  return {
    actor: { kind: 'apiKey', name: key.name, scope: key.scope },
    recheck: async () => {
      if (!(await services.apiKeys.authenticate(secret)))
        throw new UnauthenticatedError('The API key is unknown or revoked');
    },
  };
}

function withStatus(error: AppError, status: number): AppError {
  (error.extensions as Record<string, unknown>).http = { status };
  return error;
}
