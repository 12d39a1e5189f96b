/** InnoDB chose this transaction as a deadlock victim, or a lock wait ran out: the whole transaction rolled back. */
export function isRetryableTransactionError(error: unknown): boolean {
  const code = errorCode(error);
  return code === 'ER_LOCK_DEADLOCK' || code === 'ER_LOCK_WAIT_TIMEOUT';
}

/**
 * Runs a whole transaction again when InnoDB rolled it back as a deadlock victim. Only for work that
 * is entirely inside the transaction, so a retry repeats it exactly once in effect.
 *
 * A lock wait that ran out (50 s by default) is retried too, unless `lockWaitTimeouts` is false: a
 * call that WHMCS is waiting for should fail then, not wait another 50 s per attempt.
 */
export async function retryTransaction<T>(
  work: () => Promise<T>,
  options: { attempts?: number; lockWaitTimeouts?: boolean } = {},
): Promise<T> {
  const attempts = options.attempts ?? 4;
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (error) {
      const retryable =
        options.lockWaitTimeouts === false ? isDeadlock(error) : isRetryableTransactionError(error);
      if (attempt >= attempts || !retryable) throw error;
      await new Promise((r) => setTimeout(r, Math.random() * 20 * attempt));
    }
  }
}

function isDeadlock(error: unknown): boolean {
  return errorCode(error) === 'ER_LOCK_DEADLOCK';
}

function errorCode(error: unknown): string | undefined {
  return (
    (error as { code?: string; driverError?: { code?: string } })?.driverError?.code ??
    (error as { code?: string })?.code
  );
}
