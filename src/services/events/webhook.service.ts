import crypto from 'node:crypto';
import type { DataSource } from 'typeorm';
import type { SecretBox } from '../../auth/secret-box';
import { retryTransaction } from '../../db/retry';
import { ConflictError, NotFoundError, ValidationError } from '../../errors/app-errors';
import { actorName, type RequestContext } from '../../context/request-context';
import type { EventService } from '../event.service';
import { EVENT_TYPES, isEventType, type EventType } from './event-types';
import type { WebhookTargetPolicy } from './ssrf';

export interface WebhookEndpointView {
  id: number;
  url: string;
  eventTypes: EventType[];
  enabled: boolean;
  description: string;
  failingSince: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

export type DeliveryStatus = 'PENDING' | 'IN_FLIGHT' | 'DELIVERED' | 'FAILED';

export interface WebhookDeliveryView {
  id: string;
  eventId: string;
  eventType: EventType;
  endpointId: number;
  status: DeliveryStatus;
  attempts: number;
  responseCode: number | null;
  durationMs: number | null;
  lastError: string | null;
  createdAt: Date;
  lastAttemptAt: Date | null;
  nextAttemptAt: Date | null;
  deliveredAt: Date | null;
}

export interface EndpointInput {
  url?: string;
  eventTypes?: string[];
  enabled?: boolean;
  description?: string;
}

interface EndpointRow {
  id: number;
  url: string;
  event_types: string;
  enabled: number;
  description: string;
  failing_since: Date | null;
  created_at: Date;
  updated_at: Date;
}

/** A Standard Webhooks signing secret: `whsec_` and 32 random bytes in base64. */
function newSecret(): string {
  return `whsec_${crypto.randomBytes(32).toString('base64')}`;
}

/**
 * Webhook endpoints (admin keys only): URL, event filter, enabled, and a signing secret that is
 * shown once (on create and rotate) and stored encrypted with the key ring.
 */
export class WebhookService {
  constructor(
    private readonly db: DataSource,
    private readonly secrets: SecretBox,
    private readonly policy: WebhookTargetPolicy,
    private readonly audit: EventService,
  ) {}

  async create(
    ctx: RequestContext,
    input: EndpointInput & { url: string },
  ): Promise<{ endpoint: WebhookEndpointView; secret: string }> {
    const url = await this.checkUrl(input.url);
    const types = this.checkTypes(input.eventTypes ?? []);
    const description = this.checkDescription(input.description ?? '');
    const secret = newSecret();
    const result: { insertId: number } = await this.db.query(
      `INSERT INTO mod_mikrotikvpn_webhook_endpoints (url, event_types, enabled, description, secret_encrypted, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, UTC_TIMESTAMP(3), UTC_TIMESTAMP(3))`,
      [url, types.join(','), input.enabled === false ? 0 : 1, description, this.secrets.encrypt(secret)],
    );
    await this.audit.record(ctx, {
      action: 'webhook.create',
      result: 'OK',
      message: `endpoint ${result.insertId}: ${url}`,
    });
    return { endpoint: await this.get(result.insertId), secret };
  }

  async update(ctx: RequestContext, id: number, input: EndpointInput): Promise<WebhookEndpointView> {
    const current = await this.get(id);
    const url = input.url === undefined ? current.url : await this.checkUrl(input.url);
    const types = input.eventTypes === undefined ? current.eventTypes : this.checkTypes(input.eventTypes);
    const description =
      input.description === undefined ? current.description : this.checkDescription(input.description);
    const enabled = input.enabled ?? current.enabled;
    await this.db.query(
      `UPDATE mod_mikrotikvpn_webhook_endpoints
          SET url = ?, event_types = ?, enabled = ?, description = ?, updated_at = UTC_TIMESTAMP(3),
              failing_since = IF(? = 1 AND enabled = 0, NULL, failing_since)
        WHERE id = ?`,
      [url, types.join(','), enabled ? 1 : 0, description, enabled ? 1 : 0, id],
    );
    // Disabled: nothing more is sent. What was waiting is closed (FAILED, "endpoint disabled"), not
    // kept for later; redeliverWebhook sends one again once the endpoint is enabled.
    if (!enabled)
      await this.db.query(
        `UPDATE mod_mikrotikvpn_webhook_deliveries SET status = 'FAILED', last_error = 'endpoint disabled', lease_owner = NULL
          WHERE endpoint_id = ? AND status = 'PENDING'`,
        [id],
      );
    await this.audit.record(ctx, { action: 'webhook.update', result: 'OK', message: `endpoint ${id}` });
    return this.get(id);
  }

