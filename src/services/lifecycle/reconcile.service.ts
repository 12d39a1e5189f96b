import { Not, type DataSource } from 'typeorm';
import { retryTransaction } from '../../db/retry';
import { VpnAccountEntity, VpnAccountStatus } from '../../entities/own/vpn-account.entity';
import { RouterEntity } from '../../entities/own/router.entity';
import { WhmcsProduct } from '../../entities/whmcs/whmcs-product.entity';
import type { RequestContext } from '../../context/request-context';
import type {
  RouterGateway,
  PppSecret,
  SimpleQueue,
  ActiveSession,
  RouterTarget,
  WireGuardInterface,
  WireGuardPeer,
} from '../../router';
import { VpnProtocol } from '../../entities/own/vpn-account.entity';
import type { WireGuardService } from '../wireguard/wireguard.service';
import type { SessionLog } from '../sessions/session-log.service';
import { AppError, RouterError } from '../../errors/app-errors';
import { ErrorCode } from '../../errors/error-code';
import { readProductSettings, type ProductSettings } from '../../product/product-settings';
import type { RouterService } from '../router.service';
import type { EventService } from '../event.service';
import { MODULE_NAME } from '../product.service';
import { LockBusyError, type NamedLocks } from '../../db/named-lock';
import { desiredAccount, desiredStatus, ownPrefixes, queueName, usedUpReason } from './desired-state';
import { attachPolicies } from '../product-policy-store';
import { addressInTarget } from './queue-order';
import { planAccount, type ObservedAccount, type RouterStep } from './router-plan';
import { applyPlan } from './router-apply';
import type { RouterRemovals } from './router-removal';
import { PENDING_TERMINATE, serviceLockName, type VpnLifecycleService } from './vpn-lifecycle.service';

/** One difference reconcile found, and what it did about it. */
export interface ReconcileAction {
  serviceId: number | null;
  routerId: string;
  /** SECRET_CREATED, SECRET_UPDATED, SECRET_DISABLED, SESSION_ENDED, QUEUE_CREATED, ... (see STEP_KIND) */
  kind: string;
  detail: string;
}

export interface ReconcileReport {
  routersChecked: number;
  accountsChecked: number;
  repaired: number;
  actions: ReconcileAction[];
}

/** How long reconcile waits for a service that a mutation is working on before skipping it. */
const LOCK_WAIT_SECONDS = 2;

/** What one router holds, read once per reconcile pass. */
interface RouterSnapshot {
  target: RouterTarget;
  secretByName: Map<string, PppSecret>;
  secretById: Map<string, PppSecret>;
  queueByName: Map<string, SimpleQueue>;
  queueById: Map<string, SimpleQueue>;
  /** In router order: the first matching queue takes a packet. */
  queues: SimpleQueue[];
  sessionsByName: Map<string, ActiveSession[]>;
  peerByKey: Map<string, WireGuardPeer>;
  peerById: Map<string, WireGuardPeer>;
  wgInterfaces: WireGuardInterface[];
}

/** The report's word for each kind of router step. */
const STEP_KIND: Record<RouterStep['kind'], string> = {
  'disable-secret': 'SECRET_DISABLED',
  'end-sessions': 'SESSION_ENDED',
  'enable-secret': 'SECRET_UPDATED',
  'add-secret': 'SECRET_CREATED',
  'update-secret': 'SECRET_UPDATED',
  'add-queue': 'QUEUE_CREATED',
  'update-queue': 'QUEUE_UPDATED',
  'remove-secret': 'SECRET_REMOVED',
  'disable-peer': 'PEER_DISABLED',
  'enable-peer': 'PEER_UPDATED',
  'add-peer': 'PEER_CREATED',
  'update-peer': 'PEER_UPDATED',
  'remove-peer': 'PEER_REMOVED',
};

/**
 * Level-triggered repair: compares every live account with its router and makes the router match
 * the database, with the same plan the lifecycle actions use (router-plan.ts) — so a product
 * setting edited in WHMCS (prefix, profile, service, speed) reaches existing accounts here, and what
 * was changed is reported. Each router is read once (secrets, queues, sessions: one print each);
 * secrets that carry one of our comment prefixes but belong to no live account are reported, never
 * touched. Removals left by moves while a router was away are finished first.
 */
