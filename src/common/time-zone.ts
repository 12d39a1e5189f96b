/** One formatter per time zone: building an Intl.DateTimeFormat costs far more than using one. */
const formatters = new Map<string, Intl.DateTimeFormat>();

/** The calendar day (YYYY-MM-DD) of an instant in an IANA time zone: WHMCS's days, for admin and customer alike. */
export function dayIn(timeZone: string, at: Date): string {
  let format = formatters.get(timeZone);
  if (!format) {
    // en-CA formats as YYYY-MM-DD.
    format = new Intl.DateTimeFormat('en-CA', {
      timeZone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
    });
    formatters.set(timeZone, format);
  }
  return format.format(at);
}

const offsetFormatters = new Map<string, Intl.DateTimeFormat>();

/** How far an IANA time zone is ahead of UTC at an instant, in milliseconds (whole seconds). */
export function utcOffsetMs(timeZone: string, at: number): number {
  let format = offsetFormatters.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    offsetFormatters.set(timeZone, format);
  }
  const parts = format.formatToParts(new Date(at));
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value ?? 0);
  const local = Date.UTC(
    get('year'),
    get('month') - 1,
    get('day'),
    get('hour'),
    get('minute'),
    get('second'),
  );
  return local - Math.floor(at / 1000) * 1000;
}

/** `day` (YYYY-MM-DD) plus `n` calendar days. */
export function addDays(day: string, n: number): string {
  // Arithmetic on the numbers, not a parse of the string: a usage page adds a day per row.
  const d = new Date(
    Date.UTC(Number(day.slice(0, 4)), Number(day.slice(5, 7)) - 1, Number(day.slice(8, 10)) + n),
  );
  const y = d.getUTCFullYear();
  const m = d.getUTCMonth() + 1;
  const dd = d.getUTCDate();
  return `${y < 1000 ? String(y).padStart(4, '0') : y}-${m < 10 ? '0' : ''}${m}-${dd < 10 ? '0' : ''}${dd}`;
}

/**
 * `day` (YYYY-MM-DD) plus `n` calendar months, the day of the month kept or, where the month is
 * shorter, its last day (2026-01-31 + 1 month = 2026-02-28).
 */
export function addMonths(day: string, n: number): string {
  const y = Number(day.slice(0, 4));
  const m = Number(day.slice(5, 7)) - 1 + n;
  const last = new Date(Date.UTC(y, m + 1, 0)).getUTCDate();
  return new Date(Date.UTC(y, m, Math.min(Number(day.slice(8, 10)), last))).toISOString().slice(0, 10);
}

/**
 * The instant a calendar day starts in a time zone (its local midnight, or the first instant that
 * exists when a DST change skips midnight). A day is 23, 24 or 25 hours long; never assume 24.
 */
export function startOfDay(day: string, timeZone: string): Date {
  let starts = dayStarts.get(timeZone);
  if (!starts) dayStarts.set(timeZone, (starts = new Map()));
  const known = starts.get(day);
  if (known !== undefined) return new Date(known);
  const at = computeStartOfDay(day, timeZone);
  // A day's start never changes: remembered (a bounded cache, dropped whole when full).
  if (starts.size >= 20_000) starts.clear();
  starts.set(day, at);
  return new Date(at);
}

/** Per time zone, the first instant of each day asked for. */
const dayStarts = new Map<string, Map<string, number>>();

function computeStartOfDay(day: string, timeZone: string): number {
  const utcMidnight = Date.parse(`${day}T00:00:00Z`);
  let at = utcMidnight - utcOffsetMs(timeZone, utcMidnight);
  // A second pass settles days on which the offset changes.
  at = utcMidnight - utcOffsetMs(timeZone, at);
  // Where a change skips midnight itself (clocks jump from 00:00 to 01:00), the instant found lies
  // in the day before: the day starts at the change, found to the second.
  if (dayIn(timeZone, new Date(at)) < day) {
    let low = at;
    let high = at + 3 * 3_600_000;
    while (high - low > 1000) {
      const mid = Math.floor((low + high) / 2000) * 1000;
      if (dayIn(timeZone, new Date(mid)) < day) low = mid;
      else high = mid;
    }
    at = high;
  }
  return at;
}
