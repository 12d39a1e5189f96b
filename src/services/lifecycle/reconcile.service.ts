import { Not, type DataSource } from 'typeorm';
import { VpnAccountEntity, VpnAccountStatus } from '../../entities/own/vpn-account.entity';
import { RouterEntity } from '../../entities/own/router.entity';
import { WhmcsProduct } from '../../entities/whmcs/whmcs-product.entity';
import type { RequestContext } from '../../context/request-context';
import type { RouterGateway, PppSecret, SimpleQueue, ActiveSession, RouterTarget } from '../../router';
import type { ReconcileAction, ReconcileReport } from '../../graphql/types/lifecycle.type';
import { AppError, RouterError } from '../../errors/app-errors';
import { ErrorCode } from '../../errors/error-code';
import { readProductSettings, type ProductSettings } from '../../product/product-settings';
import type { RouterService } from '../router.service';
import type { EventService } from '../event.service';
import { MODULE_NAME } from '../product.service';
import { LockBusyError, type NamedLocks } from '../../db/named-lock';
import { desiredStatus, placeholderPassword, queueName, queueSpec, secretSpec } from './desired-state';
import { addressInTarget } from './queue-order';
import { PENDING_TERMINATE, serviceLockName, type VpnLifecycleService } from './vpn-lifecycle.service';

/** How long reconcile waits for a service that a mutation is working on before skipping it. */
const LOCK_WAIT_SECONDS = 2;

/** What one router holds, read once per reconcile pass. */
interface RouterSnapshot {
  target: RouterTarget;
  secretByName: Map<string, PppSecret>;
  queueByName: Map<string, SimpleQueue>;
  /** In router order: the first matching queue takes a packet. */
  queues: SimpleQueue[];
  online: Set<string>;
}

/**
 * Level-triggered repair: compares every live account with its router and makes the router match
 * the database. Each router is read once (secrets, queues, sessions: one print each); secrets that
 * carry one of our comment prefixes but belong to no live account are reported, never touched.
 */
export class ReconcileService {
  constructor(
    private readonly db: DataSource,
    private readonly routers: RouterService,
    private readonly gateway: RouterGateway,
    private readonly events: EventService,
    private readonly lifecycle: VpnLifecycleService,
    private readonly locks: NamedLocks,
  ) {}

  async reconcile(
    ctx: RequestContext,
    routerId?: number,
    /** Called after each router (the CLI's progress line). */
    onProgress?: (report: ReconcileReport, routersTotal: number) => void,
  ): Promise<ReconcileReport> {
    const routers = await this.db
      .getRepository(RouterEntity)
      .find(routerId === undefined ? { order: { id: 'ASC' } } : { where: { id: routerId } });
    const products = await this.db.getRepository(WhmcsProduct).findBy({ servertype: MODULE_NAME });
    const settingsById = new Map(products.map((p) => [p.id, readProductSettings(p.configOptions())]));
    const prefixes = [...new Set([...settingsById.values()].map((s) => s.commentPrefix).filter(Boolean))];
    const report: ReconcileReport = { routersChecked: 0, accountsChecked: 0, repaired: 0, actions: [] };

    for (const router of routers) {
      const accounts = await this.db.getRepository(VpnAccountEntity).find({
        where: { routerId: router.id, status: Not(VpnAccountStatus.TERMINATED) },
        order: { id: 'ASC' },
      });
      report.routersChecked++;
      try {
        await this.reconcileRouter(ctx, router, accounts, settingsById, prefixes, report);
      } catch (error) {
        report.actions.push({
          serviceId: null,
          routerId: String(router.id),
          kind: 'ROUTER_FAILED',
          detail:
            error instanceof AppError ? `${error.code}: ${error.message}` : 'the router could not be read',
        });
      }
      onProgress?.(report, routers.length);
    }
    await this.events.record(ctx, {
      action: 'reconcile',
      result: report.actions.some((a) => a.kind === 'ROUTER_FAILED') ? 'FAILED' : 'OK',
      routerId: routerId ?? null,
      message: `${report.accountsChecked} accounts on ${report.routersChecked} routers, ${report.repaired} repaired`,
    });
    return report;
  }

