import type { DataSource } from 'typeorm';
import { WhmcsAddon } from '../entities/whmcs/whmcs-addon.entity';
import { WhmcsServiceAddon } from '../entities/whmcs/whmcs-service-addon.entity';

export interface PaidInvoice {
  id: number;
  /** WHMCS's invoice number (its id when it has none). */
  number: string;
}

/**
 * What billing reads of WHMCS's own tables (read-only): the paid invoice behind a renewal or an
 * addon, an addon a client holds, its definition, and the addon's module settings.
 */
export class WhmcsBillingService {
  constructor(private readonly db: DataSource) {}

  /** The newest paid invoice with an item of `type` ('Hosting' or 'Addon') that bills `relid`. */
  async latestPaidInvoice(type: 'Hosting' | 'Addon', relid: number): Promise<PaidInvoice | null> {
    const [row]: { id: number; invoicenum: string | null }[] = await this.db.query(
      `SELECT i.id, i.invoicenum FROM tblinvoiceitems it JOIN tblinvoices i ON i.id = it.invoiceid
        WHERE it.type = ? AND it.relid = ? AND i.status = 'Paid'
        ORDER BY i.datepaid DESC, i.id DESC LIMIT 1`,
      [type, relid],
    );
    if (!row) return null;
    const number = String(row.invoicenum ?? '').trim();
    return { id: Number(row.id), number: number || String(row.id) };
  }

  hostingAddon(id: number): Promise<(WhmcsServiceAddon & { qty: number }) | null> {
    return this.db
      .query(
        `SELECT id, hostingid, addonid, userid, name, billingcycle, status, qty,
                DATE_FORMAT(regdate, '%Y-%m-%d') AS regdate, DATE_FORMAT(nextduedate, '%Y-%m-%d') AS nextduedate
           FROM tblhostingaddons WHERE id = ?`,
        [id],
      )
      .then((rows: (WhmcsServiceAddon & { qty: number })[]) => rows[0] ?? null);
  }

  addon(id: number): Promise<WhmcsAddon | null> {
    return this.db.getRepository(WhmcsAddon).findOneBy({ id });
  }

  /** An addon's module settings (tblmodule_configuration, configoption1..N; index 0 = configoption1). */
  async addonSettingValues(addonId: number): Promise<(string | null)[]> {
    const rows: { setting_name: string; value: string }[] = await this.db.query(
      `SELECT setting_name, value FROM tblmodule_configuration WHERE entity_type = 'addon' AND entity_id = ?`,
      [addonId],
    );
    const values: (string | null)[] = [];
    for (const r of rows) {
      const n = /^configoption(\d{1,2})$/.exec(r.setting_name);
      if (n) values[Number(n[1]) - 1] = r.value;
    }
    return values;
  }
}
