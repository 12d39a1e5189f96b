import { Field, InputType, Int } from 'type-graphql';

/** A product's quota policy as the admin types it (the settings manifest's `policySettings`). */
@InputType()
export class ProductPolicyInput {
  @Field(() => Int, { description: 'tblproducts.id' }) productId!: number;
  @Field({ description: 'cutoff, throttle or overage.' }) onExhausted!: string;
  @Field(() => String, {
    nullable: true,
    description: 'throttle: Mbit/s towards the customer ("1", "0.5"); not above the product speed.',
  })
  throttleDownloadMbps?: string | null;
  @Field(() => String, {
    nullable: true,
    description: 'throttle: Mbit/s from the customer; not above the product speed.',
  })
  throttleUploadMbps?: string | null;
  @Field(() => String, { nullable: true, description: 'throttle: the WHMCS email template of the notice.' })
  throttledTemplate?: string | null;
  @Field(() => String, {
    nullable: true,
    description:
      'overage: GB of a billing cycle at which the account is cut off anyway ("0" or empty = none).',
  })
  overageCeilingGb?: string | null;
  @Field(() => String, { nullable: true, description: 'keep (the default) or carry.' })
  rollover?: string | null;
  @Field(() => String, {
    nullable: true,
    description:
      'carry: GB of carried-over traffic an account holds at most (empty = no cap; "0" = nothing is carried).',
  })
  rolloverMaxGb?: string | null;
  @Field(() => String, {
    nullable: true,
    description: 'carry: further billing cycles carried-over traffic lasts, 1-36 (default 1).',
  })
  rolloverCycles?: string | null;
}
