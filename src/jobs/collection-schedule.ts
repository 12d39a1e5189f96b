import type { AppServices } from '../app-services';
import type { Logger } from '../common/logger';
import { dayIn } from '../common/time-zone';
import { systemContext } from '../context/request-context';
import { CollectionFrequency } from '../services/traffic/traffic-types';
import { startPeriodic } from './periodic';

/**
 * The built-in clock: collects every `intervalSeconds` (products set to "cron"), and collects
 * everything on the first run of each new day in the WHMCS time zone (products set to "daily").
 * Runs never overlap; across server processes the per-router lock keeps one collector per router.
 */
export function startCollectionSchedule(
  services: AppServices,
  log: Logger,
  options: { intervalSeconds: number; isReady: () => boolean },
): { stop(): Promise<void> } {
  let lastDailyDay: string | null = null;

  const runOnce = async () => {
    if (!options.isReady()) return;
    const today = dayIn(services.config.timeZone, new Date());
    const frequency = lastDailyDay === today ? CollectionFrequency.CRON : CollectionFrequency.DAILY;
    const ctx = systemContext('schedule', log);
    const report = await services.collector.collect(ctx, { frequency });
    if (frequency === CollectionFrequency.DAILY) lastDailyDay = today;
    const failed = report.routers.filter((r) => !r.ok);
    log.info(
      {
        frequency,
        durationMs: report.durationMs,
        accounts: report.accountsCollected,
        samples: report.samplesWritten,
        limited: report.limited.length,
        failedRouters: failed.map((r) => ({ routerId: r.routerId, code: r.errorCode })),
        skippedRouters: report.routers.filter((r) => r.skipped).map((r) => r.routerId),
      },
      'collection run',
    );
  };

  return startPeriodic('collection run', options.intervalSeconds, log, runOnce);
}
