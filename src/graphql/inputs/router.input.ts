import { Field, InputType, Int } from 'type-graphql';
import type { RouterSettings } from '../../services/router.service';
import { IsInt, IsOptional, Length, Matches, Max, MaxLength, Min } from 'class-validator';

/** A router, from a WHMCS server record. The password is write-only: it is never returned. */
@InputType()
export class RouterInput implements RouterSettings {
  @Field(() => Int, { description: 'The WHMCS server id (tblservers.id) this router belongs to.' })
  @IsInt()
  @Min(1)
  @Max(2147483647)
  serverId!: number;

  @Field({ nullable: true, description: 'Display name; defaults to the WHMCS server name.' })
  @IsOptional()
  @Length(1, 255)
  name?: string;

  @Field({ description: 'Address or host name of the router API.' })
  @Length(1, 255)
  @Matches(/^[A-Za-z0-9.:[\]-]+$/, { message: 'host must be an IP address or a host name' })
  host!: string;

  @Field(() => Int, { nullable: true, description: 'API port; default 8729 with TLS, 8728 without.' })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(65535)
  port?: number;

  @Field({
    nullable: true,
    defaultValue: true,
    description: 'Use api-ssl (default). Plain API only when false.',
  })
  tls!: boolean;

  @Field()
  @Length(1, 255)
  username!: string;

  @Field({ nullable: true, description: 'Required for a new router; keeps the stored one when left out.' })
  @IsOptional()
  @Length(1, 255)
  password?: string;

  @Field({ nullable: true, description: "PEM of the CA that signed the router's certificate (pinned)." })
  @IsOptional()
  @MaxLength(20000)
  caPem?: string;

  @Field({ nullable: true, description: "SHA-256 fingerprint of the router's certificate (pinned), hex." })
  @IsOptional()
  @Matches(/^([0-9A-Fa-f]{2}:?){31}[0-9A-Fa-f]{2}$/, { message: 'fingerprintSha256 must be 32 bytes of hex' })
  fingerprintSha256?: string;
}
