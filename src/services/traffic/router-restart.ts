/**
 * Did the router restart between two readings of its uptime? The rule trusts no server process's
 * clock: processes' clocks step (NTP, a resumed VM) and differ from each other. What is compared
 * across runs and processes is the router's own uptime and the time of the database server, read
 * together in the same exchange; how far apart the two reads could be is measured with the reading
 * process's monotonic clock, so it stays exact while wall clocks step.
 *
 * For a reading i: `dbTime` is the database clock and `uptime` the router's uptime (whole seconds,
 * rounded down); both were sampled inside a window of `windowMs` (from sending the two requests to
 * the later answer). The boot time a reading implies, `dbTime − uptime`, lies between `windowMs`
 * before the true boot time and `windowMs + 1 s` after it (the second is the uptime's rounding).
 *
 * - Uptime is monotonic while the router runs: a lower uptime means a restart, always.
 * - Otherwise let D be how far the implied boot time moved between two readings, and
 *   e = window₁ + window₂ + 1 s. Without a restart, |D| < e. A restart after the previous reading
 *   puts the new boot after that reading, at least `uptime₁` after the old boot, so D > uptime₁ − e.
 *   The threshold sits as high as that allows: θ = max(e, uptime₁ − e). Every restart is caught
 *   unless the previous reading was taken within 2e (about two seconds) of the router's boot —
 *   two boots seconds apart, which no RouterOS device does — and a step of the database server's
 *   clock is mistaken for a restart only when it is about as large as the router's previous uptime.
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

/** Uptime is printed in whole seconds (rounded down): one second of uncertainty between two readings. */
const UPTIME_RESOLUTION_MS = 1000;

export function routerRestarted(previous: UptimeReading | null, current: UptimeReading): boolean {
  if (!previous) return false;
  if (current.uptimeSeconds < previous.uptimeSeconds) return true;
  const error = previous.windowMs + current.windowMs + UPTIME_RESOLUTION_MS;
  const bootMoved =
    current.dbTimeMs - current.uptimeSeconds * 1000 - (previous.dbTimeMs - previous.uptimeSeconds * 1000);
  const threshold = Math.max(error, previous.uptimeSeconds * 1000 - error);
  return bootMoved > threshold;
}

/** The boot time a reading implies (for display and `doctor`; never compared across readings). */
export function estimatedBootTime(reading: UptimeReading): Date {
  return new Date(reading.dbTimeMs - reading.uptimeSeconds * 1000);
}