  /** A new signing secret; the old one stops signing at once. */
  async rotateSecret(
    ctx: RequestContext,
    id: number,
  ): Promise<{ endpoint: WebhookEndpointView; secret: string }> {
    await this.get(id);
    const secret = newSecret();
    await this.db.query(
      'UPDATE mod_mikrotikvpn_webhook_endpoints SET secret_encrypted = ?, updated_at = UTC_TIMESTAMP(3) WHERE id = ?',
      [this.secrets.encrypt(secret), id],
    );
    await this.audit.record(ctx, {
      action: 'webhook.rotate-secret',
      result: 'OK',
      message: `endpoint ${id}`,
    });
    return { endpoint: await this.get(id), secret };
  }

  async delete(ctx: RequestContext, id: number): Promise<boolean> {
    await this.get(id);
    // The endpoint first, at READ COMMITTED. A change publishing an event reads the endpoints with
    // shared locks (the fan-out in EventOutbox.emit): this waits for those that already read this
    // one, and those that come later wait for it and then find it gone. No delivery is left behind
    // for a deleted endpoint, and no gap lock on the deliveries makes a deadlock with a publisher.
    await retryTransaction(
      () =>
        this.db.transaction('READ COMMITTED', async (m) => {
          await m.query('DELETE FROM mod_mikrotikvpn_webhook_endpoints WHERE id = ?', [id]);
          await m.query('DELETE FROM mod_mikrotikvpn_webhook_deliveries WHERE endpoint_id = ?', [id]);
        }),
      { lockWaitTimeouts: false },
    );
    await this.audit.record(ctx, { action: 'webhook.delete', result: 'OK', message: `endpoint ${id}` });
    return true;
  }

  async list(): Promise<WebhookEndpointView[]> {
    const rows: EndpointRow[] = await this.db.query(
      'SELECT * FROM mod_mikrotikvpn_webhook_endpoints ORDER BY id',
    );
    return rows.map(toEndpoint);
  }

  async get(id: number): Promise<WebhookEndpointView> {
    const [row]: EndpointRow[] = await this.db.query(
      'SELECT * FROM mod_mikrotikvpn_webhook_endpoints WHERE id = ?',
      [id],
    );
    if (!row) throw new NotFoundError('Webhook endpoint', id);
    return toEndpoint(row);
  }

  /** The delivery log of an endpoint, newest first (at most `first`, before the delivery id `before`). */
  async deliveries(endpointId: number, first = 50, before?: string): Promise<WebhookDeliveryView[]> {
    await this.get(endpointId);
    const rows = await this.db.query(
      `${DELIVERY_SELECT} WHERE d.endpoint_id = ? ${before ? 'AND d.id < ?' : ''} ORDER BY d.id DESC LIMIT ${Math.min(Math.max(first, 1), 100)}`,
      before ? [endpointId, before] : [endpointId],
    );
    return rows.map(toDelivery);
  }

