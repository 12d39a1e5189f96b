/**
 * Milliseconds on a clock that never steps (the process's monotonic clock, on the epoch scale of its
 * start): deadlines, waits and idle times must not jump when NTP or a resumed VM steps the wall clock.
 * Never compare it across processes; what processes share comes from the database's clock.
 */
export function monotonicNow(): number {
  return performance.timeOrigin + performance.now();
}
