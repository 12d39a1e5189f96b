/**
 * Did the router restart between two readings of its uptime? The rule trusts no server process's
 * clock: processes' clocks step (NTP, a resumed VM) and differ from each other. What is compared
 * across runs and processes is the router's own uptime and the time of the database server, read
 * together in the same exchange; how far apart the two reads could be is measured with the reading
 * process's monotonic clock, so it stays exact while wall clocks step.
 *
 * For a reading i: `dbTime` is the database clock and `uptime` the router's uptime (whole seconds,
 * rounded down); both were sampled inside a window of `windowMs` (from sending the two requests to
 * the later answer). The router's boot time estimated from it, `dbTime − uptime`, is within
 * `e = windowMs + 1000` of the truth (the extra second is the uptime's rounding).
 *
 * - Uptime is monotonic while the router runs: a lower uptime means a restart, always.
 * - Otherwise let D be how far the estimated boot time moved. Without a restart D is within
 *   e₁ + e₂ of zero. A restart after the previous reading put the new boot after that reading,
 *   i.e. at least `uptime₁` seconds after the old boot, so D > uptime₁ − (e₁ + e₂). The threshold
 *   sits as high as that allows: θ = max(e₁ + e₂, uptime₁ − (e₁ + e₂)). Every restart is caught
 *   unless the previous reading was taken within 2·(e₁ + e₂) (a few seconds) of the router's boot,
 *   and a database clock step is mistaken for a restart only when it is about as large as the
 *   router's previous uptime (hours or days on a router in service).
 *
 * The limits are written in docs/reliability.md.
 */
export interface UptimeReading {
  /** The database server's clock when the uptime was read (epoch ms). */
  dbTimeMs: number;
  /** The router's uptime, whole seconds. */
  uptimeSeconds: number;
  /** How long the exchange that read both took (ms); bounds how far apart the two instants were. */
  windowMs: number;
}

/** Uptime is printed in whole seconds (rounded down): one second of uncertainty per reading. */
const UPTIME_RESOLUTION_MS = 1000;

export function routerRestarted(previous: UptimeReading | null, current: UptimeReading): boolean {
  if (!previous) return false;
  if (current.uptimeSeconds < previous.uptimeSeconds) return true;
  const error = previous.windowMs + current.windowMs + 2 * UPTIME_RESOLUTION_MS;
  const bootMoved =
    current.dbTimeMs - current.uptimeSeconds * 1000 - (previous.dbTimeMs - previous.uptimeSeconds * 1000);
  const threshold = Math.max(error, previous.uptimeSeconds * 1000 - error);
  return bootMoved > threshold;
}

/** The boot time a reading implies (for display and `doctor`; never compared across readings). */
export function estimatedBootTime(reading: UptimeReading): Date {
  return new Date(reading.dbTimeMs - reading.uptimeSeconds * 1000);
}