  /**
   * Sends a delivery again (as soon as a delivery pass runs), with the same webhook-id. A delivery
   * in flight right now is refused (CONFLICT): at most one attempt of an event is in flight.
   */
  async redeliver(ctx: RequestContext, deliveryId: string): Promise<WebhookDeliveryView> {
    if (!/^\d{1,20}$/.test(deliveryId))
      throw new ValidationError('deliveryId must be a delivery id', { field: 'deliveryId' });
    const [found] = await this.db.query(
      `SELECT e.enabled FROM mod_mikrotikvpn_webhook_deliveries d JOIN mod_mikrotikvpn_webhook_endpoints e ON e.id = d.endpoint_id WHERE d.id = ?`,
      [deliveryId],
    );
    if (!found) throw new NotFoundError('Webhook delivery', deliveryId);
    if (Number(found.enabled) !== 1)
      throw new ConflictError(`The endpoint of delivery ${deliveryId} is disabled: enable it first`);
    const result: { affectedRows: number } = await this.db.query(
      `UPDATE mod_mikrotikvpn_webhook_deliveries
          SET status = 'PENDING', next_attempt_at = UTC_TIMESTAMP(3), lease_owner = NULL
        WHERE id = ? AND NOT (status = 'IN_FLIGHT' AND next_attempt_at > UTC_TIMESTAMP(3))`,
      [deliveryId],
    );
    if (!result.affectedRows) throw new ConflictError(`Delivery ${deliveryId} is being attempted right now`);
    const [row] = await this.db.query(`${DELIVERY_SELECT} WHERE d.id = ?`, [deliveryId]);
    await this.audit.record(ctx, {
      action: 'webhook.redeliver',
      result: 'OK',
      message: `delivery ${deliveryId} by ${actorName(ctx.actor)}`.slice(0, 200),
    });
    return toDelivery(row);
  }

  private async checkUrl(raw: string): Promise<string> {
    const url = raw.trim();
    const checked = await this.policy.check(url);
    if (!checked.ok)
      throw new ValidationError(`The webhook URL is refused: ${checked.why}`, { field: 'url' });
    return url;
  }

  private checkTypes(types: string[]): EventType[] {
    const unknown = types.filter((t) => !isEventType(t));
    if (unknown.length) {
      throw new ValidationError(
        `Unknown event type(s) ${unknown.slice(0, 5).join(', ')}; known: ${EVENT_TYPES.join(', ')}`,
        { field: 'eventTypes' },
      );
    }
    return [...new Set(types as EventType[])];
  }

  private checkDescription(text: string): string {
    if (text.length > 255)
      throw new ValidationError('description must be at most 255 characters', { field: 'description' });
    return text;
  }
}

export const DELIVERY_SELECT = `SELECT d.id, d.event_id, o.type AS event_type, d.endpoint_id, d.status, d.attempts,
       d.response_code, d.duration_ms, d.last_error, d.created_at, d.last_attempt_at, d.next_attempt_at, d.delivered_at
  FROM mod_mikrotikvpn_webhook_deliveries d JOIN mod_mikrotikvpn_outbox o ON o.id = d.event_id`;

function toEndpoint(row: EndpointRow): WebhookEndpointView {
  return {
    id: Number(row.id),
    url: row.url,
    eventTypes: row.event_types ? (row.event_types.split(',') as EventType[]) : [],
    enabled: Number(row.enabled) === 1,
    description: row.description,
    failingSince: row.failing_since,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a raw row of DELIVERY_SELECT
function toDelivery(row: Record<string, any>): WebhookDeliveryView {
  const status = row.status as DeliveryStatus;
  return {
    id: String(row.id),
    eventId: String(row.event_id),
    eventType: row.event_type,
    endpointId: Number(row.endpoint_id),
    status,
    attempts: Number(row.attempts),
    responseCode: row.response_code === null ? null : Number(row.response_code),
    durationMs: row.duration_ms === null ? null : Number(row.duration_ms),
    lastError: row.last_error,
    createdAt: row.created_at,
    lastAttemptAt: row.last_attempt_at,
    nextAttemptAt: status === 'PENDING' ? row.next_attempt_at : null,
    deliveredAt: row.delivered_at,
  };
}
