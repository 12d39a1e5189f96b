/**
 * The accounting rule, in one place: counters are cumulative and never reset by us. The delta since
 * the last read is `current - previous` in each direction, unless the queue restarted, in which case
 * everything it shows now is new traffic in BOTH directions. RouterOS restarts a simple queue's two
 * counters together (`reset-counters`, the queue removed and re-created, a reboot), so a queue
 * restarted when:
 * - the router restarted since the previous read was taken (its boot epoch moved, see
 *   {@link ./router-restart}), whichever run noticed it;
 * - the queue is another one (a new `.id`);
 * - either counter went down.
 *
 * A reset after which both counters are already above their last values cannot be seen from the
 * counters (docs/reliability.md); a reboot is seen from the router's uptime instead. Traffic a router
 * counted after the last read and before it restarted is the only thing that can be missed.
 */
export interface CounterReading {
  download: bigint;
  upload: bigint;
  queueId: string;
}

export interface PreviousReading {
  download: bigint;
  upload: bigint;
  /** The queue the previous reading came from; null when there was none (a new account). */
  queueId: string | null;
  /**
   * The router's boot epoch when the previous reading was taken; null when unknown (readings made
   * before epochs existed count as taken in the current one).
   */
  bootEpoch: number | null;
}

export interface Delta {
  download: bigint;
  upload: bigint;
  /** True when the counters started again from zero since the previous reading. */
  restarted: boolean;
}

export function counterDelta(previous: PreviousReading, current: CounterReading, bootEpoch: number): Delta {
  const restarted =
    previous.queueId === null ||
    previous.queueId !== current.queueId ||
    (previous.bootEpoch !== null && previous.bootEpoch !== bootEpoch) ||
    current.download < previous.download ||
    current.upload < previous.upload;
  return restarted
    ? { download: current.download, upload: current.upload, restarted }
    : {
        download: current.download - previous.download,
        upload: current.upload - previous.upload,
        restarted,
      };
}
