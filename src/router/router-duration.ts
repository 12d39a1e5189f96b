const UNIT_SECONDS: Record<string, number> = { w: 604800, d: 86400, h: 3600, m: 60, s: 1, ms: 0.001 };

/**
 * Parses a RouterOS duration into whole seconds: `44m55s`, `1w2d3h`, `3w`, `1s500ms`, and the
 * clock forms `01:02:03` / `1d01:02:03` that older versions print. Throws on anything else, so a
 * format change on the router shows up instead of reading as zero.
 */
export function parseRouterDuration(text: string): number {
  const value = text.trim();
  const clock = /^(?:(\d+)d)?(\d+):(\d{2}):(\d{2})$/.exec(value);
  if (clock) {
    const [, days, hours, minutes, seconds] = clock;
    return Number(days ?? 0) * 86400 + Number(hours) * 3600 + Number(minutes) * 60 + Number(seconds);
  }
  if (value === '' || !/^(\d+(w|d|h|ms|m|s))+$/.test(value)) {
    throw new Error(`not a RouterOS duration: ${JSON.stringify(text)}`);
  }
  let total = 0;
  for (const [, amount, unit] of value.matchAll(/(\d+)(ms|w|d|h|m|s)/g))
    total += Number(amount) * UNIT_SECONDS[unit];
  return Math.floor(total);
}
