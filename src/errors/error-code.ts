/**
 * Every error the API returns carries one of these codes in `extensions.code`.
 * They are a public contract (the PHP bridge and client scripts switch on them): add, never rename.
 */
export enum ErrorCode {
  UNAUTHENTICATED = 'UNAUTHENTICATED',
  FORBIDDEN = 'FORBIDDEN',
  VALIDATION = 'VALIDATION',
  NOT_FOUND = 'NOT_FOUND',
  CONFLICT = 'CONFLICT',
  ADDRESS_POOL_EXHAUSTED = 'ADDRESS_POOL_EXHAUSTED',
  QUERY_TOO_COMPLEX = 'QUERY_TOO_COMPLEX',
  ROUTER_UNREACHABLE = 'ROUTER_UNREACHABLE',
  ROUTER_TIMEOUT = 'ROUTER_TIMEOUT',
  ROUTER_AUTH_FAILED = 'ROUTER_AUTH_FAILED',
  ROUTER_TLS_FAILED = 'ROUTER_TLS_FAILED',
  ROUTER_ERROR = 'ROUTER_ERROR',
  /** The router lacks what the product needs (no WireGuard on RouterOS 6, no WireGuard interface). */
  ROUTER_FEATURE_MISSING = 'ROUTER_FEATURE_MISSING',
  DATABASE_UNAVAILABLE = 'DATABASE_UNAVAILABLE',
  INTERNAL_SERVER_ERROR = 'INTERNAL_SERVER_ERROR',
}
