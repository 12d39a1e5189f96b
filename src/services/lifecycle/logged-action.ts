import type { RequestContext } from '../../context/request-context';
import { AppError } from '../../errors/app-errors';
import { ErrorCode } from '../../errors/error-code';
import { isDatabaseUnavailable } from '../../db/database-errors';
import type { VpnAccountEntity } from '../../entities/own/vpn-account.entity';

/**
 * Writes exactly one log line per lifecycle action (the WHMCS buttons): which action, for which
 * service, how it ended and how long it took, on the request's logger (so it carries the request id).
 * Only ids, statuses and error codes are logged: never the arguments, which may hold passwords.
 */
export function loggedAction(action: string) {
  return (_target: object, _key: string, descriptor: PropertyDescriptor): void => {
    const work = descriptor.value as (ctx: RequestContext, ...args: unknown[]) => Promise<VpnAccountEntity>;
    descriptor.value = async function (this: unknown, ctx: RequestContext, ...args: unknown[]) {
      const first = args[0];
      const serviceId =
        typeof first === 'number' ? first : (first as { serviceId?: unknown } | undefined)?.serviceId;
      const started = process.hrtime.bigint();
      const ms = () => Math.round(Number(process.hrtime.bigint() - started) / 1e4) / 100;
      try {
        const account = await work.call(this, ctx, ...args);
        ctx.log.info(
          {
            action,
            serviceId,
            accountId: account.id,
            status: account.status,
            outcome: 'ok',
            durationMs: ms(),
          },
          'lifecycle action',
        );
        return account;
      } catch (error) {
        ctx.log.warn(
          {
            action,
            serviceId,
            outcome: 'failed',
            errorCode: errorCodeOf(error),
            error: error instanceof AppError ? error.message : undefined,
            durationMs: ms(),
          },
          'lifecycle action',
        );
        throw error;
      }
    };
  };
}

/** The code the caller will see for `error` (as src/errors/format-error.ts maps it). */
function errorCodeOf(error: unknown): ErrorCode {
  if (error instanceof AppError) return error.code;
  return isDatabaseUnavailable(error) ? ErrorCode.DATABASE_UNAVAILABLE : ErrorCode.INTERNAL_SERVER_ERROR;
}
