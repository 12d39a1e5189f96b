import type { ApolloServerPlugin } from '@apollo/server';
import { GraphQLError } from 'graphql';
import { unwrapResolverError } from '@apollo/server/errors';
import type { Logger } from '../common/logger';
import { actorName, type RequestContext } from '../context/request-context';
import { isUnexpectedError } from '../errors/format-error';

/**
 * One debug line per GraphQL request: who, which operation, how long, which error codes. Never the
 * query text or its variables: they carry passwords (createVpnAccount, upsertRouter, ...).
 * A refused authentication is an info line with its code and reason, never the key or token.
 * An unexpected error (masked for the caller) is an error line with the request's id.
 */
export function requestLogPlugin(log: Logger): ApolloServerPlugin<RequestContext> {
  return {
    async contextCreationDidFail({ error }) {
      const extensions = error instanceof GraphQLError ? error.extensions : {};
      log.info(
        { code: extensions.code ?? null, reason: extensions.reason ?? null },
        'request refused before GraphQL',
      );
    },
    async requestDidStart({ contextValue }) {
      const unexpected = {
        async didEncounterErrors({ errors }: { errors: readonly GraphQLError[] }) {
          for (const error of errors) {
            if (isUnexpectedError(error))
              contextValue.log.error(
                { err: unwrapResolverError(error), path: error.path },
                'unexpected error in a request',
              );
          }
        },
      };
      if (!log.isLevelEnabled('debug')) return unexpected;
      const started = process.hrtime.bigint();
      return {
        ...unexpected,
        async willSendResponse({ operationName, operation, response }) {
          // The formatted errors: their codes are the ones the caller saw.
          const errors = response.body.kind === 'single' ? response.body.singleResult.errors : undefined;
          log.debug(
            {
              requestId: contextValue.requestId,
              actor: actorName(contextValue.actor),
              operation: operationName ?? null,
              type: operation?.operation ?? null,
              errors: errors?.map((e) => e.extensions?.code ?? null),
              ms: Number((process.hrtime.bigint() - started) / 1_000_000n),
            },
            'graphql request',
          );
        },
      };
    },
  };
}
