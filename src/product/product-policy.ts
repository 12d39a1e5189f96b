import manifest from '../../php-bridge/modules/servers/mikrotikvpn/product-settings.json';
import { BITS_PER_MBIT, gbToBytes, mbitToBits } from '../common/units';
import { ValidationError } from '../errors/app-errors';
import type { ProductSettingSpec } from './setting-spec';

/**
 * A product's quota policy: what happens when an account's traffic is used up. Stored in a table of
 * our own (mod_mikrotikvpn_product_policies, one row per WHMCS product; WHMCS's module-setting
 * slots are nearly all taken), declared for screens in the settings manifest (`policySettings`).
 * A product without a row has {@link DEFAULT_POLICY}: today's cut-off.
 */
export type OnExhausted = 'cutoff' | 'throttle' | 'overage';
/** What a renewal does with the unused allowance of the cycle that ended: keep it (today's), or carry it over, capped. */
export type Rollover = 'keep' | 'carry';

/** The longest a carry-over can last, in billing cycles. */
export const MAX_ROLLOVER_CYCLES = 36;

export interface ProductPolicy {
  onExhausted: OnExhausted;
  /** throttle: the speeds while used up, customer perspective, bit/s (0 when not throttling). */
  throttleDownloadBps: bigint;
  throttleUploadBps: bigint;
  /** throttle: the WHMCS email template of the throttled notice ('' = none). */
  throttledTemplate: string;
  /** overage: cycle traffic at which the account is cut off anyway; null = no ceiling. */
  overageCeilingBytes: bigint | null;
  /** keep: unused allowance stays in the balance for good; carry: carried over, capped, the rest expires. */
  rollover: Rollover;
  /** carry: the most carried-over traffic an account holds at once; null = no cap (0 = nothing carried). */
  rolloverMaxBytes: bigint | null;
  /** carry: renewals a carry-over lasts (1 = the next cycle only). */
  rolloverCycles: number;
}

export const POLICY_SETTINGS: readonly ProductSettingSpec[] = manifest.policySettings as ProductSettingSpec[];

function spec(key: string): ProductSettingSpec {
  const found = POLICY_SETTINGS.find((s) => s.key === key);
  if (!found) throw new Error(`unknown policy setting ${key}`);
  return found;
}

export const ON_EXHAUSTED: readonly OnExhausted[] = spec('onExhausted').options as OnExhausted[];
export const ROLLOVERS: readonly Rollover[] = spec('rollover').options as Rollover[];

/** Today's behaviour: cut off when used up. */
export const DEFAULT_POLICY: ProductPolicy = Object.freeze({
  onExhausted: 'cutoff',
  throttleDownloadBps: 0n,
  throttleUploadBps: 0n,
  throttledTemplate: spec('throttledTemplate').default,
  overageCeilingBytes: null,
  rollover: 'keep',
  rolloverMaxBytes: null,
  rolloverCycles: Number(spec('rolloverCycles').default),
});

/** What an admin sets (the mutation's input): texts as typed, in the manifest's units. */
export interface PolicyInput {
  onExhausted: string;
  throttleDownloadMbps?: string | null;
  throttleUploadMbps?: string | null;
  throttledTemplate?: string | null;
  overageCeilingGb?: string | null;
  rollover?: string | null;
  rolloverMaxGb?: string | null;
  rolloverCycles?: string | null;
}

/** Why a policy setting was refused (`extensions.reason`): the WHMCS module words it in the admin's language. */
export type PolicyRefusal =
  | 'not_a_choice'
  | 'not_a_speed'
  | 'not_positive'
  | 'above_product_speed'
  | 'too_long'
  | 'not_gb'
  | 'negative'
  | 'not_cycles';

/** A refusal naming the setting (its key in `extensions.setting`, its label in the message). */
function invalid(key: string, reason: PolicyRefusal, why: string): ValidationError {
  return new ValidationError(`${spec(key).label}: ${why}`, { field: key, setting: key, reason });
}

