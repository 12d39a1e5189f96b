import { Arg, Authorized, ID, Resolver, Root, Subscription, type ResolverData } from 'type-graphql';
import type { GraphQLContext } from '../graphql/context';
import { EventObject, toEventObject } from '../graphql/types/event.type';
import { ValidationError } from '../errors/app-errors';
import { isEventType, type EventType, type PublishedEvent } from '../services/events/event-types';
import { streamEvents } from '../services/events/event-stream';

interface EventArgs {
  after?: string | null;
  types?: string[] | null;
}

/** The subscription's stream: checked arguments, and the caller's scope asked before every read. */
function subscribe({ args, context }: ResolverData<GraphQLContext> & { args: EventArgs }) {
  if (args.after != null && !/^\d{1,20}$/.test(args.after))
    throw new ValidationError('after must be an event id', { field: 'after' });
  const unknown = (args.types ?? []).filter((t) => !isEventType(t));
  if (unknown.length)
    throw new ValidationError(`Unknown event type(s): ${unknown.slice(0, 5).join(', ')}`, { field: 'types' });
  const { actor, services } = context;
  return streamEvents(services.outbox, {
    after: args.after == null ? null : BigInt(args.after),
    types: (args.types ?? []) as EventType[],
    pollMs: services.config.eventsPollMs,
    scope: async () => {
      await context.recheck?.();
      return actor.kind === 'client' ? { all: false, serviceIds: actor.serviceIds } : { all: true };
    },
  });
}

@Resolver()
export class EventResolver {
  @Authorized('client')
  @Subscription(() => EventObject, {
    subscribe: subscribe as never,
    description:
      'Published events over graphql-ws (path /graphql; send `authorization: "Bearer <key or token>"` in connectionParams). API keys see every event, a client token only those of its services. Resume after a disconnect or a server restart with `after` = the last id received.',
  })
  events(
    @Root() event: PublishedEvent,
    @Arg('after', () => ID, { nullable: true }) _after?: string,
    @Arg('types', () => [String], { nullable: true }) _types?: string[],
  ): EventObject {
    return toEventObject(event);
  }
}
