import { randomInt } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { addDays, dayIn, startOfDay } from '../common/time-zone';

/** Days of history the demo's accounts have before today. */
export const HISTORY_DAYS = 60;
const GB = 1_000_000_000n;

/**
 * Gives the demo's accounts two months of past: daily traffic for the 60 days before today, the
 * first allowance 60 days ago, a renewal 30 days ago, the bought addon 40 days ago, one account
 * close to its limit and one past it (the collector limits it at its next run). Written straight
 * into the demo's own tables (there is no router history to collect), as one consistent ledger:
 * every line's balance before and after chains, and the account's balance is the ledger's end.
 * The credits keep the keys the server and the WHMCS module use, so nothing is credited again.
 */
export async function backfillHistory(
  db: DataSource,
  options: {
    timeZone: string;
    serviceIds: number[];
    addonServiceId: number;
    nearLimit: number;
    overLimit: number;
  },
): Promise<void> {
  const [{ now }]: { now: Date }[] = await db.query('SELECT UTC_TIMESTAMP(3) AS now');
  const today = dayIn(options.timeZone, now);
  const first = addDays(today, -HISTORY_DAYS);
  const renewal = addDays(today, -30);
  const bought = addDays(today, -40);
  const noon = (day: string) => new Date(startOfDay(day, options.timeZone).getTime() + 12 * 3_600_000);
  for (const serviceId of options.serviceIds) {
    const [account]: { id: number; cycle_allowance_bytes: string; unlimited: number }[] = await db.query(
      "SELECT id, cycle_allowance_bytes, unlimited FROM mod_mikrotikvpn_accounts WHERE service_id = ? AND status <> 'TERMINATED'",
      [serviceId],
    );
    if (!account || account.unlimited) continue;
    const allowance = BigInt(account.cycle_allowance_bytes);
    const credits: {
      id: number;
      kind: string;
      bytes: string;
      idempotency_key: string;
      reason: string | null;
    }[] = await db.query(
      'SELECT id, kind, bytes, idempotency_key, reason FROM mod_mikrotikvpn_traffic_topups WHERE account_id = ? ORDER BY id',
      [account.id],
    );
    const addon = credits.find((c) => c.kind === 'ADDON');
    await db.transaction(async (m) => {
      await m.query('DELETE FROM mod_mikrotikvpn_traffic_topups WHERE account_id = ?', [account.id]);
      await m.query('DELETE FROM mod_mikrotikvpn_traffic_daily WHERE account_id = ?', [account.id]);
      let balance = 0n;
      let cycleUsed = 0n;
      const credit = async (
        day: string,
        kind: string,
        reason: string,
        bytes: bigint,
        key: string,
        description = '',
      ) => {
        await m.query(
          `INSERT INTO mod_mikrotikvpn_traffic_topups
             (account_id, at, kind, bytes, balance_before_bytes, balance_after_bytes, idempotency_key, description, actor, cycle, reason)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'demo', ?, ?)`,
          [
            account.id,
            noon(day),
            kind,
            bytes.toString(),
            balance.toString(),
            (balance + bytes).toString(),
            key,
            description,
            kind === 'CYCLE' ? 'Monthly' : null,
            reason,
          ],
        );
        balance += bytes;
      };
      // Each day's traffic first (every seventh day quiet: no row, as a real quiet day); the two
      // heavy accounts' days are scaled so that their ledger ends where the demo wants it.
      const days: { day: string; down: bigint; up: bigint }[] = [];
      for (let i = HISTORY_DAYS; i >= 1; i--) {
        if (i % 7 === 3) continue;
        const down = BigInt(randomInt(300_000_000, 600_000_000));
        days.push({ day: addDays(today, -i), down, up: down / BigInt(randomInt(6, 12)) });
      }
      const credited =
        2n * allowance + (addon && serviceId === options.addonServiceId ? BigInt(addon.bytes) : 0n);
      const target =
        serviceId === options.nearLimit ? 2n * GB : serviceId === options.overLimit ? -GB / 4n : null;
      if (target !== null) {
        const total = days.reduce((sum, d) => sum + d.down + d.up, 0n);
        const want = credited - target;
        for (const d of days) {
          const share = ((d.down + d.up) * want) / total;
          d.up = share / 9n;
          d.down = share - d.up;
        }
        const rest = want - days.reduce((sum, d) => sum + d.down + d.up, 0n);
        days[days.length - 1].down += rest; // the rounding, to the byte
      }
      let next = 0;
      for (let i = HISTORY_DAYS; i >= 1; i--) {
        const day = addDays(today, -i);
        if (day === first)
          await credit(
            day,
            'CYCLE',
            'FIRST_CYCLE',
            allowance,
            `cycle:${serviceId}:account-${account.id}:first`,
          );
        if (day === renewal) {
          await credit(
            day,
            'CYCLE',
            'RENEWAL',
            allowance,
            `cycle:${serviceId}:account-${account.id}:due:${renewal}`,
          );
          cycleUsed = 0n;
        }
        if (day === bought && addon && serviceId === options.addonServiceId)
          await credit(day, 'ADDON', 'ADDON', BigInt(addon.bytes), addon.idempotency_key, 'Extra 10 GB');
        const d = days[next];
        if (!d || d.day !== day) continue;
        next++;
        balance -= d.down + d.up;
        if (day >= renewal) cycleUsed += d.down + d.up;
        await m.query(
          `INSERT INTO mod_mikrotikvpn_traffic_daily (account_id, day, download_bytes, upload_bytes, balance_after_bytes, balance_at)
           VALUES (?, ?, ?, ?, ?, ?)`,
          [
            account.id,
            day,
            d.down.toString(),
            d.up.toString(),
            balance.toString(),
            new Date(noon(day).getTime() + 11 * 3_600_000),
          ],
        );
      }
      await m.query(
        `UPDATE mod_mikrotikvpn_accounts
            SET balance_bytes = ?, cycle_used_bytes = ?, cycle_key = ?, created_at = ?
          WHERE id = ?`,
        [
          balance.toString(),
          cycleUsed.toString(),
          `due:${renewal}`,
          startOfDay(first, options.timeZone),
          account.id,
        ],
      );
    });
  }
}
