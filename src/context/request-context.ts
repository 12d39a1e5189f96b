import { silentLogger, type Logger } from '../common/logger';

/**
 * Who is calling. API keys are for the bridge, admin tools and dashboards; client tokens for the
 * client-area page (one client's services only); `system` is the server itself.
 */
export type Actor =
  | { kind: 'apiKey'; name: string; scope: 'admin' | 'read' }
  | { kind: 'client'; clientId: number; serviceIds: number[] }
  | { kind: 'system'; name: string };

/**
 * The first argument of every service method (Vendure style): the facts of one request or job —
 * which one, who asks, and its logger. Nothing else: services get their collaborators in their
 * constructors, and the GraphQL layer's own context (src/graphql/context.ts) adds services and
 * loaders for the resolvers.
 */
export interface RequestContext {
  requestId: string;
  /** The logger of this request or job: every line carries its `requestId`. */
  log: Logger;
  actor: Actor;
}

export function actorName(actor: Actor): string {
  if (actor.kind === 'apiKey') return `apikey:${actor.name}`;
  if (actor.kind === 'client') return `client:${actor.clientId}`;
  return `system:${actor.name}`;
}

/** The context of work the server does by itself (schedules, CLI): acts as `system:<name>`. */
export function systemContext(name: string, log: Logger = silentLogger): RequestContext {
  const requestId = `${name}-${Date.now().toString(36)}`;
  return { requestId, log: log.child({ requestId }), actor: { kind: 'system', name } };
}
