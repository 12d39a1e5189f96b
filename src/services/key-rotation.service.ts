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
  unreadable: { routerId: number; keyId: string }[];
  /** Credentials still not under the active key after the run. */
  remaining: number;
  durationMs: number;
}

/**
 * Re-encrypts every stored router credential under the active (last) key, while servers keep running:
 * a running server decrypts by the key id stored with each value, so it reads old and new values
 * alike as long as its key file holds both keys. Each row is written only if it still holds the value
 * that was read (compare-and-set), so a router saved at the same moment is never overwritten.
 */
export class KeyRotationService {
  constructor(
    private readonly db: DataSource,
    private readonly secrets: SecretBox,
  ) {}

  /** How many router credentials are stored under each key id. */
  async usage(): Promise<Map<string, number>> {
    const rows: { keyId: string; n: string | number }[] = await this.db.query(
      `SELECT SUBSTRING_INDEX(password_encrypted, ':', 1) AS keyId, COUNT(*) AS n
         FROM mod_mikrotikvpn_routers GROUP BY keyId ORDER BY keyId`,
    );
    return new Map(rows.map((r) => [r.keyId, Number(r.n)]));
  }

  async rotate(onProgress?: (done: number, total: number) => void): Promise<KeyRotationReport> {
    const started = Date.now();
    const active = this.secrets.activeKeyId;
    const stale = `SUBSTRING_INDEX(password_encrypted, ':', 1) <> ?`;
    const [{ n }]: { n: string | number }[] = await this.db.query(
      `SELECT COUNT(*) AS n FROM mod_mikrotikvpn_routers WHERE ${stale}`,
      [active],
    );
    const report: KeyRotationReport = {
      activeKeyId: active,
      total: Number(n),
      rotated: 0,
      changedMeanwhile: 0,
      unreadable: [],
      remaining: 0,
      durationMs: 0,
    };
    let afterId = 0;
    let done = 0;
    for (;;) {
      const rows: { id: number; value: string }[] = await this.db.query(
        `SELECT id, password_encrypted AS value FROM mod_mikrotikvpn_routers
          WHERE id > ? AND ${stale} ORDER BY id LIMIT ${BATCH}`,
        [afterId, active],
      );
      if (!rows.length) break;
      afterId = rows[rows.length - 1].id;
      const updates: { id: number; from: string; to: string }[] = [];
      for (const row of rows) {
        const keyId = this.secrets.keyIdOf(row.value);
        if (!this.secrets.hasKey(keyId)) {
          report.unreadable.push({ routerId: row.id, keyId });
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
          `UPDATE mod_mikrotikvpn_routers
              SET password_encrypted = CASE id ${updates.map(() => 'WHEN ? THEN ?').join(' ')} END
            WHERE (id, password_encrypted) IN (${updates.map(() => '(?, ?)').join(', ')})`,
          [...updates.flatMap((u) => [u.id, u.to]), ...updates.flatMap((u) => [u.id, u.from])],
        );
        report.rotated += result.affectedRows;
        report.changedMeanwhile += updates.length - result.affectedRows;
      }
      done += rows.length;
      onProgress?.(done, report.total);
    }
    const [{ n: left }]: { n: string | number }[] = await this.db.query(
      `SELECT COUNT(*) AS n FROM mod_mikrotikvpn_routers WHERE ${stale}`,
      [active],
    );
    report.remaining = Number(left);
    report.durationMs = Date.now() - started;
    return report;
  }
}
