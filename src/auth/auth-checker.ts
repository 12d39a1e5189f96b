import type { AuthChecker } from 'type-graphql';
import type { RequestContext } from '../context/request-context';

/**
 * `@Authorized()` = any valid caller; `@Authorized('admin')` = an admin key (or the server itself).
 * Unauthenticated callers never get this far: the context refuses them first.
 */
export const authChecker: AuthChecker<RequestContext> = ({ context }, roles) => {
  const { actor } = context;
  if (actor.kind === 'system') return true;
  if (roles.includes('admin')) return actor.scope === 'admin';
  return true;
};