  private async reconcileRouter(
    ctx: RequestContext,
    router: RouterEntity,
    accounts: VpnAccountEntity[],
    settingsById: Map<number, ProductSettings>,
    prefixes: string[],
    report: ReconcileReport,
  ) {
    const target = this.routers.target(router);
    const [secrets, queues, sessions] = await Promise.all([
      this.gateway.listPppSecrets(target),
      this.gateway.listSimpleQueues(target),
      this.gateway.listActiveSessions(target),
    ]);
    const secretByName = new Map<string, PppSecret>(secrets.map((s) => [s.name, s]));
    const queueByName = new Map<string, SimpleQueue>(queues.map((q) => [q.name, q]));
    const online = new Set(sessions.map((s: ActiveSession) => s.name));
    const snapshot: RouterSnapshot = { target, secretByName, queueByName, queues, online };
    const act = (serviceId: number | null, kind: string, detail: string, repaired = true) => {
      const action: ReconcileAction = { serviceId, routerId: String(router.id), kind, detail };
      report.actions.push(action);
      if (repaired) report.repaired++;
    };

    const ours = new Set<string>();
    for (const account of accounts) {
      report.accountsChecked++;
      ours.add(account.username);
      try {
        // Holds the service's lock like every mutation; a service busy for longer is skipped.
        await this.locks.with(serviceLockName(account.serviceId), LOCK_WAIT_SECONDS, async () => {
          const fresh = await this.db.getRepository(VpnAccountEntity).findOneBy({ id: account.id });
          if (!fresh || stateKey(fresh) !== stateKey(account)) {
            // Changed since the router was read: the snapshot may be stale for it.
            act(
              account.serviceId,
              'ACCOUNT_CHANGED',
              'changed while reconcile ran; the next pass checks it',
              false,
            );
            return;
          }
          if (fresh.pendingAction === PENDING_TERMINATE) {
            // A termination that stopped half-way is finished, never undone.
            await this.lifecycle.finishTermination(ctx, fresh);
            act(
              account.serviceId,
              'TERMINATE_FINISHED',
              `secret and queue removed; address ${fresh.address} freed`,
            );
            return;
          }
          await this.reconcileAccount(fresh, settingsById.get(fresh.productId), snapshot, act);
        });
      } catch (error) {
        if (error instanceof LockBusyError) {
          act(
            account.serviceId,
            'ACCOUNT_BUSY',
            'another operation on this service was running; skipped',
            false,
          );
          continue;
        }
        // A router that is gone fails the whole router; a refused command fails only this account.
        if (!(error instanceof RouterError) || error.code !== ErrorCode.ROUTER_ERROR) throw error;
        act(account.serviceId, 'ACCOUNT_FAILED', error.message, false);
      }
    }

    for (const secret of secrets) {
      if (ours.has(secret.name) || !secret.comment) continue;
      if (prefixes.some((p) => secret.comment!.startsWith(p))) {
        act(
          null,
          'FOREIGN_SECRET',
          `secret ${secret.name} (comment "${secret.comment}") carries our prefix but belongs to no live account; left untouched`,
          false,
        );
      }
    }
  }

