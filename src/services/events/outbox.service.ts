import type { DataSource, EntityManager } from 'typeorm';
import type { EventPayload, EventType, NewEvent, PublishedEvent } from './event-types';

interface OutboxRow {
  id: string;
  type: EventType;
  at: Date;
  payload: string;
  settled: number | string;
}

/** Who may read which events: everything, or only the events of some services (client tokens). */
export type EventScope = { all: true } | { all: false; serviceIds: readonly number[] };

/**
 * The outbox of published events. `emit` writes the event in the caller's transaction — so an event
 * exists if and only if the change that caused it committed — and, in the same statement pair, one
 * pending delivery for every enabled webhook endpoint whose filter takes the type.
 */
export class EventOutbox {
  constructor(private readonly db: DataSource) {}

  /** Returns the new event's id, or null when its dedupe key was used before (nothing written). */
  async emit(manager: EntityManager, event: NewEvent): Promise<string | null> {
    const { type, payload } = event;
    const result: { insertId: number | string; affectedRows: number } = await manager.query(
      `INSERT IGNORE INTO mod_mikrotikvpn_outbox (type, at, account_id, service_id, router_id, dedupe_key, payload)
       VALUES (?, UTC_TIMESTAMP(3), ?, ?, ?, ?, ?)`,
      [
        type,
        payload.accountId ?? null,
        payload.serviceId ?? null,
        payload.routerId ?? null,
        event.dedupeKey ?? null,
        JSON.stringify(payload),
      ],
    );
    if (!result.affectedRows) return null;
    const id = String(result.insertId);
    await manager.query(
      `INSERT INTO mod_mikrotikvpn_webhook_deliveries (event_id, endpoint_id, status, next_attempt_at, created_at)
       SELECT ?, e.id, 'PENDING', UTC_TIMESTAMP(3), UTC_TIMESTAMP(3)
         FROM mod_mikrotikvpn_webhook_endpoints e
        WHERE e.enabled = 1 AND (e.event_types = '' OR FIND_IN_SET(?, e.event_types) > 0)`,
      [id, type],
    );
    return id;
  }

  /** Several events in one transaction, in order. */
  async emitAll(manager: EntityManager, events: NewEvent[]): Promise<void> {
    for (const event of events) await this.emit(manager, event);
  }

  /** Emits in a transaction of its own (a change that is itself only the event: a failed collection). */
  emitNow(event: NewEvent): Promise<string | null> {
    return this.db.transaction((manager) => this.emit(manager, event));
  }

  /**
   * Events after `afterId` in id order, as `scope` may see them. `settled` tells, per row, whether it
   * is old enough (by the database's clock) that no transaction still running can commit an event
   * with a smaller id: readers advance their resume point only past settled rows.
   */
  async after(
    afterId: bigint,
    scope: EventScope,
    options: { types?: readonly EventType[]; limit?: number; settleSeconds?: number } = {},
  ): Promise<(PublishedEvent & { settled: boolean })[]> {
    const where = ['id > ?'];
    const params: unknown[] = [afterId.toString()];
    if (!scope.all) {
      if (!scope.serviceIds.length) return [];
      where.push(`service_id IN (${scope.serviceIds.map(() => '?').join(',')})`);
      params.push(...scope.serviceIds);
    }
    if (options.types?.length) {
      where.push(`type IN (${options.types.map(() => '?').join(',')})`);
      params.push(...options.types);
    }
    const settle = options.settleSeconds ?? 10;
    const rows: OutboxRow[] = await this.db.query(
      `SELECT id, type, at, payload, at < UTC_TIMESTAMP(3) - INTERVAL ${Number(settle)} SECOND AS settled
         FROM mod_mikrotikvpn_outbox WHERE ${where.join(' AND ')} ORDER BY id LIMIT ${Math.min(options.limit ?? 500, 1000)}`,
      params,
    );
    return rows.map((r) => ({ ...toEvent(r), settled: Number(r.settled) === 1 }));
  }

  /** The newest event id (a subscription without `after` starts there). */
  async lastId(): Promise<bigint> {
    const [row] = await this.db.query('SELECT COALESCE(MAX(id), 0) AS id FROM mod_mikrotikvpn_outbox');
    return BigInt(row.id);
  }

  async byId(id: bigint): Promise<PublishedEvent | null> {
    const [row] = (await this.db.query(
      'SELECT id, type, at, payload, 1 AS settled FROM mod_mikrotikvpn_outbox WHERE id = ?',
      [id.toString()],
    )) as OutboxRow[];
    return row ? toEvent(row) : null;
  }
}

function toEvent(row: OutboxRow): PublishedEvent {
  return {
    id: String(row.id),
    type: row.type,
    at: row.at,
    payload: JSON.parse(row.payload) as EventPayload,
  };
}
