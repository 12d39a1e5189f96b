import type { EventOutbox, EventScope } from './outbox.service';
import type { EventType, PublishedEvent } from './event-types';

export interface StreamOptions {
  /** Resume after this event id (the last one received); none: from now on. */
  after: bigint | null;
  types?: readonly EventType[];
  pollMs: number;
  /**
   * Asked before every read: the scope the subscriber may see now. It throws to end the stream (a
   * client token that expired or was revoked meanwhile).
   */
  scope: () => Promise<EventScope>;
}

/** Rows read per poll. */
const PAGE = 500;

/**
 * The events of the outbox as a stream, read by polling (subscriptions survive a restart of the
 * server: the client resumes with the last id it got). Ids are given in insert order but commit in
 * commit order, so a transaction still open may commit a smaller id later: the resume point only
 * moves past events old enough that no open transaction can precede them ("settled", by the
 * database's clock), and the newer ones already given are remembered so none is given twice.
 */
export async function* streamEvents(
  outbox: EventOutbox,
  options: StreamOptions,
): AsyncGenerator<PublishedEvent> {
  let low = options.after ?? (await outbox.lastId());
  const given = new Set<string>();
  for (;;) {
    const scope = await options.scope();
    const rows = await outbox.after(low, scope, { types: options.types, limit: PAGE });
    let settledPrefix = true;
    for (const row of rows) {
      if (!given.has(row.id)) {
        given.add(row.id);
        const { settled: _settled, ...event } = row;
        yield event;
      }
      if (settledPrefix && row.settled) low = BigInt(row.id);
      else settledPrefix = false;
    }
    for (const id of given) if (BigInt(id) <= low) given.delete(id);
    if (rows.length < PAGE || !settledPrefix) await new Promise((r) => setTimeout(r, options.pollMs));
  }
}
