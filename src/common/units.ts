/**
 * The one unit policy of the product. Traffic is stored and computed as exact integer bytes (bigint);
 * gigabytes exist only at the edges (product settings, emails, screens): 1 GB = 10^9 bytes (SI, like
 * disk vendors and most ISPs). Speeds are set in Mbit/s: 1 Mbit/s = 10^6 bit/s, as RouterOS counts "M".
 */
export const BYTES_PER_GB = 1_000_000_000n;
export const BITS_PER_MBIT = 1_000_000;

/**
 * The largest amount of traffic a setting, a top-up or an adjustment may name: 100,000,000 GB
 * (10^17 bytes). Sums of many such amounts stay far inside a signed BIGINT (9.2 × 10^18).
 */
export const MAX_GB = 100_000_000n;
export const MAX_BYTES = MAX_GB * BYTES_PER_GB;

/** Parses a decimal byte count as it comes from MySQL BIGINT columns (strings) or the router. */
export function toBytes(value: string | number | bigint | null | undefined): bigint {
  if (value === null || value === undefined || value === '') return 0n;
  if (typeof value === 'bigint') return value;
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) throw new RangeError(`not an exact byte count: ${value}`);
    return BigInt(value);
  }
  if (!/^-?\d+$/.test(value)) throw new RangeError(`not a byte count: ${value}`);
  return BigInt(value);
}

/**
 * Gigabytes as an admin types them ("10", "2.5") to bytes, exactly. The rules, shared with the
 * WHMCS module (lib/Format.php) and pinned by one file of test vectors (test/vectors/gb-amounts.json):
 * surrounding spaces are ignored; digits, optionally a dot and 1-9 decimals; no sign, no comma (a
 * comma is a decimal mark in some languages and a thousands separator in others: refused rather
 * than guessed); at most {@link MAX_GB}.
 */
export function gbToBytes(gb: string | number): bigint {
  const text = String(gb).trim();
  const match = /^(\d+)(?:\.(\d{1,9}))?$/.exec(text);
  if (!match) throw new RangeError(`not a number of GB: ${text}`);
  const fraction = (match[2] ?? '').padEnd(9, '0');
  const bytes = BigInt(match[1]) * BYTES_PER_GB + BigInt(fraction);
  if (bytes > MAX_BYTES) throw new RangeError(`more than ${MAX_GB} GB: ${text}`);
  return bytes;
}

/** Bytes as GB with a fixed number of decimals, rounded half away from zero (display only). */
export function bytesToGb(bytes: bigint, decimals = 2): string {
  const negative = bytes < 0n;
  const abs = negative ? -bytes : bytes;
  const scale = 10n ** BigInt(decimals);
  const scaled = (abs * scale * 2n + BYTES_PER_GB) / (BYTES_PER_GB * 2n);
  const whole = scaled / scale;
  const fraction = (scaled % scale).toString().padStart(decimals, '0');
  const text = decimals > 0 ? `${whole}.${fraction}` : `${whole}`;
  return negative && scaled !== 0n ? `-${text}` : text;
}

/** Mbit/s as an admin types it ("10", "0.5") to bits per second; 0 means "no limit". */
export function mbitToBits(mbit: string | number): number {
  const text = String(mbit).trim();
  if (!/^\d+(\.\d{1,6})?$/.test(text)) throw new RangeError(`not a speed in Mbit/s: ${text}`);
  return Math.round(Number(text) * BITS_PER_MBIT);
}

export const BYTES_PER_MB = 1_000_000n;

/**
 * One notification threshold of a product. `remaining`: reached while the balance is below
 * `bytes` (the seed's "remainder less than X GB"). `used`: reached once `hundredths` / 100 % of the
 * cycle allowance is used, where used = allowance − balance (top-ups count as unused allowance).
 */
export type TrafficThreshold =
  | { kind: 'remaining'; bytes: bigint; id: string; label: string }
  | { kind: 'used'; hundredths: number; id: string; label: string };

/** At most this many thresholds per product. */
export const MAX_THRESHOLDS = 10;

/**
 * A product's threshold list as an admin types it ("50%, 80%, 1 GB"): entries separated by commas
 * (or semicolons); each is a percentage of the cycle allowance used (`80%`, 0-100, up to 2
 * decimals), an amount remaining in GB (`1 GB`, or a bare number: `10` = 10 GB, as the seed's
 * single setting) or in MB (`500 MB`, 1 MB = 10^6 bytes), by the GB rules of {@link gbToBytes}.
 * An entry of 0 (`0`, `0%`, `0 GB`) is no threshold, so `0` alone means "never". A comma between
 * two digits ("2,5") is refused: it is a decimal mark in some languages. Duplicates count once (as first written).
 * Throws a RangeError saying what is wrong; returns the thresholds in the order written.
 */
