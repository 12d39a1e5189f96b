import { Field, InputType, Int } from 'type-graphql';
import type { CreateAccountRequest } from '../../services/lifecycle/vpn-lifecycle.service';

/** What WHMCS knows when it creates a service's account (CreateAccount). */
@InputType()
export class CreateVpnAccountInput implements CreateAccountRequest {
  @Field(() => Int, { description: 'tblhosting.id' }) serviceId!: number;
  @Field(() => Int, { description: 'tblservers.id' }) serverId!: number;
  @Field(() => Int, { description: 'tblproducts.id' }) productId!: number;
  @Field(() => String, {
    nullable: true,
    description:
      "PPP user name: 1-64 letters, digits, dot, dash, underscore or @. Empty or left out: the server picks one that is free in WHMCS and on the router (the account's username says which).",
  })
  username?: string | null;
  @Field({ description: 'PPP password: 1-128 printable ASCII characters. Never stored by the server.' })
  password!: string;
  @Field({
    description:
      'WHMCS billing cycle: Monthly, Quarterly, Semi-Annually, Annually, Biennially, Triennially, One Time, Free Account.',
  })
  billingCycle!: string;
}
