import { Field, ID, InputType, Int } from 'type-graphql';
import type { AccountFilter } from '../../services/vpn-account.service';
import { IsInt, IsOptional, Max, Min } from 'class-validator';
import { VpnAccountStatus } from '../../entities/own/vpn-account.entity';

@InputType()
export class VpnAccountFilter implements AccountFilter {
  @Field(() => [VpnAccountStatus], { nullable: true }) status?: VpnAccountStatus[];
  @Field(() => ID, { nullable: true }) routerId?: string;
  @Field(() => Int, { nullable: true }) @IsOptional() @IsInt() @Min(1) @Max(2147483647) productId?: number;
  @Field(() => Int, { nullable: true }) @IsOptional() @IsInt() @Min(1) @Max(2147483647) clientId?: number;
}
