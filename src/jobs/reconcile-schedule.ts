import type { AppServices } from '../app-services';
import type { Logger } from '../common/logger';
import { systemContext } from '../context/request-context';
import { LockBusyError } from '../db/named-lock';
import { startPeriodic } from './periodic';

/**
 * The built-in reconcile clock: every `intervalSeconds` one server process (a database lock picks it)
 * compares every router with the database. It finishes actions left PENDING while a router was
 * unreachable once the router answers again, repairs hand-made drift, and reports foreign secrets.
 */
export function startReconcileSchedule(
  services: AppServices,
  log: Logger,
  options: { intervalSeconds: number; isReady: () => boolean },
): { stop(): Promise<void> } {
  const runOnce = async () => {
    if (!options.isReady()) return;
    try {
      await services.locks.with('reconcile', 0, async () => {
        const ctx = systemContext('schedule');
        const report = await services.reconcile.reconcile(ctx);
        const kinds: Record<string, number> = {};
        for (const a of report.actions) kinds[a.kind] = (kinds[a.kind] ?? 0) + 1;
        log.info(
          {
            routers: report.routersChecked,
            accounts: report.accountsChecked,
            repaired: report.repaired,
            actions: kinds,
            // Not ours: reported for an admin to look at, never touched.
            foreign: report.actions
              .filter((a) => a.kind === 'FOREIGN_SECRET')
              .map((a) => ({ routerId: a.routerId, detail: a.detail })),
          },
          'reconcile run',
        );
      });
    } catch (error) {
      if (!(error instanceof LockBusyError)) throw error; // another process is reconciling
    }
  };
  return startPeriodic('reconcile run', options.intervalSeconds, log, runOnce);
}
