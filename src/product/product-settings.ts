import manifest from '../../php-bridge/modules/servers/mikrotikvpn/product-settings.json';
import { gbToBytes, mbitToBits, parseThresholds, type TrafficThreshold } from '../common/units';
import { parseWireGuardClientSettings, type WireGuardClientSettings } from './wireguard-settings';
import { DEFAULT_POLICY, type ProductPolicy } from './product-policy';
import type { ProductSettingSpec } from './setting-spec';

export type { ProductSettingSpec } from './setting-spec';

export const PRODUCT_SETTINGS: readonly ProductSettingSpec[] = manifest.settings as ProductSettingSpec[];

/** The module settings of a traffic addon (tbladdons with our module; stored in tblmodule_configuration). */
export const ADDON_SETTINGS: readonly ProductSettingSpec[] = manifest.addonSettings as ProductSettingSpec[];

/**
 * A traffic addon's settings: the bytes one unit adds, or null with the setting's key in `invalid`
 * when it is empty or not a GB amount (an addon never saved is refused, not guessed at).
 */
export function readAddonSettings(values: readonly (string | null | undefined)[]): {
  trafficBytesPerUnit: bigint | null;
  invalid: string[];
} {
  const index = ADDON_SETTINGS.findIndex((s) => s.key === 'trafficGb');
  const raw = (values[index] ?? '').trim();
  try {
    const bytes = gbToBytes(raw);
    return bytes > 0n
      ? { trafficBytesPerUnit: bytes, invalid: [] }
      : { trafficBytesPerUnit: null, invalid: ['trafficGb'] };
  } catch {
    return { trafficBytesPerUnit: null, invalid: ['trafficGb'] };
  }
}

/** WHMCS allows at most 24 module settings per product. */
export const MAX_WHMCS_SETTINGS = 24;

export type BillingCycle =
  | 'Free Account'
  | 'One Time'
  | 'Monthly'
  | 'Quarterly'
  | 'Semi-Annually'
  | 'Annually'
  | 'Biennially'
  | 'Triennially';

export const BILLING_CYCLES: readonly BillingCycle[] = [
  'Free Account',
  'One Time',
  'Monthly',
  'Quarterly',
  'Semi-Annually',
  'Annually',
  'Biennially',
  'Triennially',
];

/** The months a billing cycle lasts (null: it does not renew). */
export const CYCLE_MONTHS: Readonly<Record<BillingCycle, number | null>> = {
  'Free Account': null,
  'One Time': null,
  Monthly: 1,
  Quarterly: 3,
  'Semi-Annually': 6,
  Annually: 12,
  Biennially: 24,
  Triennially: 36,
};

/** The setting index (1-based, as in `configoptionN`) of a manifest key. */
export function settingIndex(key: string): number {
  const index = PRODUCT_SETTINGS.findIndex((s) => s.key === key);
  if (index < 0) throw new Error(`unknown product setting ${key}`);
  return index + 1;
}

/** A product's settings, typed and converted to exact units. */
export interface ProductSettings {
  commentPrefix: string;
  profile: string;
  service: string;
  downloadBitsPerSecond: number;
  uploadBitsPerSecond: number;
  /** Bytes credited per billing cycle; 0n = unlimited. */
  trafficPerCycle: ReadonlyMap<BillingCycle, bigint>;
  historyDays: number;
  lowTrafficTemplate: string;
  /**
   * The first "GB remaining" threshold (0n when there is none): what the seed's single setting
   * meant, kept for the API's `lowTrafficThresholdBytes`.
   */
  lowTrafficThresholdBytes: bigint;
  /** The notification thresholds (setting lowTrafficThresholdGb: `10`, or a list like `50%, 80%, 1 GB`). */
  lowTrafficThresholds: TrafficThreshold[];
  limitedTemplate: string;
  instructionsUrl: string;
  protocols: string[];
  l2tpPsk: string;
  collectionFrequency: 'cron' | 'daily';
  /** PPP (a secret per account) or WireGuard (a peer per account); `service` = `wireguard` chooses it. */
  protocol: 'ppp' | 'wireguard';
  /** WireGuard: the interface peers go on; '' = the router's only WireGuard interface. */
  wgInterface: string;
  wgClient: WireGuardClientSettings;
  /** End a second simultaneous session of an account (the older is kept). */
  singleSession: boolean;
  /**
   * The quota policy (its own table, not a module setting): {@link DEFAULT_POLICY} as read here;
   * services that act on it load it with `attachPolicies` (services/product-policy-store.ts).
   */
  policy: ProductPolicy;
  /** Settings whose stored value could not be read (the default was used instead). */
  invalid: string[];
  /** Why, for settings whose reason is more than "malformed" (key → reason). */
  invalidReasons: Record<string, string>;
}

