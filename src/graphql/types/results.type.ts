import { Field, InterfaceType, ObjectType, createUnionType, registerEnumType } from 'type-graphql';
import { ErrorCode } from './error-code.type';
import { VpnAccountEntity } from '../../entities/own/vpn-account.entity';
import { TrafficTopUpType } from './traffic.type';

/**
 * Expected outcomes a caller branches on are results, not errors whose message is parsed (Vendure's
 * ErrorResult style): a union of the success type and these.
 */
@InterfaceType({ description: 'An expected outcome that is not the success type, with a stable code.' })
export abstract class ErrorResult {
  @Field(() => ErrorCode) errorCode!: ErrorCode;
  @Field() message!: string;
}

@ObjectType({
  implements: ErrorResult,
  description: 'The service never had a VPN account: nothing to remove.',
})
export class NothingToTerminate extends ErrorResult {}

@ObjectType({
  implements: ErrorResult,
  description: "The addon is not one of this module's traffic addons: nothing to credit.",
})
export class NotATrafficAddon extends ErrorResult {}

export enum AddonEvent {
  ACTIVATION = 'ACTIVATION',
  RENEWAL = 'RENEWAL',
}
registerEnumType(AddonEvent, {
  name: 'AddonEvent',
  description: "Which of WHMCS's addon events credits it.",
});

export const TerminateVpnServiceResult = createUnionType({
  name: 'TerminateVpnServiceResult',
  types: () => [VpnAccountEntity, NothingToTerminate] as const,
  resolveType: (value) => (value instanceof VpnAccountEntity ? VpnAccountEntity : NothingToTerminate),
});

export const AddonCreditResult = createUnionType({
  name: 'AddonCreditResult',
  types: () => [TrafficTopUpType, NotATrafficAddon] as const,
  resolveType: (value) => ('errorCode' in value ? NotATrafficAddon : TrafficTopUpType),
});

export function nothingToTerminate(serviceId: number): NothingToTerminate {
  return Object.assign(new NothingToTerminate(), {
    errorCode: ErrorCode.NOT_FOUND,
    message: `Service ${serviceId} has no VPN account`,
  });
}

export function notATrafficAddon(hostingAddonId: number): NotATrafficAddon {
  return Object.assign(new NotATrafficAddon(), {
    errorCode: ErrorCode.VALIDATION,
    message: `Hosting addon ${hostingAddonId} is not a traffic addon of this module`,
  });
}
