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
