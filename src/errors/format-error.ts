import { GraphQLError, type GraphQLFormattedError } from 'graphql';
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

/**
 * One place that decides what a caller sees: our AppErrors as they are, invalid requests as VALIDATION,
 * refused authorisation as FORBIDDEN, a lost database as DATABASE_UNAVAILABLE, and anything else masked
 * as INTERNAL_SERVER_ERROR (logged with the request's id). Stack traces only in development.
 */
export function createFormatError(options: { includeStack: boolean }) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError =>
    judge(formatted, error, options.includeStack).formatted;
}

/**
 * Whether the server did not expect an error (it is masked as INTERNAL_SERVER_ERROR, or the
 * database is lost): such errors are logged, with the id of the request that met them.
 */
export function isUnexpectedError(error: unknown): boolean {
  const code = error instanceof GraphQLError ? error.extensions?.code : undefined;
  return judge({ message: '', extensions: code === undefined ? undefined : { code } }, error, false)
    .unexpected;
}

function judge(
  formatted: GraphQLFormattedError,
  error: unknown,
  includeStack: boolean,
): { formatted: GraphQLFormattedError; unexpected: boolean } {
  const original = unwrapResolverError(error);
  const keep = (code: ErrorCode, message: string, extra: Record<string, unknown> = {}) => ({
    unexpected: false,
    formatted: {
      message,
      locations: formatted.locations,
      path: formatted.path,
      extensions: {
        ...extra,
        code,
        ...(includeStack && formatted.extensions?.stacktrace
          ? { stacktrace: formatted.extensions.stacktrace }
          : {}),
      },
    },
  });
  const unexpected = (verdict: ReturnType<typeof keep>) => ({ ...verdict, unexpected: true });

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
    return unexpected(keep(ErrorCode.DATABASE_UNAVAILABLE, 'The database is unavailable; try again shortly'));
  }
  return unexpected(keep(ErrorCode.INTERNAL_SERVER_ERROR, 'Internal server error'));
}
