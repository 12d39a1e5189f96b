import type { AppServices } from '../app-services';
import type { Loaders } from '../loaders/create-loaders';
import { silentLogger, type Logger } from '../common/logger';

/**
 * Who is calling. API keys are for the bridge, admin tools and dashboards; client tokens for the
 * client-area page (one client's services only); `system` is the server itself.
 */
export type Actor =
  | { kind: 'apiKey'; name: string; scope: 'admin' | 'read' }
  | { kind: 'client'; clientId: number; serviceIds: number[] }
  | { kind: 'system'; name: string };

/** The first argument of every service method (Vendure style): who, which request, and its loaders. */
export interface RequestContext {
  requestId: string;
  /** The logger of this request or job: every line carries its `requestId`. */
  log: Logger;
  actor: Actor;
  services: AppServices;
  loaders: Loaders;
}

export function actorName(actor: Actor): string {
  if (actor.kind === 'apiKey') return `apikey:${actor.name}`;
  if (actor.kind === 'client') return `client:${actor.clientId}`;
  return `system:${actor.name}`;
}

/** The context of work the server does by itself (schedules, CLI): acts as `system:<name>`. */
export function systemContext(
  services: AppServices,
  name: string,
  loaders: Loaders,
  log: Logger = silentLogger,
): RequestContext {
  const requestId = `${name}-${Date.now().toString(36)}`;
  return {
    requestId,
    log: log.child({ requestId }),
    actor: { kind: 'system', name },
    services,
    loaders,
  };
}