export class ReconcileService {
  constructor(
    private readonly db: DataSource,
    private readonly routers: RouterService,
    private readonly gateway: RouterGateway,
    private readonly events: EventService,
    private readonly lifecycle: VpnLifecycleService,
    private readonly removals: RouterRemovals,
    private readonly locks: NamedLocks,
    private readonly wireguard: WireGuardService,
    private readonly sessions: SessionLog,
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
    const settingsById = await attachPolicies(
      this.db,
      new Map(products.map((p) => [p.id, readProductSettings(p.configOptions())])),
    );
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
    const act = (serviceId: number | null, kind: string, detail: string, repaired = true) => {
      const action: ReconcileAction = { serviceId, routerId: String(router.id), kind, detail };
      report.actions.push(action);
      if (repaired) report.repaired++;
    };
    // Objects a move left here while the router was away: bill what they counted, then remove them.
    for (const r of await this.removals.finishPending(ctx, router, settingsById)) {
      act(r.serviceId, r.ok ? 'REMOVAL_FINISHED' : 'REMOVAL_FAILED', r.detail, r.ok);
    }

    const target = this.routers.target(router);
    // Peers and interfaces only where WireGuard accounts are (or were): PPP routers read as before.
    const wg = accounts.some((a) => a.protocol === VpnProtocol.WIREGUARD || a.peerRosId);
    const [secrets, queues, sessions, peers, wgInterfaces] = await Promise.all([
      this.gateway.listPppSecrets(target),
      this.gateway.listSimpleQueues(target),
      this.gateway.listActiveSessions(target),
      wg ? this.gateway.listWireGuardPeers(target) : Promise.resolve([]),
      wg ? this.gateway.listWireGuardInterfaces(target) : Promise.resolve([]),
    ]);
    const sessionsByName = new Map<string, ActiveSession[]>();
    for (const s of sessions) sessionsByName.set(s.name, [...(sessionsByName.get(s.name) ?? []), s]);
    const snapshot: RouterSnapshot = {
      target,
      secretByName: new Map(secrets.map((s) => [s.name, s])),
      secretById: new Map(secrets.map((s) => [s.id, s])),
      queueByName: new Map(queues.map((q) => [q.name, q])),
      queueById: new Map(queues.map((q) => [q.id, q])),
      queues,
      sessionsByName,
      peerByKey: new Map(peers.map((p) => [p.publicKey, p])),
      peerById: new Map(peers.map((p) => [p.id, p])),
      wgInterfaces,
    };

    // Why sessions the collection found gone ended, as the router kept it on each secret.
    await this.sessions.applyDisconnectReasons(
      router.id,
      accounts.flatMap((account) => {
        const secret =
          (account.secretRosId && snapshot.secretById.get(account.secretRosId)) ||
          snapshot.secretByName.get(account.username);
        return secret?.lastDisconnectReason
          ? [
              {
                accountId: account.id,
                reason: secret.lastDisconnectReason,
                callerId: secret.lastCallerId ?? null,
              },
            ]
          : [];
      }),
    );

    const ours = new Set<string>();
    for (const account of accounts) {
      report.accountsChecked++;
      ours.add(account.username);
      if (account.secretRosId)
        ours.add(snapshot.secretById.get(account.secretRosId)?.name ?? account.username);
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
          await this.reconcileAccount(ctx, router, fresh, settingsById.get(fresh.productId), snapshot, act);
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
        // So does a setting that cannot be applied (a WireGuard interface the router lacks).
        const refused =
          (error instanceof RouterError && error.code === ErrorCode.ROUTER_ERROR) ||
          (error instanceof AppError &&
            (error.code === ErrorCode.VALIDATION || error.code === ErrorCode.ROUTER_FEATURE_MISSING));
        if (!refused) throw error;
        act(account.serviceId, 'ACCOUNT_FAILED', error.message, false);
      }
    }

