import type { AppServices } from '../app-services';
import type { Logger } from '../common/logger';
import { startPeriodic } from './periodic';

/**
 * The webhook delivery clock: every `intervalMs` this process claims the deliveries that are due
 * (leases make every process safe to run it) and attempts them, pass after pass while full batches
 * keep coming. It runs apart from requests and collections, so a receiver that hangs delays only
 * its own deliveries. 0 turns it off in this process.
 */
export function startWebhookSchedule(
  services: AppServices,
  log: Logger,
  options: { intervalMs: number; isReady: () => boolean },
): { stop(): Promise<void> } {
  let stopping = false;
  const runOnce = async () => {
    if (!options.isReady()) return;
    await services.webhookDispatcher.prune(services.config.eventsRetentionDays);
    // A full batch means more are waiting: go on at once (bounded, so stop() is never kept long).
    for (let pass = 0; pass < 20 && !stopping; pass++) {
      const attempted = await services.webhookDispatcher.runOnce();
      if (attempted < 50) break;
    }
  };
  const periodic = startPeriodic('webhook delivery pass', options.intervalMs / 1000, log, runOnce);
  return {
    async stop() {
      stopping = true;
      await periodic.stop();
    },
  };
}
