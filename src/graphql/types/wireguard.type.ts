import { Field, Int, ObjectType } from 'type-graphql';
import { Bytes } from '../scalars';

@ObjectType({
  description:
    "A WireGuard account's peer, with its live state read from the router (one peers print per router per request).",
})
export class WireGuardPeerStatus {
  @Field({ description: 'The router interface the peer is on (from the product).' }) interface!: string;
  @Field({ description: "The client's public key (the private key is only in the config)." })
  publicKey!: string;
  @Field({ description: 'host:port the client connects to.' }) endpoint!: string;
  @Field({ description: 'A handshake within the last 3 minutes (WireGuard rekeys every 2).' })
  online!: boolean;
  @Field(() => Date, {
    nullable: true,
    description: 'Null before the first handshake, or when the router could not be read.',
  })
  lastHandshake!: Date | null;
  @Field(() => String, {
    nullable: true,
    description: 'Where the router last heard the client from (address:port).',
  })
  currentEndpoint!: string | null;
  @Field(() => Bytes, {
    nullable: true,
    description:
      "The peer's counter towards the client since the router's last restart (status only; billing uses the queue).",
  })
  downloadBytes!: bigint | null;
  @Field(() => Bytes, {
    nullable: true,
    description: "The peer's counter from the client since the router's last restart.",
  })
  uploadBytes!: bigint | null;
  @Field({ description: 'False when the router could not be read for the live fields.' }) live!: boolean;
}

@ObjectType({
  description:
    "A WireGuard account's config: a wg-quick file and the same text as a QR code. Holds the client's private key.",
})
export class WireGuardConfig {
  @Field({ description: '<username>.conf' }) fileName!: string;
  @Field({ description: 'The wg-quick file.' }) text!: string;
  @Field({ description: 'The same text as an SVG QR code (scan with the WireGuard app).' }) qrSvg!: string;
}

@ObjectType({
  description: 'A WireGuard interface of a router (for the product setting and Test Connection).',
})
export class WireGuardInterfaceInfo {
  @Field() name!: string;
  @Field(() => Int) listenPort!: number;
  @Field(() => Int) mtu!: number;
  @Field() publicKey!: string;
  @Field() running!: boolean;
}
