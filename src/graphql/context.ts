import type { AppServices } from '../app-services';
import type { RequestContext } from '../context/request-context';
import type { Loaders } from '../loaders/create-loaders';

/**
 * What resolvers get as their context: the request's facts (passed on to services as they are),
 * the services, and the request's own DataLoaders (batching and caching for this request only).
 */
export interface GraphQLContext extends RequestContext {
  services: AppServices;
  loaders: Loaders;
  /**
   * Subscriptions (long-lived): throws once the caller's credentials no longer hold (a client token
   * that expired, was revoked or whose service moved to another client). Requests check them once.
   */
  recheck?: () => Promise<void>;
}
