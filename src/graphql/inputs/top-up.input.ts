import { Field, InputType, Int } from 'type-graphql';
import type { TopUpRequest } from '../../services/traffic/traffic-types';
import { Bytes } from '../scalars';
import { TopUpKind } from '../../entities/own/traffic-topup.entity';

@InputType()
export class TopUpTrafficInput implements TopUpRequest {
  @Field(() => Int) serviceId!: number;
  @Field(() => Bytes, { description: 'Exact bytes (1 GB = 10^9). Negative only for ADJUSTMENT.' })
  bytes!: bigint;
  @Field({ description: 'Unique per credit (e.g. addon + invoice): a repeated key credits nothing.' })
  idempotencyKey!: string;
  @Field(() => Int, { nullable: true }) invoiceId?: number;
  @Field({ nullable: true }) description?: string;
  @Field(() => TopUpKind, { nullable: true, defaultValue: TopUpKind.ADDON }) kind!: TopUpKind;
}
