import type { DataSource } from 'typeorm';
import { WhmcsProduct } from '../entities/whmcs/whmcs-product.entity';
import { NotFoundError, ValidationError } from '../errors/app-errors';
import { DEFAULT_POLICY, parsePolicy, type PolicyInput, type ProductPolicy } from '../product/product-policy';
import { readProductSettings } from '../product/product-settings';
import { MODULE_NAME } from './product.service';
import { readPolicies } from './product-policy-store';

/** Reads and sets products' quota policies. A change applies to the accounts at the next collection. */
export class ProductPolicyService {
  constructor(private readonly db: DataSource) {}

  async get(productId: number): Promise<ProductPolicy> {
    return (await readPolicies(this.db, [productId])).get(productId) ?? DEFAULT_POLICY;
  }

  /**
   * Checks the policy as typed against the product's own speeds and stores it (one upsert: WHMCS
   * saving twice, or two admins at once, leave one row holding the last write).
   */
  async set(productId: number, input: PolicyInput): Promise<ProductPolicy> {
    const product = await this.db.getRepository(WhmcsProduct).findOneBy({ id: productId });
    if (!product) throw new NotFoundError('WHMCS product', productId);
    if (product.servertype !== MODULE_NAME)
      throw new ValidationError(
        `Product ${productId} does not use the ${MODULE_NAME} module (it uses "${product.servertype}")`,
        { field: 'productId' },
      );
    const policy = parsePolicy(input, readProductSettings(product.configOptions()));
    await this.db.query(
      `INSERT INTO mod_mikrotikvpn_product_policies
         (product_id, on_exhausted, throttle_download_bps, throttle_upload_bps, throttled_template, overage_ceiling_bytes,
          rollover, rollover_max_bytes, rollover_cycles, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, UTC_TIMESTAMP(3))
       ON DUPLICATE KEY UPDATE on_exhausted = VALUES(on_exhausted), throttle_download_bps = VALUES(throttle_download_bps),
         throttle_upload_bps = VALUES(throttle_upload_bps), throttled_template = VALUES(throttled_template),
         overage_ceiling_bytes = VALUES(overage_ceiling_bytes),
         rollover = VALUES(rollover), rollover_max_bytes = VALUES(rollover_max_bytes), rollover_cycles = VALUES(rollover_cycles),
         updated_at = VALUES(updated_at)`,
      [
        productId,
        policy.onExhausted,
        policy.throttleDownloadBps.toString(),
        policy.throttleUploadBps.toString(),
        policy.throttledTemplate,
        policy.overageCeilingBytes === null ? null : policy.overageCeilingBytes.toString(),
        policy.rollover,
        policy.rolloverMaxBytes === null ? null : policy.rolloverMaxBytes.toString(),
        policy.rolloverCycles,
      ],
    );
    return policy;
  }
}
