import { Arg, Authorized, Ctx, ID, Int, Mutation, Query, Resolver } from 'type-graphql';
import type { GraphQLContext } from '../graphql/context';
import {
  CreateWebhookEndpointInput,
  UpdateWebhookEndpointInput,
  WebhookDeliveryObject,
  WebhookEndpointObject,
  WebhookEndpointSecret,
} from '../graphql/types/event.type';
import type { WebhookEndpointView } from '../services/events/webhook.service';

const shape = (e: WebhookEndpointView): WebhookEndpointObject => ({ ...e, failing: e.failingSince !== null });

/** Webhook endpoints and their delivery log: admin keys only. */
@Resolver()
export class WebhookResolver {
  @Authorized('admin')
  @Query(() => [WebhookEndpointObject])
  async webhookEndpoints(@Ctx() ctx: GraphQLContext) {
    return (await ctx.services.webhooks.list()).map(shape);
  }

  @Authorized('admin')
  @Query(() => [WebhookDeliveryObject], { description: "An endpoint's deliveries, newest first." })
  webhookDeliveries(
    @Arg('endpointId', () => Int) endpointId: number,
    @Ctx() ctx: GraphQLContext,
    @Arg('first', () => Int, { nullable: true }) first?: number,
    @Arg('before', () => ID, { nullable: true, description: 'A delivery id: older ones only.' })
    before?: string,
  ) {
    return ctx.services.webhooks.deliveries(endpointId, first ?? 50, before);
  }

  @Authorized('admin')
  @Mutation(() => WebhookEndpointSecret, {
    description: 'A new endpoint; its signing secret is in the answer and never shown again.',
  })
  async createWebhookEndpoint(@Arg('input') input: CreateWebhookEndpointInput, @Ctx() ctx: GraphQLContext) {
    const { endpoint, secret } = await ctx.services.webhooks.create(ctx, input);
    return { endpoint: shape(endpoint), secret };
  }

  @Authorized('admin')
  @Mutation(() => WebhookEndpointObject)
  async updateWebhookEndpoint(@Arg('input') input: UpdateWebhookEndpointInput, @Ctx() ctx: GraphQLContext) {
    const { id, ...change } = input;
    return shape(await ctx.services.webhooks.update(ctx, id, change));
  }

  @Authorized('admin')
  @Mutation(() => WebhookEndpointSecret, {
    description: 'A new signing secret (shown this once); the old one stops.',
  })
  async rotateWebhookSecret(@Arg('id', () => Int) id: number, @Ctx() ctx: GraphQLContext) {
    const { endpoint, secret } = await ctx.services.webhooks.rotateSecret(ctx, id);
    return { endpoint: shape(endpoint), secret };
  }

  @Authorized('admin')
  @Mutation(() => Boolean, { description: 'Removes the endpoint and its delivery log.' })
  deleteWebhookEndpoint(@Arg('id', () => Int) id: number, @Ctx() ctx: GraphQLContext) {
    return ctx.services.webhooks.delete(ctx, id);
  }

  @Authorized('admin')
  @Mutation(() => WebhookDeliveryObject, {
    description: 'Sends a delivery again, with the same webhook-id (receivers dedupe by it).',
  })
  redeliverWebhook(@Arg('deliveryId', () => ID) deliveryId: string, @Ctx() ctx: GraphQLContext) {
    return ctx.services.webhooks.redeliver(ctx, deliveryId);
  }
}
