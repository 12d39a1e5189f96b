import { Field, ID, InputType, Int, ObjectType } from 'type-graphql';
import type { PublishedEvent } from '../../services/events/event-types';

@ObjectType('EventPayload', {
  description:
    'What an event is about: ids, statuses, byte amounts as decimal strings (exact), never a secret. Fields that do not apply to the type are null.',
})
export class EventPayloadType {
  @Field(() => Int, { nullable: true }) accountId?: number;
  @Field(() => Int, { nullable: true, description: 'The WHMCS service id (tblhosting.id).' })
  serviceId?: number;
  @Field(() => Int, { nullable: true }) clientId?: number;
  @Field(() => Int, { nullable: true }) routerId?: number;
  @Field(() => Int, { nullable: true }) endpointId?: number;
  @Field(() => String, { nullable: true, description: 'The account status after the change.' })
  status?: string;
  @Field(() => String, { nullable: true }) previousStatus?: string;
  @Field(() => String, { nullable: true, description: 'Bytes credited, as a decimal string.' })
  bytes?: string;
  @Field(() => String, { nullable: true, description: 'The balance after the change, in bytes.' })
  balanceBytes?: string;
  @Field(() => String, {
    nullable: true,
    description: 'traffic.threshold_reached: the balance below which the threshold counts, in bytes.',
  })
  thresholdBytes?: string;
  @Field(() => String, {
    nullable: true,
    description: 'traffic.threshold_reached: the threshold as the product setting writes it (80%, 1 GB).',
  })
  threshold?: string;
  @Field(() => String, { nullable: true, description: 'CYCLE, ADDON or ADJUSTMENT.' }) kind?: string;
  @Field(() => String, { nullable: true }) topUpId?: string;
  @Field(() => String, { nullable: true }) errorCode?: string;
  @Field(() => String, { nullable: true }) message?: string;
}

@ObjectType('Event', {
  description:
    'A published event, as sent to webhooks (the body is {id, type, timestamp, data}) and subscriptions.',
})
export class EventObject {
  @Field(() => ID, {
    description: 'Increasing; the webhook-id header; pass the last one as `after` to resume.',
  })
  id!: string;
  @Field({
    description:
      'account.created, account.suspended, account.unsuspended, account.terminated, account.limited, account.restored, account.throttled, traffic.threshold_reached, traffic.credited, router.unreachable, router.recovered, collection.failed, webhook.failing',
  })
  type!: string;
  @Field(() => Date, { description: "The database's clock when the change committed." }) at!: Date;
  @Field(() => EventPayloadType) payload!: EventPayloadType;
}

export function toEventObject(event: PublishedEvent): EventObject {
  return { id: event.id, type: event.type, at: new Date(event.at), payload: event.payload };
}

@ObjectType('WebhookEndpoint')
export class WebhookEndpointObject {
  @Field(() => Int) id!: number;
  @Field() url!: string;
  @Field(() => [String], { description: 'Event types sent; empty = every type.' }) eventTypes!: string[];
  @Field() enabled!: boolean;
  @Field() description!: string;
  @Field({ description: 'A delivery gave up after its retry window; cleared by the next success.' })
  failing!: boolean;
  @Field(() => Date, { nullable: true }) failingSince!: Date | null;
  @Field(() => Date) createdAt!: Date;
  @Field(() => Date) updatedAt!: Date;
}

@ObjectType('WebhookEndpointSecret', { description: 'An endpoint and its signing secret, shown this once.' })
export class WebhookEndpointSecret {
  @Field(() => WebhookEndpointObject) endpoint!: WebhookEndpointObject;
  @Field({ description: 'Standard Webhooks secret (whsec_...): verify signatures with it. Not shown again.' })
  secret!: string;
}

@ObjectType('WebhookDelivery', { description: "One event's delivery to one endpoint: the delivery log." })
export class WebhookDeliveryObject {
  @Field(() => ID) id!: string;
  @Field(() => ID) eventId!: string;
  @Field() eventType!: string;
  @Field(() => Int) endpointId!: number;
  @Field({ description: 'PENDING, IN_FLIGHT, DELIVERED or FAILED (gave up).' }) status!: string;
  @Field(() => Int) attempts!: number;
  @Field(() => Int, { nullable: true }) responseCode!: number | null;
  @Field(() => Int, { nullable: true }) durationMs!: number | null;
  @Field(() => String, { nullable: true }) lastError!: string | null;
  @Field(() => Date) createdAt!: Date;
  @Field(() => Date, { nullable: true }) lastAttemptAt!: Date | null;
  @Field(() => Date, { nullable: true }) nextAttemptAt!: Date | null;
  @Field(() => Date, { nullable: true }) deliveredAt!: Date | null;
}

@InputType()
export class CreateWebhookEndpointInput {
  @Field({ description: 'https:// (at most 2048 characters); private addresses are refused.' }) url!: string;
  @Field(() => [String], { nullable: true, description: 'Event types to send; none = all.' })
  eventTypes?: string[];
  @Field({ nullable: true }) enabled?: boolean;
  @Field({ nullable: true }) description?: string;
}

@InputType()
export class UpdateWebhookEndpointInput {
  @Field(() => Int) id!: number;
  @Field({ nullable: true }) url?: string;
  @Field(() => [String], { nullable: true }) eventTypes?: string[];
  @Field({ nullable: true }) enabled?: boolean;
  @Field({ nullable: true }) description?: string;
}
