import type { DataSource } from 'typeorm';
import { ConflictError } from '../errors/app-errors';

/**
 * Runs `work` while holding a MySQL advisory lock (GET_LOCK) on a dedicated connection, so that the
 * same name is never worked on twice at once by any server process on this database.
 * The lock dies with the connection, so a crashed process never leaves it held.
 */
export async function withNamedLock<T>(
  db: DataSource,
  name: string,
  timeoutSeconds: number,
  work: () => Promise<T>,
): Promise<T> {
  const runner = db.createQueryRunner();
  await runner.connect();
  try {
    const [row] = await runner.query('SELECT GET_LOCK(?, ?) AS got', [name, timeoutSeconds]);
    if (Number(row.got) !== 1) {
      throw new ConflictError(
        `Another operation on ${name.replace(/^mvpn:/, '')} is still running; try again`,
      );
    }
    try {
      return await work();
    } finally {
      await runner.query('SELECT RELEASE_LOCK(?)', [name]).catch(() => undefined);
    }
  } finally {
    await runner.release();
  }
}
