/**
 * The router adapter: the only product code that speaks RouterOS.
 * Build a {@link RouterSessionPool} once per process, a {@link RouterGateway} on top of it, and a
 * fresh set of {@link createRouterLoaders} per request or collection run.
 */
export { type RouterTarget, API_PORT, API_SSL_PORT, effectivePort } from './router-target';
export { RouterSessionPool, type RouterSessionPoolOptions } from './router-session-pool';
export { RouterSession, type RosRow } from './router-session';
export {
  RouterGateway,
  type ActiveSession,
  type PppProfile,
  type PppSecret,
  type PppSecretSpec,
  type PppService,
  type QueueCounters,
  type SimpleQueue,
  type SimpleQueueSpec,
  type SpeedLimit,
  type SystemResource,
} from './router-gateway';
export {
  createRouterLoaders,
  type ActiveSessionKey,
  type QueueCountersKey,
  type WireGuardPeerKey,
  type RouterLoaders,
  type RouterLoaderOptions,
  concurrencyLimit,
} from './router-loaders';
export { LiveSessionCache, LIVE_CACHE_TTL_MS, withLiveCache } from './live-cache';
export { RouterTrapError, isNoSuchItem } from './router-errors';
export {
  queuePairToCustomer,
  customerToQueuePair,
  rxTxToCustomer,
  customerToRxTx,
  type CustomerPair,
} from './direction';
export { parseRouterDuration } from './router-duration';
export {
  type WireGuardInterface,
  type WireGuardPeer,
  type WireGuardPeerSpec,
  WIREGUARD_ONLINE_SECONDS,
  peerOnline,
} from './wireguard';
export { normalizeFingerprint } from './tls-pinning';