  private async reconcileAccount(
    account: VpnAccountEntity,
    settings: ProductSettings | undefined,
    { target, secretByName, queueByName, queues, online }: RouterSnapshot,
    act: (serviceId: number | null, kind: string, detail: string, repaired?: boolean) => void,
  ) {
    if (!settings) {
      act(
        account.serviceId,
        'PRODUCT_MISSING',
        `product ${account.productId} is gone or no longer uses the module`,
        false,
      );
      return;
    }
    const want = secretSpec(account, settings);
    const have = secretByName.get(account.username);
    if (have && (have.comment ?? '') !== want.comment) {
      // Same name, someone else's comment: create refuses such a secret, so reconcile never takes it over.
      act(
        account.serviceId,
        'SECRET_CONFLICT',
        `secret ${account.username} carries the comment "${have.comment ?? ''}", not "${want.comment}"; left untouched (remove it, or set its comment if it is ours)`,
        false,
      );
      return;
    }
    if (!have) {
      await this.gateway.addPppSecret(target, { ...want, password: placeholderPassword() });
      act(
        account.serviceId,
        'SECRET_CREATED',
        `secret ${account.username} was missing; re-created (password must be set again)`,
      );
      await this.setStatus(
        account,
        desiredStatus(account),
        'secret was re-created: set the password again (WHMCS: Change Password)',
      );
    } else {
      const differences = secretDifferences(have, want);
      if (differences.length) {
        await this.gateway.setPppSecret(target, account.username, want);
        act(
          account.serviceId,
          want.disabled && !have.disabled ? 'SECRET_DISABLED' : 'SECRET_UPDATED',
          differences.join(', '),
        );
      }
    }
    if (want.disabled && online.has(account.username)) {
      await this.gateway.kick(target, account.username);
      act(
        account.serviceId,
        'SESSION_ENDED',
        `${account.username} was online while ${desiredStatus(account).toLowerCase()}`,
      );
    }
    const queue = queueSpec(account, settings);
    const current = queueByName.get(queueName(account.serviceId));
    if (!current) {
      await this.gateway.addSimpleQueue(target, queue);
      act(account.serviceId, 'QUEUE_CREATED', `queue ${queue.name} was missing`);
    } else if (
      !addressInTarget(account.address, current.target) ||
      BigInt(current.maxLimit.downloadBps) !== BigInt(queue.maxLimit.downloadBps) ||
      BigInt(current.maxLimit.uploadBps) !== BigInt(queue.maxLimit.uploadBps) ||
      current.comment !== queue.comment
    ) {
      await this.gateway.setSimpleQueue(target, queue.name, queue);
      act(account.serviceId, 'QUEUE_UPDATED', `queue ${queue.name} had other limits or target`);
    }
    // A queue above ours that also matches the address would take the traffic: we would bill nothing.
    const ourIndex = queues.findIndex((q) => q.name === queue.name);
    const shadow = queues
      .slice(0, ourIndex < 0 ? queues.length : ourIndex)
      .find((q) => !q.disabled && (q.dynamic || addressInTarget(account.address, q.target)));
    if (shadow) {
      act(
        account.serviceId,
        'QUEUE_SHADOWED',
        `queue "${shadow.name}" sits above ${queue.name} and takes its traffic: move it below, or remove the profile's rate-limit`,
        false,
      );
    }
    if (account.status === VpnAccountStatus.PENDING) {
      await this.setStatus(account, desiredStatus(account), null);
      act(account.serviceId, 'PENDING_FINISHED', `status now ${account.status}`);
    }
  }

  private async setStatus(account: VpnAccountEntity, status: VpnAccountStatus, reason: string | null) {
    account.status = status;
    account.statusReason = reason;
    await this.db
      .getRepository(VpnAccountEntity)
      .update({ id: account.id }, { status, statusReason: reason });
  }
}

function secretDifferences(have: PppSecret, want: ReturnType<typeof secretSpec>): string[] {
  const out: string[] = [];
  if (have.service !== want.service) out.push(`service ${have.service} → ${want.service}`);
  if (have.profile !== want.profile) out.push(`profile ${have.profile} → ${want.profile}`);
  if ((have.remoteAddress ?? null) !== (want.remoteAddress ?? null))
    out.push(`remote-address ${have.remoteAddress ?? '-'} → ${want.remoteAddress}`);
  if (have.disabled !== want.disabled) out.push(want.disabled ? 'enabled → disabled' : 'disabled → enabled');
  return out;
}

/** What decides an account's router side; if it changed after the router was read, skip the account. */
function stateKey(account: VpnAccountEntity): string {
  return [
    account.status,
    desiredStatus(account),
    account.pendingAction ?? '',
    account.productId,
    account.username,
    account.address,
  ].join('|');
}
