import type { DataSource, EntityManager } from 'typeorm';
import { EventEntity } from '../entities/own/event.entity';
import { actorName, type RequestContext } from '../context/request-context';

export interface EventInput {
  action: string;
  result: 'OK' | 'FAILED';
  accountId?: number | null;
  serviceId?: number | null;
  routerId?: number | null;
  message?: string | null;
}

/** The audit trail: who did what to which account or router, and how it ended. */
export class EventService {
  constructor(private readonly db: DataSource) {}

  async record(
    ctx: RequestContext,
    event: EventInput,
    manager: EntityManager = this.db.manager,
  ): Promise<void> {
    await manager.insert(EventEntity, {
      // The database's clock: events of several processes are ordered by one clock.
      at: () => 'UTC_TIMESTAMP(3)',
      actor: actorName(ctx.actor).slice(0, 128),
      action: event.action,
      result: event.result,
      accountId: event.accountId ?? null,
      serviceId: event.serviceId ?? null,
      routerId: event.routerId ?? null,
      message: event.message ? event.message.slice(0, 1000) : null,
    });
  }
}
