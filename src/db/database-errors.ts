/** Driver errors that mean "the database is not there right now" (down, restarting, refusing, full). */
const DATABASE_DOWN =
  /ECONNREFUSED|PROTOCOL_CONNECTION_LOST|ETIMEDOUT|ECONNRESET|ER_CON_COUNT_ERROR|Connection lost|connect ETIMEDOUT|Pool is closed|ER_SERVER_SHUTDOWN|Can't add new command when connection is in closed state/;

/** True when `error` says the database went away (a retry later may well succeed), not that a query is wrong. */
export function isDatabaseUnavailable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const { code, driverError } = error as { code?: string; driverError?: { code?: string; message?: string } };
  return DATABASE_DOWN.test(
    `${error.message} ${code ?? ''} ${driverError?.code ?? ''} ${driverError?.message ?? ''}`,
  );
}
