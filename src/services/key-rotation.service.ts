import type { DataSource } from 'typeorm';
import type { SecretBox } from '../auth/secret-box';

/** Rows re-encrypted per transaction: short transactions, few round trips. */
const BATCH = 500;

export interface KeyRotationReport {
  activeKeyId: string;
  /** Credentials that were under another key when the run started. */
  total: number;
  rotated: number;
  /** Rows changed by someone else (a router saved in WHMCS) while we worked; a second run checks them. */
  changedMeanwhile: number;
  /** Credentials under a key id that is not in the key file: they cannot be read, so not rotated. */
  unreadable: { what: string; keyId: string }[];
  /** Credentials still not under the active key after the run. */
  remaining: number;
  durationMs: number;
}

/** Every column that holds a value encrypted with the key ring, and how to name its row. */
const STORED_SECRETS = [
  { table: 'mod_mikrotikvpn_routers', column: 'password_encrypted', name: (id: number) => `router ${id}` },
  {
    table: 'mod_mikrotikvpn_accounts',
    column: 'wg_private_key',
    name: (id: number) => `account ${id} (WireGuard private key)`,
  },
  {
    table: 'mod_mikrotikvpn_accounts',
    column: 'wg_preshared_key',
    name: (id: number) => `account ${id} (WireGuard preshared key)`,
  },
  {
    table: 'mod_mikrotikvpn_webhook_endpoints',
    column: 'secret_encrypted',
    name: (id: number) => `webhook endpoint ${id} (signing secret)`,
  },
] as const;

/**
 * Re-encrypts every stored router credential, WireGuard client key and webhook signing secret under the active (last) key, while servers keep running:
 * a running server decrypts by the key id stored with each value, so it reads old and new values
 * alike as long as its key file holds both keys. Each row is written only if it still holds the value
 * that was read (compare-and-set), so a router saved at the same moment is never overwritten.
 */
export class KeyRotationService {
  constructor(
    private readonly db: DataSource,
    private readonly secrets: SecretBox,
  ) {}

  /** How many stored credentials (router passwords, WireGuard keys, webhook secrets) are under each key id. */
  async usage(): Promise<Map<string, number>> {
    const usage = new Map<string, number>();
    for (const { table, column } of STORED_SECRETS) {
      const rows: { keyId: string; n: string | number }[] = await this.db.query(
        `SELECT SUBSTRING_INDEX(${column}, ':', 1) AS keyId, COUNT(*) AS n
           FROM ${table} WHERE ${column} IS NOT NULL GROUP BY keyId ORDER BY keyId`,
      );
      for (const r of rows) usage.set(r.keyId, (usage.get(r.keyId) ?? 0) + Number(r.n));
    }
    return new Map([...usage].sort(([a], [b]) => a.localeCompare(b)));
  }

  async rotate(onProgress?: (done: number, total: number) => void): Promise<KeyRotationReport> {
    const started = Date.now();
    const active = this.secrets.activeKeyId;
    const countStale = async () => {
      let total = 0;
      for (const { table, column } of STORED_SECRETS) {
        const [{ n }]: { n: string | number }[] = await this.db.query(
          `SELECT COUNT(*) AS n FROM ${table} WHERE ${column} IS NOT NULL AND SUBSTRING_INDEX(${column}, ':', 1) <> ?`,
          [active],
        );
        total += Number(n);
      }
      return total;
    };
    const report: KeyRotationReport = {
      activeKeyId: active,
      total: await countStale(),
      rotated: 0,
      changedMeanwhile: 0,
      unreadable: [],
      remaining: 0,
      durationMs: 0,
    };
    let done = 0;
    for (const { table, column, name } of STORED_SECRETS) {
      const stale = `${column} IS NOT NULL AND SUBSTRING_INDEX(${column}, ':', 1) <> ?`;
      let afterId = 0;
      for (;;) {
        const rows: { id: number; value: string }[] = await this.db.query(
          `SELECT id, ${column} AS value FROM ${table}
            WHERE id > ? AND ${stale} ORDER BY id LIMIT ${BATCH}`,
          [afterId, active],
        );
        if (!rows.length) break;
        afterId = rows[rows.length - 1].id;
        const updates: { id: number; from: string; to: string }[] = [];
        for (const row of rows) {
          const keyId = this.secrets.keyIdOf(row.value);
          if (!this.secrets.hasKey(keyId)) {
            report.unreadable.push({ what: name(row.id), keyId });
            continue;
          }
          updates.push({
            id: row.id,
            from: row.value,
            to: this.secrets.encrypt(this.secrets.decrypt(row.value)),
          });
        }
        if (updates.length) {
          // One statement per batch; the WHERE pairs make it compare-and-set per row.
          const result: { affectedRows: number } = await this.db.query(
            `UPDATE ${table}
                SET ${column} = CASE id ${updates.map(() => 'WHEN ? THEN ?').join(' ')} END
              WHERE (id, ${column}) IN (${updates.map(() => '(?, ?)').join(', ')})`,
            [...updates.flatMap((u) => [u.id, u.to]), ...updates.flatMap((u) => [u.id, u.from])],
          );
          report.rotated += result.affectedRows;
          report.changedMeanwhile += updates.length - result.affectedRows;
        }
        done += rows.length;
        onProgress?.(done, report.total);
      }
    }
    report.remaining = await countStale();
    report.durationMs = Date.now() - started;
    return report;
  }
}
