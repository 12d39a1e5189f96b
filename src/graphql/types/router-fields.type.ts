import { Field, Int, ObjectType } from 'type-graphql';

@ObjectType({ description: "Addresses of the WHMCS server's address list (Assigned IP Addresses)." })
export class AddressPool {
  @Field(() => Int) total!: number;
  @Field(() => Int) used!: number;
  @Field(() => Int) free!: number;
  @Field(() => [String], { description: 'Lines of the address list that are not an IP address.' })
  malformedLines!: string[];
}
