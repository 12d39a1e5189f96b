/**
 * The events the server publishes (webhooks and GraphQL subscriptions), defined once. Each has an id
 * (the outbox row), a time on the database's clock, a type and a small payload: ids, statuses, byte
 * amounts as decimal strings — never a password, key or token.
 */
export const EVENT_TYPES = [
  'account.created',
  'account.suspended',
  'account.unsuspended',
  'account.terminated',
  'account.limited',
  'account.restored',
  /** Used up and slowed down to the throttle speed instead of cut off (quota policy "throttle"). */
  'account.throttled',
  'traffic.threshold_reached',
  'traffic.credited',
  'router.unreachable',
  'router.recovered',
  'collection.failed',
  /** A webhook endpoint's delivery gave up after its retry window: the endpoint is marked failing. */
  'webhook.failing',
] as const;

export type EventType = (typeof EVENT_TYPES)[number];

/** The payload of every event: one flat shape, each field present where it applies. */
export interface EventPayload {
  accountId?: number;
  serviceId?: number;
  clientId?: number;
  routerId?: number;
  endpointId?: number;
  /** The account's status after the change (account.*). */
  status?: string;
  previousStatus?: string;
  /** Bytes credited (traffic.credited) — a decimal string. */
  bytes?: string;
  balanceBytes?: string;
  thresholdBytes?: string;
  /** traffic.threshold_reached: the threshold as the product setting writes it (`80%`, `1 GB`). */
  threshold?: string;
  /** CYCLE, ADDON or ADJUSTMENT (traffic.credited). */
  kind?: string;
  topUpId?: string;
  /** The error code of a failure (router.unreachable, collection.failed). */
  errorCode?: string;
  /** A short, safe description (the error message of a typed error, never a secret). */
  message?: string;
}

export interface NewEvent {
  type: EventType;
  payload: EventPayload;
  /** At most one event per key (e.g. one threshold event per account and billing cycle). */
  dedupeKey?: string;
}

/** An event as stored and published. */
export interface PublishedEvent {
  id: string;
  type: EventType;
  at: Date;
  payload: EventPayload;
}

export function isEventType(value: string): value is EventType {
  return (EVENT_TYPES as readonly string[]).includes(value);
}
