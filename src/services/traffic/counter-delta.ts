/**
 * The accounting rule, in one place: counters are cumulative and never reset by us. The delta since
 * the last read is `current - previous`, unless the counter restarted (the router rebooted, the queue
 * was re-created with a new id, or the value went backwards), in which case everything it shows now
 * is new traffic. Traffic between the last read and a restart is the only thing that can be missed.
 */
export interface CounterReading {
  download: bigint;
  upload: bigint;
  queueId: string;
}

export interface PreviousReading {
  download: bigint;
  upload: bigint;
  queueId: string | null;
}

export function counterDelta(
  previous: PreviousReading,
  current: CounterReading,
  routerRebooted: boolean,
): { download: bigint; upload: bigint; restarted: boolean } {
  const restarted = routerRebooted || previous.queueId !== current.queueId;
  const delta = (prev: bigint, cur: bigint) => (restarted || cur < prev ? cur : cur - prev);
  return {
    download: delta(previous.download, current.download),
    upload: delta(previous.upload, current.upload),
    restarted,
  };
}
