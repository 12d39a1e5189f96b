import type { ErrorCode } from '../../errors/error-code';
import type { NotificationKind } from '../../entities/own/notification.entity';
import type { TopUpKind, TopUpReason } from '../../entities/own/traffic-topup.entity';

/**
 * What the traffic services take and give: their own types. The GraphQL layer publishes them
 * (graphql/types/traffic.type.ts implements these shapes); no service imports that layer.
 */

export enum UsageGranularity {
  DAY = 'DAY',
  SAMPLE = 'SAMPLE',
}

export enum CollectionFrequency {
  CRON = 'CRON',
  DAILY = 'DAILY',
}

/** Traffic of one period (a day, or one collection's sample), customer's perspective. */
export interface UsageRow {
  at: Date;
  day: string;
  downloadBytes: bigint;
  uploadBytes: bigint;
  totalBytes: bigint;
  balanceAfterBytes: bigint;
  creditedBytes: bigint;
}

/** One line of the traffic-added history. */
export interface TopUpView {
  id: string;
  at: Date;
  kind: TopUpKind;
  reason: TopUpReason | null;
  cycle: string | null;
  /** ROLLOVER lines: the cycle the traffic came from (YYYY-MM-DD/YYYY-MM-DD). */
  period: string | null;
  bytes: bigint;
  balanceBeforeBytes: bigint;
  balanceAfterBytes: bigint;
  invoiceId: number | null;
  description: string;
}

/** A credit asked for through the API (topUpTraffic). */
export interface TopUpRequest {
  serviceId: number;
  bytes: bigint | number;
  idempotencyKey: string;
  invoiceId?: number | null;
  description?: string | null;
  kind: TopUpKind;
}

/** How one router fared in a collection run. */
export interface RouterCollection {
  routerId: string;
  ok: boolean;
  skipped: boolean;
  errorCode: ErrorCode | null;
  error: string | null;
  accounts: number;
  samples: number;
  rebooted: boolean;
  missingQueues: number[];
  downloadBytes: bigint;
  uploadBytes: bigint;
  durationMs: number;
}

export interface CollectionReport {
  startedAt: Date;
  durationMs: number;
  accountsCollected: number;
  samplesWritten: number;
  downloadBytes: bigint;
  uploadBytes: bigint;
  limited: number[];
  routers: RouterCollection[];
}

/** An e-mail waiting in the outbox. */
export interface PendingNotice {
  id: string;
  kind: NotificationKind;
  serviceId: number;
  template: string;
  mergeFields: Record<string, string>;
  createdAt: Date;
  attempts: number;
  lastError: string | null;
}
