import type { Logger } from '../common/logger';

/**
 * Runs `work` every `intervalSeconds` (measured from the end of one run to the start of the next, so
 * runs never overlap); 0 turns it off. `stop()` waits for a running pass to finish.
 */
export function startPeriodic(
  name: string,
  intervalSeconds: number,
  log: Logger,
  work: () => Promise<void>,
): { stop(): Promise<void> } {
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<void> | null = null;
  let stopped = false;

  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(() => {
      running = work()
        .catch((error) => log.error({ err: error }, `${name} failed`))
        .finally(() => {
          running = null;
          schedule();
        });
    }, intervalSeconds * 1000);
  };
  if (intervalSeconds > 0) schedule();

  return {
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
    },
  };
}