/**
 * Checks and converts a policy as typed, against the product's own speeds (a throttle speed above
 * the product speed is refused; a product speed of 0 is no limit). Fields that do not apply to the
 * chosen policy are kept as typed (so switching back restores them) but must still be well-formed.
 */
export function parsePolicy(
  input: PolicyInput,
  product: { downloadBitsPerSecond: number; uploadBitsPerSecond: number },
): ProductPolicy {
  const choice = input.onExhausted.trim().toLowerCase();
  if (!ON_EXHAUSTED.includes(choice as OnExhausted))
    throw invalid('onExhausted', 'not_a_choice', `must be one of ${ON_EXHAUSTED.join(', ')}`);
  const onExhausted = choice as OnExhausted;
  const speed = (key: string, value: string | null | undefined, productBps: number): bigint => {
    const text = (value ?? '').trim() || spec(key).default;
    let bps: number;
    try {
      bps = mbitToBits(text);
    } catch {
      throw invalid(
        key,
        'not_a_speed',
        `"${text}" is not a speed in Mbit/s (digits, a dot and up to 6 decimals)`,
      );
    }
    if (onExhausted === 'throttle' && bps <= 0)
      throw invalid(key, 'not_positive', 'must be more than 0 Mbit/s');
    if (onExhausted === 'throttle' && productBps > 0 && bps > productBps)
      throw invalid(
        key,
        'above_product_speed',
        `${text} Mbit/s is above the product's speed (${productBps / BITS_PER_MBIT} Mbit/s)`,
      );
    return BigInt(bps);
  };
  const throttleDownloadBps = speed(
    'throttleDownloadMbps',
    input.throttleDownloadMbps,
    product.downloadBitsPerSecond,
  );
  const throttleUploadBps = speed(
    'throttleUploadMbps',
    input.throttleUploadMbps,
    product.uploadBitsPerSecond,
  );
  const template = (input.throttledTemplate ?? spec('throttledTemplate').default).trim();
  if (template.length > 255) throw invalid('throttledTemplate', 'too_long', 'at most 255 characters');
  const ceiling = gb('overageCeilingGb', (input.overageCeilingGb ?? '').trim() || '0');
  const rolloverText = (input.rollover ?? '').trim().toLowerCase() || spec('rollover').default;
  if (!ROLLOVERS.includes(rolloverText as Rollover))
    throw invalid('rollover', 'not_a_choice', `must be one of ${ROLLOVERS.join(', ')}`);
  const capText = (input.rolloverMaxGb ?? '').trim();
  const rolloverMaxBytes = capText === '' ? null : gb('rolloverMaxGb', capText);
  const cyclesText = (input.rolloverCycles ?? '').trim() || spec('rolloverCycles').default;
  const cycles = /^\d{1,3}$/.test(cyclesText) ? Number(cyclesText) : NaN;
  if (/^-\d+$/.test(cyclesText) || !(cycles >= 1 && cycles <= MAX_ROLLOVER_CYCLES))
    throw invalid(
      'rolloverCycles',
      /^-/.test(cyclesText) ? 'negative' : 'not_cycles',
      `"${cyclesText}" is not a whole number of cycles from 1 to ${MAX_ROLLOVER_CYCLES}`,
    );
  return {
    onExhausted,
    throttleDownloadBps,
    throttleUploadBps,
    throttledTemplate: template,
    overageCeilingBytes: ceiling > 0n ? ceiling : null,
    rollover: rolloverText as Rollover,
    rolloverMaxBytes,
    rolloverCycles: cycles,
  };
}

/** A GB amount of a policy setting: negative amounts and other text are refused, naming the setting. */
function gb(key: string, text: string): bigint {
  if (/^\s*-/.test(text)) throw invalid(key, 'negative', `"${text}" is negative: it must be 0 GB or more`);
  try {
    return gbToBytes(text);
  } catch {
    throw invalid(key, 'not_gb', `"${text}" is not a number of GB (digits, a dot and up to 9 decimals)`);
  }
}
