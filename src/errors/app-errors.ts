import { GraphQLError } from 'graphql';
import { ErrorCode } from './error-code';

/**
 * Base of every error we raise on purpose. Its message is safe to show to an admin or customer
 * (never a password, never SQL); anything that is not an AppError is masked by `formatError`.
 */
export class AppError extends GraphQLError {
  constructor(
    readonly code: ErrorCode,
    message: string,
    details: Record<string, unknown> = {},
  ) {
    super(message, { extensions: { code, ...details } });
    this.name = 'AppError';
  }
}

export class ValidationError extends AppError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super(ErrorCode.VALIDATION, message, details);
  }
}

export class NotFoundError extends AppError {
  constructor(entity: string, key: string | number) {
    super(ErrorCode.NOT_FOUND, `${entity} ${key} was not found`, { entity });
  }
}

export class ConflictError extends AppError {
  constructor(message: string) {
    super(ErrorCode.CONFLICT, message);
  }
}

export class UnauthenticatedError extends AppError {
  constructor(message = 'A valid API key or client token is required') {
    super(ErrorCode.UNAUTHENTICATED, message);
  }
}

export class ForbiddenError extends AppError {
  constructor(message = 'This key or token may not do that') {
    super(ErrorCode.FORBIDDEN, message);
  }
}

/** Router-side failures. `routerId` tells which router; the message never holds credentials. */
export type RouterErrorCode =
  | ErrorCode.ROUTER_UNREACHABLE
  | ErrorCode.ROUTER_TIMEOUT
  | ErrorCode.ROUTER_AUTH_FAILED
  | ErrorCode.ROUTER_TLS_FAILED
  | ErrorCode.ROUTER_ERROR;

export class RouterError extends AppError {
  constructor(
    code: RouterErrorCode,
    message: string,
    readonly routerId?: string,
  ) {
    super(code, message, routerId === undefined ? {} : { routerId });
    this.name = 'RouterError';
  }
}
