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
  private readonly signedGb: Intl.NumberFormat;
  private readonly integer: Intl.NumberFormat;
  private readonly dayFormat: Intl.DateTimeFormat;
  private readonly instantFormat: Intl.DateTimeFormat;

  constructor(
    readonly locale: string,
    readonly timeZone: string,
  ) {
    const digits = { minimumFractionDigits: GB_DECIMALS, maximumFractionDigits: GB_DECIMALS };
    this.gb = new Intl.NumberFormat(locale, digits);
    this.signedGb = new Intl.NumberFormat(locale, { ...digits, signDisplay: 'exceptZero' });
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

  /** "+100.00" / "−1.00": a credit or an adjustment. */
  signedBytes(bytes: bigint): string {
    return this.signedGb.format(gbDecimal(bytes));
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
