import { In, type DataSource } from 'typeorm';
import { WhmcsProduct } from '../entities/whmcs/whmcs-product.entity';
import { BILLING_CYCLES, readProductSettings, type ProductSettings } from '../product/product-settings';
import { VpnProtocol } from '../entities/own/vpn-account.entity';
import { DEFAULT_POLICY, type ProductPolicy } from '../product/product-policy';
import { readPolicies } from './product-policy-store';

/** A WHMCS product's module settings, as screens and the API show them. */
export interface ProductView {
  id: number;
  name: string;
  usesModule: boolean;
  commentPrefix: string;
  profile: string;
  service: string;
  protocol: VpnProtocol;
  wgInterface: string;
  singleSession: boolean;
  settings: ProductSettings;
  bandwidth: { downloadBitsPerSecond: number; uploadBitsPerSecond: number };
  trafficPerCycle: { cycle: string; bytes: bigint; unlimited: boolean }[];
  historyDays: number;
  lowTrafficThresholdBytes: bigint;
  lowTrafficThresholds: string[];
  templates: { lowTraffic: string; limited: string };
  instructionsUrl: string;
  protocols: string[];
  l2tpPsk: string;
  collectionFrequency: string;
  /** Settings whose stored value could not be read (their default is used). */
  invalidSettings: string[];
}

/** A product's quota policy as screens and the API show it. */
export interface PolicyView {
  onExhausted: string;
  throttle: { downloadBitsPerSecond: number; uploadBitsPerSecond: number };
  throttledTemplate: string;
  overageCeilingBytes: bigint | null;
  rollover: string;
  rolloverMaxBytes: bigint | null;
  rolloverCycles: number;
}

/** The module name WHMCS stores in tblproducts.servertype and tblservers.type. */
export const MODULE_NAME = 'mikrotikvpn';

/** Reads WHMCS products (read-only) and presents their module settings. */
export class ProductService {
  constructor(private readonly db: DataSource) {}

  async findByIds(ids: readonly number[]): Promise<Map<number, ProductView>> {
    const rows = ids.length ? await this.db.getRepository(WhmcsProduct).findBy({ id: In([...ids]) }) : [];
    return new Map(rows.map((row) => [row.id, toProduct(row)]));
  }

  async list(): Promise<ProductView[]> {
    const rows = await this.db
      .getRepository(WhmcsProduct)
      .find({ where: { servertype: MODULE_NAME }, order: { id: 'ASC' } });
    return rows.map((row) => toProduct(row));
  }

  /** Products' quota policies as the API shows them (the default for a product without one). */
  async policies(ids: readonly number[]): Promise<Map<number, PolicyView>> {
    const stored = await readPolicies(this.db, ids);
    return new Map(ids.map((id) => [id, policyView(stored.get(id) ?? DEFAULT_POLICY)]));
  }
}

export function policyView(policy: ProductPolicy): PolicyView {
  return {
    onExhausted: policy.onExhausted,
    throttle: {
      downloadBitsPerSecond: Number(policy.throttleDownloadBps),
      uploadBitsPerSecond: Number(policy.throttleUploadBps),
    },
    throttledTemplate: policy.throttledTemplate,
    overageCeilingBytes: policy.overageCeilingBytes,
    rollover: policy.rollover,
    rolloverMaxBytes: policy.rolloverMaxBytes,
    rolloverCycles: policy.rolloverCycles,
  };
}

/** A product's module settings (its quota policy is read apart: `policies`, and `Product.policy`). */
export function toProduct(row: WhmcsProduct): ProductView {
  const s = readProductSettings(row.configOptions());
  return {
    id: row.id,
    name: row.name,
    usesModule: row.servertype === MODULE_NAME,
    commentPrefix: s.commentPrefix,
    profile: s.profile,
    service: s.service,
    protocol: s.protocol === 'wireguard' ? VpnProtocol.WIREGUARD : VpnProtocol.PPP,
    wgInterface: s.wgInterface,
    singleSession: s.singleSession,
    settings: s,
    bandwidth: { downloadBitsPerSecond: s.downloadBitsPerSecond, uploadBitsPerSecond: s.uploadBitsPerSecond },
    trafficPerCycle: BILLING_CYCLES.filter((c) => c !== 'Free Account').map((cycle) => {
      const bytes = s.trafficPerCycle.get(cycle) ?? 0n;
      return { cycle, bytes, unlimited: bytes === 0n };
    }),
    historyDays: s.historyDays,
    lowTrafficThresholdBytes: s.lowTrafficThresholdBytes,
    lowTrafficThresholds: s.lowTrafficThresholds.map((t) => t.label),
    templates: { lowTraffic: s.lowTrafficTemplate, limited: s.limitedTemplate },
    instructionsUrl: s.instructionsUrl,
    protocols: s.protocols,
    l2tpPsk: s.l2tpPsk,
    collectionFrequency: s.collectionFrequency,
    invalidSettings: s.invalid,
  };
}