    // Peers with our prefix that no live account owns (by key or id): reported, never touched.
    const ourPeers = new Set(accounts.flatMap((a) => [a.wgPublicKey, a.peerRosId].filter(Boolean)));
    for (const peer of peers) {
      if (ourPeers.has(peer.publicKey) || ourPeers.has(peer.id) || !peer.comment) continue;
      if (prefixes.some((p) => peer.comment!.startsWith(p))) {
        act(
          null,
          'FOREIGN_PEER',
          `WireGuard peer ${peer.allowedAddress || peer.id} on ${peer.interface} (comment "${peer.comment}") carries our prefix but belongs to no live account; left untouched`,
          false,
        );
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
    ctx: RequestContext,
    router: RouterEntity,
    account: VpnAccountEntity,
    settings: ProductSettings | undefined,
    snapshot: RouterSnapshot,
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
    const prefixes = ownPrefixes(account, settings);
    if (prefixes.length !== account.commentPrefixes.length) {
      // Remembered before the router is touched: a crash half-way never makes our objects foreign.
      account.commentPrefixes = prefixes;
      await this.db.getRepository(VpnAccountEntity).update({ id: account.id }, { commentPrefixes: prefixes });
    }
    const observed: ObservedAccount = {
      secret:
        snapshot.secretByName.get(account.username) ??
        (account.secretRosId ? (snapshot.secretById.get(account.secretRosId) ?? null) : null),
      queue:
        snapshot.queueByName.get(queueName(account.serviceId)) ??
        (account.queueRosId ? (snapshot.queueById.get(account.queueRosId) ?? null) : null),
      sessions: snapshot.sessionsByName.get(account.username) ?? [],
      peer:
        (account.wgPublicKey ? snapshot.peerByKey.get(account.wgPublicKey) : undefined) ??
        (account.peerRosId ? (snapshot.peerById.get(account.peerRosId) ?? null) : null),
    };
    const wg =
      account.protocol === VpnProtocol.WIREGUARD
        ? await this.wireguard.desiredPeer(
            account,
            snapshot.target,
            router.name,
            settings,
            observed.peer,
            snapshot.wgInterfaces,
          )
        : null;
    const want = desiredAccount(account, settings, wg?.peer ?? null);
    const plan = planAccount(want, observed);
    for (const conflict of plan.conflicts) {
      act(
        account.serviceId,
        conflict.startsWith('a PPP secret') ? 'SECRET_CONFLICT' : 'QUEUE_CONFLICT',
        conflict,
        false,
      );
    }
    const result = await applyPlan(this.gateway, snapshot.target, plan, {
      secretRosId: plan.owned.secretId ?? account.secretRosId,
      queueRosId: plan.owned.queueId ?? account.queueRosId,
      peerRosId: plan.owned.peerId ?? account.peerRosId,
    });
    for (const { step, detail } of result.done) {
      act(account.serviceId, STEP_KIND[step.kind], `${account.username}: ${detail}`);
    }
    if (wg?.problem) result.problems.push(wg.problem);
    if (result.sessionsEnded)
      await this.sessions.closeForAction(
        this.db,
        account.id,
        this.lifecycle.endReason('reconcile', desiredStatus(account, settings.policy)),
      );
    for (const problem of result.problems) act(account.serviceId, 'APPLY_FAILED', problem, false);

    // A queue above ours that also matches the address would take the traffic: we would bill nothing.
    const ourIndex = snapshot.queues.findIndex((q) => q.name === want.queueName);
    const shadow = snapshot.queues
      .slice(0, ourIndex < 0 ? snapshot.queues.length : ourIndex)
      .find((q) => !q.disabled && (q.dynamic || addressInTarget(account.address, q.target)));
    if (shadow) {
      act(
        account.serviceId,
        'QUEUE_SHADOWED',
        `queue "${shadow.name}" sits above ${want.queueName} and takes its traffic: move it below, or remove the profile's rate-limit`,
        false,
      );
    }
    const wasPending = account.status === VpnAccountStatus.PENDING;
    const from = account.status;
    const status = desiredStatus(account, settings.policy);
    const problem = result.problems.join('; ').slice(0, 500) || null;
    const reason = result.passwordReset
      ? 'secret was re-created: set the password again (WHMCS: Change Password)'
      : status === VpnAccountStatus.SUSPENDED
        ? account.statusReason
        : status === VpnAccountStatus.LIMITED || status === VpnAccountStatus.THROTTLED
          ? usedUpReason(status)
          : wasPending
            ? null
            : account.statusReason;
    if (
      status !== account.status ||
      reason !== account.statusReason ||
      problem !== account.routerProblem ||
      result.secretRosId !== account.secretRosId ||
      result.queueRosId !== account.queueRosId ||
      result.peerRosId !== account.peerRosId
    ) {
      Object.assign(account, {
        status,
        statusReason: reason,
        pendingAction: null,
        routerProblem: problem,
        secretRosId: result.secretRosId,
        queueRosId: result.queueRosId,
        peerRosId: result.peerRosId,
      });
      // Database-only, after the router work: run again if InnoDB picks it as a deadlock victim.
      await retryTransaction(
        () =>
          this.db.transaction(async (manager) => {
            await this.lifecycle.saveRouterSide(manager, account);
            await this.lifecycle.announceStatus(manager, ctx, account, from);
          }),
        { lockWaitTimeouts: false },
      );
    }
    if (wasPending) act(account.serviceId, 'PENDING_FINISHED', `status now ${status}`);
  }
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
