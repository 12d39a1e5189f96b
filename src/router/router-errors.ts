import { RosException } from 'routeros-api';
import { RouterError } from '../errors/app-errors';
import { ErrorCode } from '../errors/error-code';
import { type RouterTarget, describeTarget } from './router-target';

/**
 * A `!trap` answer: the router understood the command and refused it. `routerMessage` is
 * RouterOS's own text (match on its start; suffixes like "(4)" vary by version).
 */
export class RouterTrapError extends RouterError {
  constructor(
    readonly routerMessage: string,
    /** The command path only (`/ppp/secret/add`); arguments may hold passwords. */
    readonly command: string,
    routerId: string,
  ) {
    super(ErrorCode.ROUTER_ERROR, `Router ${routerId} refused ${command}: ${routerMessage}`, routerId);
    this.name = 'RouterTrapError';
  }
}

/** True for RouterOS's "no such item" trap (an id or name that does not exist). */
export function isNoSuchItem(error: unknown): boolean {
  return error instanceof RouterTrapError && error.routerMessage.startsWith('no such item');
}

// Socket error codes that mean "the router is not there (any more)".
const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EADDRNOTAVAIL',
]);

/** Error codes OpenSSL/node use for certificates we do not trust. */
function isTlsCode(code: string): boolean {
  return (
    code.startsWith('ERR_SSL_') ||
    code.startsWith('ERR_TLS_') ||
    code === 'ERR_ROUTER_CERT_PIN_MISMATCH' ||
    /CERT|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)|DEPTH_ZERO|SIGNATURE_FAILURE|CA_MD_TOO_WEAK|EE_KEY_TOO_SMALL/.test(
      code,
    )
  );
}

function isLoginRefusal(error: unknown): boolean {
  return error instanceof Error && /^(invalid user name or password|cannot log in)/.test(error.message);
}

function codeOf(error: unknown): string {
  if (error instanceof RosException) return error.errno ?? '';
  if (typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string') {
    return error.code;
  }
  return '';
}

/**
 * Maps whatever connecting produced (a RosException, a socket error, a login refusal) to a
 * {@link RouterError}. Messages are ours: they never quote the library, whose errors could carry
 * connection options.
 */
export function connectFailure(target: RouterTarget, error: unknown): RouterError {
  if (error instanceof RouterError) return error;
  const code = codeOf(error);
  const where = describeTarget(target);
  // routeros-api turns only two exact login refusals into CANTLOGIN; RouterOS versions vary the
  // suffix ("(6)"), so the start of the message decides.
  if (code === 'CANTLOGIN' || isLoginRefusal(error)) {
    return new RouterError(
      ErrorCode.ROUTER_AUTH_FAILED,
      `${where} rejected the API login of user "${target.username}"`,
      target.id,
    );
  }
  if (isTlsCode(code)) {
    return new RouterError(
      ErrorCode.ROUTER_TLS_FAILED,
      `${where} presented a certificate that does not match the pinned CA or fingerprint (${code})`,
      target.id,
    );
  }
  if (code === 'SOCKTMOUT' || code === 'ETIMEDOUT') {
    return new RouterError(ErrorCode.ROUTER_TIMEOUT, `${where} did not answer in time`, target.id);
  }
  if (code === 'ECONNREFUSED') {
    return new RouterError(ErrorCode.ROUTER_UNREACHABLE, `${where} refused the connection`, target.id);
  }
  if (UNREACHABLE_CODES.has(code)) {
    return new RouterError(ErrorCode.ROUTER_UNREACHABLE, `${where} cannot be reached (${code})`, target.id);
  }
  if (error instanceof Error && error.constructor === Error && error.message !== '') {
    // A plain Error is how routeros-api reports a !trap during login other than a bad password.
    return new RouterTrapError(error.message, '/login', target.id);
  }
  return new RouterError(
    ErrorCode.ROUTER_UNREACHABLE,
    `${where}: connection failed${code ? ` (${code})` : ''}`,
    target.id,
  );
}
