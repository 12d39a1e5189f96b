import type { AuthChecker } from 'type-graphql';
import type { RequestContext } from '../context/request-context';

/**
 * `@Authorized()` = any API key; `@Authorized('admin')` = an admin key; `@Authorized('client')` = any
 * API key and also a client token (which then still sees only its own services: see the resolvers).
 * The server itself may do everything. Unauthenticated callers never get this far.
 */
export const authChecker: AuthChecker<RequestContext> = ({ context }, roles) => {
  const { actor } = context;
  if (actor.kind === 'system') return true;
  if (actor.kind === 'client') return roles.includes('client') && !roles.includes('admin');
  if (roles.includes('admin')) return actor.scope === 'admin';
  return true;
};
