/** Reading the quota policies' table (mod_mikrotikvpn_product_policies): one statement per batch of products. */
import type { DataSource, EntityManager } from 'typeorm';
import { toBytes } from '../common/units';
import { DEFAULT_POLICY, type ProductPolicy } from '../product/product-policy';
import type { ProductSettings } from '../product/product-settings';

interface PolicyRow {
  product_id: number;
  on_exhausted: string;
  throttle_download_bps: string;
  throttle_upload_bps: string;
  throttled_template: string;
  overage_ceiling_bytes: string | null;
  rollover: string;
  rollover_max_bytes: string | null;
  rollover_cycles: number;
}

function fromRow(row: PolicyRow): ProductPolicy {
  return {
    onExhausted: (['cutoff', 'throttle', 'overage'].includes(row.on_exhausted)
      ? row.on_exhausted
      : 'cutoff') as ProductPolicy['onExhausted'],
    throttleDownloadBps: toBytes(row.throttle_download_bps),
    throttleUploadBps: toBytes(row.throttle_upload_bps),
    throttledTemplate: row.throttled_template,
    overageCeilingBytes: row.overage_ceiling_bytes === null ? null : toBytes(row.overage_ceiling_bytes),
    rollover: row.rollover === 'carry' ? 'carry' : 'keep',
    rolloverMaxBytes: row.rollover_max_bytes === null ? null : toBytes(row.rollover_max_bytes),
    rolloverCycles: Math.max(1, Number(row.rollover_cycles) || 1),
  };
}

/** The stored policies of some products (those without a row are left out: they have the default). */
export async function readPolicies(
  db: DataSource | EntityManager,
  productIds: readonly number[],
): Promise<Map<number, ProductPolicy>> {
  const ids = [...new Set(productIds)].filter((id) => Number.isInteger(id));
  if (!ids.length) return new Map();
  const rows: PolicyRow[] = await db.query(
    `SELECT product_id, on_exhausted, throttle_download_bps, throttle_upload_bps, throttled_template, overage_ceiling_bytes,
            rollover, rollover_max_bytes, rollover_cycles
       FROM mod_mikrotikvpn_product_policies WHERE product_id IN (${ids.map(() => '?').join(',')})`,
    ids,
  );
  return new Map(rows.map((r) => [Number(r.product_id), fromRow(r)]));
}

/** Gives each product's settings its stored policy (one statement): every caller reads it the same. */
export async function attachPolicies(
  db: DataSource | EntityManager,
  settings: Map<number, ProductSettings>,
): Promise<Map<number, ProductSettings>> {
  const policies = await readPolicies(db, [...settings.keys()]);
  for (const [id, s] of settings) s.policy = policies.get(id) ?? DEFAULT_POLICY;
  return settings;
}