/** Reads `configoption1..N` values (index 0 = configoption1) through the manifest. */
export function readProductSettings(values: readonly (string | null | undefined)[]): ProductSettings {
  const invalid: string[] = [];
  const invalidReasons: Record<string, string> = {};
  const raw = (key: string): string => {
    const spec = PRODUCT_SETTINGS[settingIndex(key) - 1];
    const value = values[settingIndex(key) - 1];
    return value === null || value === undefined || value.trim() === '' ? spec.default : value.trim();
  };
  const convert = <T>(key: string, parse: (v: string) => T): T => {
    try {
      return parse(raw(key));
    } catch (error) {
      invalid.push(key);
      if (error instanceof Error && error.message) invalidReasons[key] = error.message;
      return parse(PRODUCT_SETTINGS[settingIndex(key) - 1].default);
    }
  };
  const choice = (key: string): string => {
    const spec = PRODUCT_SETTINGS[settingIndex(key) - 1];
    const value = raw(key);
    if (spec.options && !spec.options.includes(value)) {
      invalid.push(key);
      return spec.default;
    }
    return value;
  };
  const perCycle = new Map<BillingCycle, bigint>();
  for (const spec of PRODUCT_SETTINGS.filter((s) => s.cycle)) {
    perCycle.set(spec.cycle as BillingCycle, convert(spec.key, gbToBytes));
  }
  // One Time and free accounts use the monthly figure, as the reference module does.
  perCycle.set('One Time', perCycle.get('Monthly') ?? 0n);
  perCycle.set('Free Account', perCycle.get('Monthly') ?? 0n);
  const wholeNumber = (v: string): number => {
    if (!/^\d{1,6}$/.test(v)) throw new RangeError(v);
    return Number(v);
  };
  const service = choice('service');
  const thresholds = convert('lowTrafficThresholdGb', parseThresholds);
  return {
    commentPrefix: raw('commentPrefix'),
    profile: raw('profile'),
    service,
    downloadBitsPerSecond: convert('downloadMbps', mbitToBits),
    uploadBitsPerSecond: convert('uploadMbps', mbitToBits),
    trafficPerCycle: perCycle,
    historyDays: convert('historyDays', wholeNumber),
    lowTrafficTemplate: raw('lowTrafficTemplate'),
    lowTrafficThresholdBytes: thresholds.find((t) => t.kind === 'remaining')?.bytes ?? 0n,
    lowTrafficThresholds: thresholds,
    limitedTemplate: raw('limitedTemplate'),
    instructionsUrl: raw('instructionsUrl'),
    protocols: raw('protocols')
      .split(',')
      .map((p) => p.trim().toLowerCase())
      .filter(Boolean),
    l2tpPsk: raw('l2tpPsk'),
    collectionFrequency: choice('collectionFrequency') as 'cron' | 'daily',
    protocol: service === 'wireguard' ? 'wireguard' : 'ppp',
    wgInterface: raw('wgInterface'),
    // The client settings matter only to WireGuard products: a PPP product is never refused for them.
    wgClient:
      service === 'wireguard'
        ? convert('wgClient', parseWireGuardClientSettings)
        : parseWireGuardClientSettings(PRODUCT_SETTINGS[settingIndex('wgClient') - 1].default),
    singleSession: ['on', 'yes', '1', 'true'].includes(raw('singleSession').toLowerCase()),
    policy: DEFAULT_POLICY,
    invalid,
    invalidReasons,
  };
}
