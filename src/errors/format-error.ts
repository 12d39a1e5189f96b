import type { GraphQLFormattedError } from 'graphql';
import { unwrapResolverError } from '@apollo/server/errors';
import { ArgumentValidationError, AuthenticationError, AuthorizationError } from 'type-graphql';
import { AppError } from './app-errors';
import { ErrorCode } from './error-code';
import { isDatabaseUnavailable } from '../db/database-errors';

/** Apollo's own codes for a request that is malformed or does not fit the schema. */
const INVALID_REQUEST_CODES = new Set([
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'BAD_USER_INPUT',
  'BAD_REQUEST',
  'OPERATION_RESOLUTION_FAILURE',
  'PERSISTED_QUERY_NOT_FOUND',
  'PERSISTED_QUERY_NOT_SUPPORTED',
]);

export type ErrorLogger = (error: unknown, formatted: GraphQLFormattedError) => void;

/**
 * One place that decides what a caller sees: our AppErrors as they are, invalid requests as VALIDATION,
 * refused authorisation as FORBIDDEN, a lost database as DATABASE_UNAVAILABLE, and anything else masked
 * as INTERNAL_SERVER_ERROR (logged with the request's id). Stack traces only in development.
 */
export function createFormatError(options: { includeStack: boolean; log: ErrorLogger }) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const original = unwrapResolverError(error);
    const keep = (
      code: ErrorCode,
      message: string,
      extra: Record<string, unknown> = {},
    ): GraphQLFormattedError => ({
      message,
      locations: formatted.locations,
      path: formatted.path,
      extensions: {
        ...extra,
        code,
        ...(options.includeStack && formatted.extensions?.stacktrace
          ? { stacktrace: formatted.extensions.stacktrace }
          : {}),
      },
    });

    if (original instanceof AppError) {
      const {
        code: _code,
        http: _http,
        stacktrace: _stack,
        ...details
      } = original.extensions as Record<string, unknown>;
      return keep(original.code, original.message, details);
    }
    if (original instanceof ArgumentValidationError) {
      const problems = original.extensions.validationErrors.flatMap((v) =>
        Object.values(v.constraints ?? {}).map((text) => text),
      );
      return keep(
        ErrorCode.VALIDATION,
        problems.length ? `Invalid input: ${problems.join('; ')}` : 'Invalid input',
        {
          fields: original.extensions.validationErrors.map((v) => v.property),
        },
      );
    }
    // Callers are authenticated before any resolver runs, so type-graphql's refusals mean "not allowed".
    if (original instanceof AuthorizationError || original instanceof AuthenticationError) {
      return keep(ErrorCode.FORBIDDEN, 'This key or token may not do that');
    }
    const code = String(formatted.extensions?.code ?? '');
    if (INVALID_REQUEST_CODES.has(code)) return keep(ErrorCode.VALIDATION, formatted.message);
    if (Object.values(ErrorCode).includes(code as ErrorCode) && code !== ErrorCode.INTERNAL_SERVER_ERROR) {
      return keep(code as ErrorCode, formatted.message);
    }
    if (isDatabaseUnavailable(original)) {
      options.log(original, formatted);
      return keep(ErrorCode.DATABASE_UNAVAILABLE, 'The database is unavailable; try again shortly');
    }
    options.log(original, formatted);
    return keep(ErrorCode.INTERNAL_SERVER_ERROR, 'Internal server error');
  };
}
