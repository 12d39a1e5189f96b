/**
 * Units, numbers, days and dates for the usage page. The unit policy is the server's
 * (src/common/units.ts): traffic is exact bytes, shown as GB with a fixed number of decimals,
 * 1 GB = 10^9 bytes, rounded half away from zero. Days are calendar days in WHMCS's time zone.
 */

import { BYTES_PER_GB, bytesToGb, toBytes as parseBytes } from '../../src/common/units';

// The server's own unit policy and calendar, bundled: one definition for server, emails and page.
export { BYTES_PER_GB };
export { addDays, dayIn, startOfDay } from '../../src/common/time-zone';
import { addDays } from '../../src/common/time-zone';
export const GB_DECIMALS = 2;

/** A byte count as the API sends it (a JSON number, or a numeric string) as an exact bigint. */
export function toBytes(value: unknown): bigint {
  if (typeof value === 'bigint' || typeof value === 'number' || typeof value === 'string') {
    return parseBytes(value);
  }
  throw new TypeError(`not a byte count: ${String(value)}`);
}

/** Bytes as a plain decimal GB string ("-1234.57"), exactly as the server writes it. */
export function gbDecimal(bytes: bigint, decimals = GB_DECIMALS): `${number}` {
  return bytesToGb(bytes, decimals) as `${number}`;
}

/**
 * What a row's total shows: the sum of its download and upload AS SHOWN (each rounded to
 * `decimals` first), so that the three cells of a row add up. Exact decimal arithmetic on bigints.
 */
export function shownSumDecimal(parts: bigint[], decimals = GB_DECIMALS): `${number}` {
  const scale = 10n ** BigInt(decimals);
  let sum = 0n;
  for (const part of parts) {
    const text = gbDecimal(part, decimals);
    const negative = text.startsWith('-');
    const [whole, fraction = ''] = (negative ? text.slice(1) : text).split('.');
    const scaled = BigInt(whole) * scale + BigInt(fraction.padEnd(decimals, '0') || '0');
    sum += negative ? -scaled : scaled;
  }
  const negative = sum < 0n;
  const abs = negative ? -sum : sum;
  const fraction = (abs % scale).toString().padStart(decimals, '0');
  const text = decimals > 0 ? `${abs / scale}.${fraction}` : `${abs / scale}`;
  return (negative ? `-${text}` : text) as `${number}`;
}

/** The minus sign of signed amounts (U+2212), never a hyphen. */
export const MINUS = '\u2212';

/**
 * Plain text kept left to right inside right-to-left text (LRI … PDI), for places that cannot take
 * markup (the chart's canvas): "+100.00" stays "+100.00" in Arabic, not "100.00+".
 */
export function ltrText(text: string): string {
  return `\u2066${text}\u2069`;
}

/** GB as a number, for the chart's scale only (never for what is written on the page). */
export function gbNumber(bytes: bigint): number {
  return Number(gbDecimal(bytes, 6));
}

/** WHMCS language names (lang/<name>.php) to BCP 47 locales. */
const LOCALES: Record<string, string> = {
  arabic: 'ar',
  azerbaijani: 'az',
  catalan: 'ca',
  chinese: 'zh-CN',
  croatian: 'hr',
  czech: 'cs',
  danish: 'da',
  dutch: 'nl',
  english: 'en',
  estonian: 'et',
  farsi: 'fa',
  french: 'fr',
  german: 'de',
  hebrew: 'he',
  hungarian: 'hu',
  italian: 'it',
  macedonian: 'mk',
  norwegian: 'nb',
  polish: 'pl',
  'portuguese-br': 'pt-BR',
  'portuguese-pt': 'pt-PT',
  romanian: 'ro',
  russian: 'ru',
  spanish: 'es',
  swedish: 'sv',
  turkish: 'tr',
  ukrainian: 'uk',
};

export function localeFor(language: string, fallback: string): string {
  const locale = LOCALES[language.trim().toLowerCase()] ?? fallback;
  try {
    return Intl.getCanonicalLocales(locale)[0] ?? 'en';
  } catch {
    return 'en';
  }
}

/** Number and date formatting in the customer's locale. */
export class Formatter {
  private readonly gb: Intl.NumberFormat;
  private readonly integer: Intl.NumberFormat;
  private readonly dayFormat: Intl.DateTimeFormat;
  private readonly instantFormat: Intl.DateTimeFormat;

  constructor(
    readonly locale: string,
    readonly timeZone: string,
  ) {
    const digits = { minimumFractionDigits: GB_DECIMALS, maximumFractionDigits: GB_DECIMALS };
    this.gb = new Intl.NumberFormat(locale, digits);
    this.integer = new Intl.NumberFormat(locale, { maximumFractionDigits: 0 });
    // A day is a calendar date: format it at noon UTC as UTC so that no zone can move it.
    this.dayFormat = new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeZone: 'UTC' });
    this.instantFormat = new Intl.DateTimeFormat(locale, {
      dateStyle: 'medium',
      timeStyle: 'short',
      timeZone,
    });
  }

  /** "1,234.57" (en), "1.234,57" (de): GB with fixed decimals. */
  bytes(bytes: bigint): string {
    return this.gb.format(gbDecimal(bytes));
  }

  /** A plain decimal GB string ("3.15") in the locale. */
  decimal(text: `${number}`): string {
    return this.gb.format(text);
  }

  /**
   * "+100.00" / "−5.00" (U+2212) / "0.00": a credit or an adjustment. The sign is ours, not the
   * locale's (some put it after the number or wrap it in bidi marks); show it inside a left-to-right
   * isolate so that right-to-left pages read it as written.
   */
  signedBytes(bytes: bigint): string {
    const negative = bytes < 0n;
    const abs = gbDecimal(negative ? -bytes : bytes);
    const text = this.gb.format(abs);
    if (/^0+(\.0+)?$/.test(abs)) return text;
    return `${negative ? MINUS : '+'}${text}`;
  }

  int(n: number): string {
    return this.integer.format(n);
  }

  day(day: string): string {
    return this.dayFormat.format(new Date(`${day}T12:00:00Z`));
  }

  instant(iso: string): string {
    return this.instantFormat.format(new Date(iso));
  }
}

// ---------------------------------------------------------------- calendar days in a time zone

/** Whole days from `from` to `to` (both YYYY-MM-DD). */
export function daysBetween(from: string, to: string): number {
  return Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86_400_000);
}

/** Every day from `from` to `to`, inclusive. */
export function daysFrom(from: string, to: string): string[] {
  const days: string[] = [];
  for (let day = from; day <= to; day = addDays(day, 1)) days.push(day);
  return days;
}

export function isDay(text: string): boolean {
  return /^\d{4}-\d{2}-\d{2}$/.test(text) && !Number.isNaN(Date.parse(`${text}T00:00:00Z`));
}