export function parseThresholds(text: string): TrafficThreshold[] {
  const source = text.trim();
  if (/\d[,;]\d/.test(source))
    throw new RangeError(`"${source}": a comma between digits is ambiguous; write 2.5 for a decimal`);
  const entries = source.split(/[,;]/).map((e) => e.trim());
  if (entries.some((e) => e === '')) throw new RangeError(`"${source}": an empty entry`);
  const out = new Map<string, TrafficThreshold>();
  for (const entry of entries) {
    const m = /^(-?)(\d+(?:\.\d+)?)\s*(%|gb|mb)?$/i.exec(entry);
    if (!m) throw new RangeError(`"${entry}" is not a percentage, GB or MB amount`);
    const [, sign, number, rawUnit] = m;
    const unit = (rawUnit ?? 'gb').toLowerCase();
    if (unit === '%') {
      if (sign) throw new RangeError(`${entry}: below 0 %`);
      const p = /^(\d+)(?:\.(\d{1,2}))?$/.exec(number);
      if (!p) throw new RangeError(`${entry}: at most 2 decimals`);
      const hundredths = Number(p[1]) * 100 + Number((p[2] ?? '').padEnd(2, '0'));
      if (!Number.isSafeInteger(hundredths) || hundredths > 10_000)
        throw new RangeError(`${entry}: over 100 %`);
      if (hundredths === 0) continue;
      const label = `${formatHundredths(hundredths)}%`;
      const id = `used:${hundredths}`;
      if (!out.has(id)) out.set(id, { kind: 'used', hundredths, id, label });
    } else {
      if (sign) throw new RangeError(`${entry}: a negative amount`);
      const bytes = unit === 'gb' ? gbToBytes(number) : mbToBytes(number, entry);
      if (bytes === 0n) continue;
      const label = unit === 'gb' ? `${trimDecimal(number)} GB` : `${trimDecimal(number)} MB`;
      const id = `remaining:${bytes}`;
      if (!out.has(id)) out.set(id, { kind: 'remaining', bytes, id, label });
    }
  }
  if (out.size > MAX_THRESHOLDS) throw new RangeError(`more than ${MAX_THRESHOLDS} thresholds`);
  return [...out.values()];
}

function mbToBytes(number: string, entry: string): bigint {
  const m = /^(\d+)(?:\.(\d{1,6}))?$/.exec(number);
  if (!m) throw new RangeError(`${entry}: at most 6 decimals of MB`);
  const bytes = BigInt(m[1]) * BYTES_PER_MB + BigInt((m[2] ?? '').padEnd(6, '0'));
  if (bytes > MAX_BYTES) throw new RangeError(`${entry}: more than ${MAX_GB} GB`);
  return bytes;
}

function trimDecimal(number: string): string {
  const [whole, fraction = ''] = number.split('.');
  const w = whole.replace(/^0+(?=\d)/, '');
  const f = fraction.replace(/0+$/, '');
  return f ? `${w}.${f}` : w;
}

function formatHundredths(h: number): string {
  const whole = Math.floor(h / 100);
  const rest = h % 100;
  return rest === 0 ? `${whole}` : `${whole}.${String(rest).padStart(2, '0').replace(/0$/, '')}`;
}

/**
 * The balance below which a threshold counts as reached: a `remaining` threshold's bytes; for a
 * `used` one, reached when balance ≤ allowance × (100 % − p), i.e. below that + 1 byte. Null when
 * the threshold cannot apply: a percentage of no allowance (unlimited or 0 GB) never fires.
 */
export function thresholdBoundBytes(t: TrafficThreshold, allowanceBytes: bigint): bigint | null {
  if (t.kind === 'remaining') return t.bytes;
  if (allowanceBytes <= 0n) return null;
  return (allowanceBytes * BigInt(10_000 - t.hundredths)) / 10_000n + 1n;
}

/** How much of the allowance is used (allowance − balance), in % with one decimal, rounded down; '' without an allowance. */
export function percentUsed(balanceBytes: bigint, allowanceBytes: bigint): string {
  if (allowanceBytes <= 0n) return '';
  const used = allowanceBytes - balanceBytes;
  const tenths = used <= 0n ? 0n : (used * 1000n) / allowanceBytes;
  return `${tenths / 10n}.${tenths % 10n}`;
}
