import { WireGuardInterfaceInfo } from './wireguard.type';
import { ErrorCode } from './error-code.type';
import { Field, Int, ObjectType } from 'type-graphql';
import type { RouterTestReport } from '../../services/router-check.service';
import type {
  ReconcileAction as ReconcileActionShape,
  ReconcileReport as ReconcileReportShape,
} from '../../services/lifecycle/reconcile.service';

@ObjectType({ description: 'The result of checking a router with the given credentials.' })
export class RouterTestResult implements RouterTestReport {
  @Field({ description: 'True when login works and nothing blocks provisioning.' }) ok!: boolean;
  @Field(() => String, { nullable: true }) identity!: string | null;
  @Field(() => String, { nullable: true }) version!: string | null;
  @Field(() => Int, { nullable: true }) uptimeSeconds!: number | null;
  @Field(() => [String], { description: 'PPP profiles on the router.' }) profiles!: string[];
  @Field(() => [WireGuardInterfaceInfo], {
    description: 'WireGuard interfaces and their listen ports (none on RouterOS 6).',
  })
  wireguardInterfaces!: WireGuardInterfaceInfo[];
  @Field(() => ErrorCode, {
    nullable: true,
    description: 'The error code when the router could not be used.',
  })
  errorCode!: ErrorCode | null;
  @Field(() => [String], { description: 'What blocks provisioning, in words an admin can act on.' })
  problems!: string[];
  @Field(() => [String], { description: 'What works but deserves attention.' }) warnings!: string[];
}

@ObjectType({ description: 'One difference reconcile found, and what it did about it.' })
export class ReconcileAction implements ReconcileActionShape {
  @Field(() => Int, { nullable: true }) serviceId!: number | null;
  @Field() routerId!: string;
  @Field({
    description:
      'e.g. SECRET_CREATED, SECRET_UPDATED, SECRET_DISABLED, QUEUE_CREATED, FOREIGN_SECRET, PEER_CREATED, PEER_UPDATED, PEER_DISABLED, FOREIGN_PEER, ROUTER_FAILED',
  })
  kind!: string;
  @Field() detail!: string;
}

@ObjectType()
export class ReconcileReport implements ReconcileReportShape {
  @Field(() => Int) routersChecked!: number;
  @Field(() => Int) accountsChecked!: number;
  @Field(() => Int) repaired!: number;
  @Field(() => [ReconcileAction]) actions!: ReconcileAction[];
}
