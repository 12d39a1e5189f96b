import type { ApolloServerPlugin } from '@apollo/server';
import { ErrorCode } from '../errors/error-code';
import type { Metrics } from './metrics';

const KNOWN_CODES = new Set<string>(Object.values(ErrorCode));

/**
 * Counts and times every GraphQL operation by its type (query / mutation; `unknown` when it never
 * parsed) and outcome (`ok`, or the first error's code). The client's operation name is not a label:
 * anyone with a key could otherwise create unbounded series.
 */
export function graphqlMetricsPlugin(metrics: Metrics): ApolloServerPlugin {
  return {
    // Refused before any operation ran (no or unknown key, database down): counted, not timed.
    async contextCreationDidFail({ error }) {
      const code = String((error as { extensions?: { code?: unknown } }).extensions?.code ?? '');
      metrics.graphqlRequests.inc({
        operation: 'unknown',
        outcome: KNOWN_CODES.has(code) ? code : ErrorCode.INTERNAL_SERVER_ERROR,
      });
    },
    async requestDidStart() {
      const started = process.hrtime.bigint();
      return {
        async willSendResponse({ operation, response }) {
          const body = response.body;
          const errors = body.kind === 'single' ? body.singleResult.errors : undefined;
          const code = errors?.length ? String(errors[0].extensions?.code ?? '') : 'ok';
          const labels = {
            operation: operation?.operation ?? 'unknown',
            outcome: code === 'ok' || KNOWN_CODES.has(code) ? code : ErrorCode.INTERNAL_SERVER_ERROR,
          };
          metrics.graphqlRequests.inc(labels);
          metrics.graphqlDuration.observe(labels, Number(process.hrtime.bigint() - started) / 1e9);
        },
      };
    },
  };
}
