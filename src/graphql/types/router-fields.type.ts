import { ErrorCode } from './error-code.type';
import { Field, Int, ObjectType } from 'type-graphql';
import type { AddressPoolUse } from '../../services/router.service';

@ObjectType({ description: "Addresses of the WHMCS server's address list (Assigned IP Addresses)." })
export class AddressPool implements AddressPoolUse {
  @Field(() => Int) total!: number;
  @Field(() => Int) used!: number;
  @Field(() => Int) free!: number;
  @Field(() => [String], { description: 'Lines of the address list that are not an IP address.' })
  malformedLines!: string[];
}

@ObjectType({ description: 'What the router answers right now (read live, once per router per request).' })
export class RouterStatus {
  @Field() reachable!: boolean;
  @Field(() => String, { nullable: true }) identity!: string | null;
  @Field(() => String, { nullable: true, description: 'RouterOS version, e.g. "7.16.2 (stable)".' })
  version!: string | null;
  @Field(() => Int, { nullable: true, description: 'Seconds since the router booted.' })
  uptimeSeconds!: number | null;
  @Field(() => ErrorCode, {
    nullable: true,
    description: 'ROUTER_UNREACHABLE, ROUTER_TIMEOUT, ... when not reachable.',
  })
  errorCode!: ErrorCode | null;
  @Field(() => String, { nullable: true }) error!: string | null;
}
