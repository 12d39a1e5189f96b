import crypto from 'node:crypto';
import { In, type DataSource, type EntityManager } from 'typeorm';
import { retryTransaction } from '../../db/retry';
import { VpnAccountEntity, VpnAccountStatus, VpnProtocol } from '../../entities/own/vpn-account.entity';
import { RouterEntity } from '../../entities/own/router.entity';
import { WhmcsProduct } from '../../entities/whmcs/whmcs-product.entity';
import { WhmcsServer } from '../../entities/whmcs/whmcs-server.entity';
import { WhmcsService } from '../../entities/whmcs/whmcs-service.entity';
import { TopUpKind, TopUpReason, TrafficTopUpEntity } from '../../entities/own/traffic-topup.entity';
import {
  AppError,
  ConflictError,
  NotFoundError,
  RouterError,
  ValidationError,
} from '../../errors/app-errors';
import { ErrorCode } from '../../errors/error-code';
import {
  BILLING_CYCLES,
  readProductSettings,
  type BillingCycle,
  type ProductSettings,
} from '../../product/product-settings';
import { actorName, type RequestContext } from '../../context/request-context';
import type { RouterGateway, RouterTarget } from '../../router';
import type { NamedLocks } from '../../db/named-lock';
import { parseAddressList } from '../address-pool';
import { MODULE_NAME } from '../product.service';
import type { RouterService } from '../router.service';
import type { EventService } from '../event.service';
import type { TrafficLedger } from '../traffic/traffic-ledger.service';
import type { NotificationService } from '../traffic/notification.service';
import { requireId } from '../../common/validate';
import {
  PASSWORD_PATTERN,
  USERNAME_PATTERN,
  desiredAccount,
  desiredStatus,
  ownPrefixes,
  queueName,
  shouldBeDisabled,
  usedUpReason,
} from './desired-state';
import { attachPolicies, readPolicies } from '../product-policy-store';
import { DEFAULT_POLICY, type ProductPolicy } from '../../product/product-policy';
import { NotificationKind } from '../../entities/own/notification.entity';
import { planAccount, type ObservedAccount } from './router-plan';
import { applyPlan, type ApplyResult } from './router-apply';
import type { RouterRemovals } from './router-removal';
import { findLiveAccount, requireLiveAccount } from '../live-account';
import { loggedAction } from './logged-action';
import type { WireGuardService } from '../wireguard/wireguard.service';
import { END_REASON, type DuplicateSession, type SessionLog } from '../sessions/session-log.service';
import type { EventOutbox } from '../events/outbox.service';
import { accountRef, statusChangeEvents } from '../events/account-events';

const LOCK_WAIT_SECONDS = 30;

/** What WHMCS knows when it creates a service's account (CreateAccount). */
export interface CreateAccountRequest {
  serviceId: number;
  serverId: number;
  productId: number;
  /** Empty or absent: the server picks a free one (the result says which). */
  username?: string | null;
  /** Never stored by the server. */
  password: string;
  billingCycle: string;
}

/** `pending_action` of an account whose termination started and must be finished, never undone. */
export const PENDING_TERMINATE = 'terminate';

/** The advisory lock every change of one service's account holds (mutations, settle, reconcile). */
export function serviceLockName(serviceId: number): string {
  return `service:${serviceId}`;
}

export interface Placement {
  router: RouterEntity;
  target: RouterTarget;
  settings: ProductSettings;
}

interface ApplyOptions {
  password?: string;
  reconnectOnProfileChange?: boolean;
  /** Every router step must succeed (create); otherwise refused steps are reported and retried. */
  strict?: boolean;
}

/** Actions whose caller asked for the router change itself: a step the router refused is an error. */
const REQUESTED_CHANGES = new Set(['create', 'change-package', 'change-password', 'regenerate-keys']);

/** The billing cycle WHMCS has for the service now (tblhosting.billingcycle), checked. */
export function currentCycle(service: Pick<WhmcsService, 'id' | 'billingcycle'>): BillingCycle {
  const cycle = String(service.billingcycle ?? '').trim() as BillingCycle;
  if (!BILLING_CYCLES.includes(cycle)) {
    throw new ValidationError(
      `WHMCS service ${service.id} has the billing cycle "${service.billingcycle}", which is not one of ${BILLING_CYCLES.join(', ')}`,
      { field: 'billingcycle' },
    );
  }
  return cycle;
}

/**
 * Creates, suspends, unsuspends, terminates, re-packages, re-passwords and moves VPN accounts on the
 * router and in the database together. Every mutation of one service holds that service's advisory
 * lock, is idempotent, and leaves either the finished state or a PENDING account with the reason.
 * Every router change goes through one plan (router-plan.ts), also used by reconcile.
 */
export class VpnLifecycleService {
  constructor(
    private readonly db: DataSource,
    private readonly routers: RouterService,
    private readonly gateway: RouterGateway,
    private readonly events: EventService,
    private readonly ledger: TrafficLedger,
    private readonly locks: NamedLocks,
    private readonly notifications: NotificationService,
    private readonly removals: RouterRemovals,
    private readonly wireguard: WireGuardService,
    private readonly sessions: SessionLog,
    private readonly outbox: EventOutbox,
  ) {}

  // ---- create -------------------------------------------------------------------------------------

  @loggedAction('create')
  async create(ctx: RequestContext, input: CreateAccountRequest): Promise<VpnAccountEntity> {
    requireId('serviceId', input.serviceId);
    requireId('serverId', input.serverId);
    requireId('productId', input.productId);
    const requested = (input.username ?? '').trim();
    if (requested && !USERNAME_PATTERN.test(requested)) {
      throw new ValidationError('username must be 1-64 letters, digits, dots, dashes, underscores or @', {
        field: 'username',
      });
    }
    if (!BILLING_CYCLES.includes(input.billingCycle.trim() as BillingCycle)) {
      throw new ValidationError(`billingCycle must be one of ${BILLING_CYCLES.join(', ')}`, {
        field: 'billingCycle',
      });
    }
    const service = await this.db.getRepository(WhmcsService).findOneBy({ id: input.serviceId });
    if (!service) throw new NotFoundError('WHMCS service', input.serviceId);
    // The cycle WHMCS has now; the caller's only when WHMCS's own is not one we know.
    const cycle = BILLING_CYCLES.includes(service.billingcycle?.trim() as BillingCycle)
      ? currentCycle(service)
      : (input.billingCycle.trim() as BillingCycle);
    const settings = await this.productSettings(input.productId);
    // A WireGuard account has no password (its keys are made here); a PPP secret needs one.
    if (settings.protocol === 'ppp' && !PASSWORD_PATTERN.test(input.password)) {
      throw new ValidationError(
        'password must be 1-128 printable ASCII characters (no accents or control characters)',
        { field: 'password' },
      );
    }
    const router = await this.routerForServer(input.serverId);
    const target = this.routers.target(router);
    // A router without WireGuard, or without the product's interface, is refused before anything exists.
    if (settings.protocol === 'wireguard')
      await this.wireguard.resolveInterface(target, router.name, settings);

    return this.lockService(input.serviceId, async () => {
      let existing = await this.findLive(input.serviceId);
      if (existing?.pendingAction === PENDING_TERMINATE) {
        // A termination that stopped half-way is finished first; then the service starts anew.
        await this.finishTermination(ctx, existing);
        existing = null;
      }
      // The name asked for; else the account's own; else one the server picks (free in WHMCS and on
      // the router).
      const username = requested || existing?.username || (await this.freeUsername(router, target));
      if (existing && existing.routerId !== router.id) {
        return this.move(ctx, existing, { router, target, settings }, input, username);
      }
      if (existing) {
        // Idempotent: a repeated create returns the account, repairing the router side if needed.
        await this.applyOrPend(ctx, existing, 'create', { password: input.password });
        return existing;
      }
      const allowance = settings.trafficPerCycle.get(cycle) ?? 0n;
      const account = await this.insertPending(
        ctx,
        router,
        service,
        input,
        username,
        cycle,
        allowance,
        settings,
      );
      await this.provision(ctx, account, { router, target, settings }, input.password);
      await this.write(account, async (manager) => {
        account.status = desiredStatus(account, settings.policy);
        account.statusReason = null;
        await manager.update(
          VpnAccountEntity,
          { id: account.id },
          {
            status: account.status,
            statusReason: null,
            secretRosId: account.secretRosId,
            queueRosId: account.queueRosId,
            peerRosId: account.peerRosId,
          },
        );
        // What account.created announced: later status events start from it.
        await manager.query('UPDATE mod_mikrotikvpn_accounts SET announced_status = ? WHERE id = ?', [
          account.status,
          account.id,
        ]);
        await this.outbox.emit(manager, {
          type: 'account.created',
          payload: {
            ...accountRef(account),
            status: account.status,
            balanceBytes: String(account.balanceBytes),
          },
        });
        await this.events.record(
          ctx,
          this.event(
            'create',
            account,
            'OK',
            `address ${account.address}${account.protocol === VpnProtocol.WIREGUARD ? ', WireGuard' : ''}`,
          ),
          manager,
        );
      });
      return account;
    });
  }

  /**
   * A user name for a service whose WHMCS username is empty: `vpn` and six letters or digits (no
   * look-alikes), used by no other WHMCS service, no live account of the router and no secret on it.
   */
  private async freeUsername(router: RouterEntity, target: RouterTarget): Promise<string> {
    const alphabet = 'abcdefghjkmnpqrstuvwxyz23456789';
    for (let attempt = 0; attempt < 20; attempt++) {
      const name = `vpn${Array.from({ length: 6 }, () => alphabet[crypto.randomInt(alphabet.length)]).join('')}`;
      const [taken] = await this.db.query(
        `SELECT 1 AS x FROM tblhosting WHERE username = ?
          UNION ALL SELECT 1 FROM mod_mikrotikvpn_accounts WHERE router_id = ? AND live_username = ? LIMIT 1`,
        [name, router.id, name],
      );
      if (!taken && !(await this.gateway.findPppSecret(target, name))) return name;
    }
    throw new ConflictError('No free user name found after 20 tries; set a username on the service in WHMCS');
  }

  /**
   * Inserts the account as PENDING with the lowest free address of its router (under the router's row
   * lock) and its first cycle's allowance, so the router is provisioned from the final picture.
   */
  private async insertPending(
    ctx: RequestContext,
    router: RouterEntity,
    service: WhmcsService,
    input: CreateAccountRequest,
    username: string,
    cycle: BillingCycle,
    allowance: bigint,
    settings: ProductSettings,
  ): Promise<VpnAccountEntity> {
    try {
      return await this.write(null, async (manager) => {
        const address = await this.freeAddress(manager, router);
        const account = manager.getRepository(VpnAccountEntity).create({
          serviceId: input.serviceId,
          clientId: service.userid,
          productId: input.productId,
          routerId: router.id,
          username,
          address,
          protocol: settings.protocol === 'wireguard' ? VpnProtocol.WIREGUARD : VpnProtocol.PPP,
          ...(settings.protocol === 'wireguard'
            ? this.wireguard.newKeys()
            : { wgPublicKey: null, wgPrivateKey: null, wgPresharedKey: null }),
          peerRosId: null,
          status: VpnAccountStatus.PENDING,
          statusReason: 'being created on the router',
          pendingAction: null,
          suspended: false,
          billingCycle: cycle,
          balanceBytes: '0',
          cycleAllowanceBytes: allowance.toString(),
          cycleUsedBytes: '0',
          cycleKey: null,
          unlimited: allowance === 0n,
          lastDownloadCounter: '0',
          lastUploadCounter: '0',
          counterQueueId: null,
          counterBootEpoch: null,
          lastCountersAt: null,
          commentPrefixes: [settings.commentPrefix],
          secretRosId: null,
          queueRosId: null,
          routerProblem: null,
          terminatedAt: null,
        });
        await manager.insert(VpnAccountEntity, account);
        if (allowance > 0n) {
          const { topUp } = await this.ledger.credit(manager, {
            accountId: account.id,
            kind: TopUpKind.CYCLE,
            reason: TopUpReason.FIRST_CYCLE,
            cycle,
            bytes: allowance,
            idempotencyKey: `cycle:${account.serviceId}:account-${account.id}:first`,
            actor: actorName(ctx.actor),
          });
          account.balanceBytes = topUp.balanceAfterBytes;
        }
        return account;
      });
    } catch (error) {
      throw usernameConflict(error, username) ?? error;
    }
  }

  /**
   * The lowest address of the router's list that no live account holds (nor a removal still to be
   * finished there). Takes the router's row lock: allocation is serialised per router across
   * processes, other routers go on in parallel.
   */
  private async freeAddress(manager: EntityManager, router: RouterEntity): Promise<string> {
    await manager.query('SELECT id FROM mod_mikrotikvpn_routers WHERE id = ? FOR UPDATE', [router.id]);
    const server = await manager.getRepository(WhmcsServer).findOneByOrFail({ id: router.serverId });
    const list = parseAddressList(server.assignedips);
    const rows: { address: string }[] = await manager.query(
      'SELECT live_address AS address FROM mod_mikrotikvpn_accounts WHERE router_id = ? AND live_address IS NOT NULL',
      [router.id],
    );
    const used = new Set([
      ...rows.map((r) => r.address),
      ...(await this.removals.heldAddresses(manager, router.id)),
    ]);
    const address = list.addresses.find((a) => !used.has(a));
    if (!address) {
      const note = list.malformed.length
        ? ` (${list.malformed.length} malformed line(s) ignored: ${list.malformed.map((m) => `line ${m.line}`).join(', ')})`
        : '';
      throw new AppError(
        ErrorCode.ADDRESS_POOL_EXHAUSTED,
        `No free address left on WHMCS server ${router.serverId}: add addresses to its Assigned IP Addresses${note}`,
      );
    }
    return address;
  }

  /** Creates the secret and the queue; on failure undoes what this call added, so nothing is half-done. */
  private async provision(
    ctx: RequestContext,
    account: VpnAccountEntity,
    where: Placement,
    password: string,
  ) {
    let before: ObservedAccount | null = null;
    try {
      before = await this.observe(where.target, account);
      const result = await this.applyToRouter(account, where, { password, strict: true }, before);
      account.secretRosId = result.secretRosId;
      account.queueRosId = result.queueRosId;
      account.peerRosId = result.peerRosId;
    } catch (error) {
      await this.compensateCreate(ctx, account, where.target, before, error as Error);
      throw error;
    }
  }

  private async compensateCreate(
    ctx: RequestContext,
    account: VpnAccountEntity,
    target: RouterTarget,
    before: ObservedAccount | null,
    cause: Error,
  ) {
    try {
      // Only what this create added: what was not there before and carries its comment.
      const comment = `${account.commentPrefixes[0]}${account.serviceId}`;
      if (before && !before.queue) {
        const queue = await this.gateway.findSimpleQueue(target, queueName(account.serviceId));
        if (queue?.comment === comment)
          await this.gateway.onItem(target, '/queue/simple', queue.id, 'remove');
      }
      if (before && !before.secret && account.protocol === VpnProtocol.PPP) {
        const secret = await this.gateway.findPppSecret(target, account.username);
        if (secret?.comment === comment)
          await this.gateway.onItem(target, '/ppp/secret', secret.id, 'remove');
      }
      if (before && !before.peer && account.wgPublicKey) {
        // Only a peer with this account's own key: one that collided is someone else's.
        const peer = await this.gateway.findWireGuardPeer(target, account.wgPublicKey);
        if (peer && peer.comment === comment)
          await this.gateway.onItem(target, '/interface/wireguard/peers', peer.id, 'remove');
      }
      await this.write(account, async (manager) => {
        // Nothing was created: the account and its first credit go together.
        await manager.delete(TrafficTopUpEntity, { accountId: account.id });
        await manager.delete(VpnAccountEntity, { id: account.id });
        await this.events.record(ctx, this.event('create', account, 'FAILED', cause.message), manager);
      });
    } catch {
      // The router went away while undoing: keep the account PENDING so the next call or reconcile finishes it.
      await this.markPending(ctx, account, 'create', `creation interrupted: ${cause.message}`);
    }
  }

  // ---- move to another server ---------------------------------------------------------------------

  /**
   * The service's WHMCS server changed: the account leaves its router (cut off, billed, removed —
   * or, when that router cannot be reached, a removal is left that reconcile finishes when it is
   * back), takes an address of the new server's list, and is provisioned there. Balance and history
   * stay; the move is one event and one line of the traffic history. The caller holds the lock.
   */
  private async move(
    ctx: RequestContext,
    account: VpnAccountEntity,
    to: Placement,
    input: CreateAccountRequest,
    username: string,
  ): Promise<VpnAccountEntity> {
    const from = await this.db.getRepository(RouterEntity).findOneBy({ id: account.routerId });
    const fromServer = from ? `WHMCS server ${from.serverId}` : `router ${account.routerId}`;
    const toServer = `WHMCS server ${to.router.serverId}`;
    // What would make the move fail half-way is checked before the old router is touched.
    const [taken] = await this.db.query(
      `SELECT service_id FROM mod_mikrotikvpn_accounts WHERE router_id = ? AND live_username = ? AND id <> ?`,
      [to.router.id, username, account.id],
    );
    if (taken) {
      throw new ConflictError(
        `Cannot move service ${account.serviceId} from ${fromServer} to ${toServer}: the username ${username} is used by service ${taken.service_id} there`,
      );
    }
    const foreign = await this.gateway.findPppSecret(to.target, username);
    if (
      foreign &&
      !ownPrefixes(account, to.settings).some((p) => foreign.comment === `${p}${account.serviceId}`)
    ) {
      throw new ConflictError(
        `Cannot move service ${account.serviceId} from ${fromServer} to ${toServer}: a PPP secret named ${username} that does not belong to it exists there`,
      );
    }
    let left: string | null = null;
    if (from) {
      try {
        await this.removals.remove(
          ctx,
          from,
          this.removalSubject(account),
          await this.settingsMap(account.productId),
          undefined,
          END_REASON.move,
        );
      } catch (error) {
        if (!(error instanceof AppError) || error.code === ErrorCode.DATABASE_UNAVAILABLE) throw error;
        left = `left on ${fromServer} while it could not be reached (${error.message}); removed when it is back`;
      }
    }
    const previousAddress = account.address;
    await this.write(account, async (manager) => {
      const address = await this.freeAddress(manager, to.router);
      if (left && from) await this.removals.leave(manager, from.id, account, left);
      // Moving back onto a router that still holds this service's old objects: they are its own again.
      const resumed = await this.removals.takeBack(manager, to.router.id, account.serviceId);
      Object.assign(account, {
        routerId: to.router.id,
        address,
        username,
        productId: input.productId,
        status: VpnAccountStatus.PENDING,
        statusReason: `being moved from ${fromServer} to ${toServer}`,
        lastDownloadCounter: resumed?.lastDownloadCounter ?? '0',
        lastUploadCounter: resumed?.lastUploadCounter ?? '0',
        counterQueueId: resumed?.counterQueueId ?? null,
        counterBootEpoch: resumed?.counterBootEpoch ?? null,
        secretRosId: resumed?.secretRosId ?? null,
        queueRosId: resumed?.queueRosId ?? null,
        peerRosId: resumed?.peerRosId ?? null,
        commentPrefixes: ownPrefixes(account, to.settings),
      });
      await manager.update(
        VpnAccountEntity,
        { id: account.id },
        {
          routerId: account.routerId,
          address,
          username,
          productId: account.productId,
          status: account.status,
          statusReason: account.statusReason,
          lastDownloadCounter: account.lastDownloadCounter,
          lastUploadCounter: account.lastUploadCounter,
          counterQueueId: account.counterQueueId,
          counterBootEpoch: account.counterBootEpoch,
          secretRosId: account.secretRosId,
          queueRosId: account.queueRosId,
          peerRosId: account.peerRosId,
          commentPrefixes: account.commentPrefixes,
        },
      );
      await this.ledger.credit(manager, {
        accountId: account.id,
        kind: TopUpKind.NOTE,
        reason: TopUpReason.MOVED,
        bytes: 0n,
        idempotencyKey: `move:${account.id}:${to.router.id}:${Date.now()}`,
        description: `${fromServer} → ${toServer}`,
        actor: actorName(ctx.actor),
      });
      await this.events.record(
        ctx,
        this.event(
          'move',
          account,
          'OK',
          `from ${fromServer} to ${toServer}, address ${previousAddress} → ${address}${left ? `; ${left}` : ''}`,
        ),
        manager,
      );
    });
    await this.applyOrPend(ctx, account, 'create', { password: input.password });
    return account;
  }

  private removalSubject(account: VpnAccountEntity) {
    return {
      accountId: account.id,
      serviceId: account.serviceId,
      username: account.username,
      secretRosId: account.secretRosId,
      queueRosId: account.queueRosId,
      peerRosId: account.peerRosId,
      wgPublicKey: account.wgPublicKey,
      ownComments: account.commentPrefixes.map((p) => `${p}${account.serviceId}`),
    };
  }

  // ---- suspend / unsuspend / change password / reset --------------------------------------------

  @loggedAction('suspend')
  async suspend(ctx: RequestContext, serviceId: number, reason: string | null): Promise<VpnAccountEntity> {
    return this.mutateLive(ctx, serviceId, 'suspend', async (account) => {
      account.suspended = true;
      account.statusReason = reason?.trim().slice(0, 255) || 'suspended in WHMCS';
      await this.db
        .getRepository(VpnAccountEntity)
        .update({ id: account.id }, { suspended: true, statusReason: account.statusReason });
    });
  }

  @loggedAction('unsuspend')
  async unsuspend(ctx: RequestContext, serviceId: number): Promise<VpnAccountEntity> {
    return this.mutateLive(ctx, serviceId, 'unsuspend', async (account) => {
      account.suspended = false;
      account.statusReason = null;
      await this.db
        .getRepository(VpnAccountEntity)
        .update({ id: account.id }, { suspended: false, statusReason: null });
    });
  }

  @loggedAction('change-password')
  async changePassword(ctx: RequestContext, serviceId: number, password: string): Promise<VpnAccountEntity> {
    requireId('serviceId', serviceId);
    // A WireGuard account has keys, not a password: "Change Password" gives it new ones.
    const live = await findLiveAccount(this.db, serviceId);
    if (live?.protocol === VpnProtocol.WIREGUARD) return this.regenerateKeys(ctx, serviceId);
    if (!PASSWORD_PATTERN.test(password)) {
      throw new ValidationError(
        'password must be 1-128 printable ASCII characters (no accents or control characters)',
        { field: 'password' },
      );
    }
    return this.mutateLive(ctx, serviceId, 'change-password', async () => undefined, { password });
  }

  /**
   * New WireGuard keys: the old config stops working once the peer has the new public key. The new
   * keys are stored first, so a router that cannot be reached now gets them from reconcile.
   */
  @loggedAction('regenerate-keys')
  async regenerateKeys(ctx: RequestContext, serviceId: number): Promise<VpnAccountEntity> {
    return this.mutateLive(ctx, serviceId, 'regenerate-keys', async (account) => {
      if (account.protocol !== VpnProtocol.WIREGUARD) {
        throw new ValidationError(
          `Service ${serviceId} is not a WireGuard account: it has a password, not keys`,
          {
            field: 'serviceId',
          },
        );
      }
      const keys = this.wireguard.newKeys();
      Object.assign(account, keys);
      await this.db.getRepository(VpnAccountEntity).update({ id: account.id }, keys);
    });
  }

  @loggedAction('reset-connection')
  async resetConnection(ctx: RequestContext, serviceId: number): Promise<VpnAccountEntity> {
    requireId('serviceId', serviceId);
    return this.lockService(serviceId, async () => {
      const account = await this.requireLive(serviceId);
      const router = await this.routerOf(account);
      const target = this.routers.target(router);
      try {
        let detail: string;
        if (account.protocol === VpnProtocol.WIREGUARD) {
          // No session to end: disabling and enabling the peer drops its endpoint, so the client
          // handshakes again. A peer that must stay off is left off.
          const peer = await this.gateway.findWireGuardPeer(target, account.wgPublicKey, account.peerRosId);
          const off =
            shouldBeDisabled(account, await this.policyOf(account.productId)) || !peer || peer.disabled;
          if (peer && !off) {
            await this.gateway.onItem(target, '/interface/wireguard/peers', peer.id, 'disable');
            await this.gateway.onItem(target, '/interface/wireguard/peers', peer.id, 'enable');
          }
          detail = off ? 'peer is off; nothing to reset' : 'peer endpoint cleared (disabled and enabled)';
        } else {
          const kicked = await this.gateway.kick(target, account.username);
          if (kicked) await this.sessions.closeForAction(this.db, account.id, END_REASON['reset-connection']);
          detail = `${kicked} session(s) ended`;
        }
        await this.events.record(ctx, this.event('reset-connection', account, 'OK', detail));
      } catch (error) {
        await this.events.record(
          ctx,
          this.event('reset-connection', account, 'FAILED', (error as Error).message),
        );
        throw error;
      }
      return account;
    });
  }

  /**
   * Another product: its profile, service, speed and comment on the router (a live session is
   * reconnected when profile or service changed), its allowance for the billing cycle WHMCS has now
   * (from the next renewal; leaving an unlimited product credits it at once, once per cycle).
   */
  @loggedAction('change-package')
  async changePackage(ctx: RequestContext, serviceId: number, productId: number): Promise<VpnAccountEntity> {
    requireId('productId', productId);
    const settings = await this.productSettings(productId);
    return this.mutateLive(
      ctx,
      serviceId,
      'change-package',
      async (account) => {
        const service = await this.db.getRepository(WhmcsService).findOneBy({ id: serviceId });
        const cycle = service ? currentCycle(service) : (account.billingCycle as BillingCycle);
        const allowance = settings.trafficPerCycle.get(cycle) ?? 0n;
        const wasUnlimited = account.unlimited;
        // Another protocol: a WireGuard product gives the account keys (once); the plan then
        // replaces the secret by a peer, or the peer by a secret, on the router.
        const protocol = settings.protocol === 'wireguard' ? VpnProtocol.WIREGUARD : VpnProtocol.PPP;
        if (protocol === VpnProtocol.WIREGUARD) {
          const router = await this.routerOf(account);
          await this.wireguard.resolveInterface(this.routers.target(router), router.name, settings);
        }
        const keys =
          protocol === VpnProtocol.WIREGUARD && !account.wgPublicKey ? this.wireguard.newKeys() : {};
        await this.write(account, async (manager) => {
          Object.assign(account, keys, { protocol });
          await manager.update(VpnAccountEntity, { id: account.id }, { ...keys, protocol });
          account.productId = productId;
          account.billingCycle = cycle;
          account.cycleAllowanceBytes = allowance.toString();
          account.unlimited = allowance === 0n;
          account.commentPrefixes = ownPrefixes(account, settings);
          await manager.update(
            VpnAccountEntity,
            { id: account.id },
            {
              productId,
              billingCycle: cycle,
              cycleAllowanceBytes: account.cycleAllowanceBytes,
              unlimited: account.unlimited,
              commentPrefixes: account.commentPrefixes,
            },
          );
          // Leaving an unlimited product: start the new product with its allowance, not at zero —
          // once per product and cycle, however often the package goes back and forth.
          if (wasUnlimited && allowance > 0n) {
            const { topUp } = await this.ledger.credit(manager, {
              accountId: account.id,
              kind: TopUpKind.CYCLE,
              reason: TopUpReason.PACKAGE_CHANGE,
              cycle,
              bytes: allowance,
              idempotencyKey: `package:${account.id}:${productId}:${account.cycleKey ?? 'first'}`,
              actor: actorName(ctx.actor),
            });
            account.balanceBytes = topUp.balanceAfterBytes;
          }
        });
      },
      { reconnectOnProfileChange: true },
    );
  }

  /**
   * Brings an account's router side in line with its balance and suspension after a debit or a
   * credit: limits it when the balance is used up, restores it when traffic was added. No-op when
   * nothing changes, unless `reapply`: a THROTTLED account that stays throttled gets its router
   * side again (the queue at the throttle speed, after the speed changed).
   */
  async settle(
    ctx: RequestContext,
    serviceId: number,
    options: { reapply?: boolean } = {},
  ): Promise<VpnAccountEntity | null> {
    return this.lockService(serviceId, async () => {
      const account = await this.findLive(serviceId);
      if (!account) return null;
      if (account.pendingAction === PENDING_TERMINATE) {
        // A termination that stopped half-way is finished, never undone.
        await this.finishTermination(ctx, account);
        return account;
      }
      const want = desiredStatus(account, await this.policyOf(account.productId));
      const again = options.reapply === true && want === VpnAccountStatus.THROTTLED;
      if (account.status !== VpnAccountStatus.PENDING && want === account.status && !again) return account;
      const action =
        want === VpnAccountStatus.LIMITED
          ? 'limit'
          : want === VpnAccountStatus.THROTTLED
            ? 'throttle'
            : 'restore';
      await this.applyOrPend(ctx, account, action);
      return account;
    });
  }

  // ---- terminate ----------------------------------------------------------------------------------

  @loggedAction('terminate')
  async terminate(ctx: RequestContext, serviceId: number): Promise<VpnAccountEntity> {
    requireId('serviceId', serviceId);
    return this.lockService(serviceId, async () => {
      const account = await this.findLive(serviceId);
      if (!account) {
        // Idempotent: terminating twice returns the terminated account.
        const last = await this.db
          .getRepository(VpnAccountEntity)
          .findOne({ where: { serviceId }, order: { id: 'DESC' } });
        if (last) return last;
        throw new NotFoundError('VPN account of service', serviceId);
      }
      await this.finishTermination(ctx, account);
      return account;
    });
  }

  /** Terminate for WHMCS's button: null when the service never had an account (nothing to remove). */
  async terminateIfAny(ctx: RequestContext, serviceId: number): Promise<VpnAccountEntity | null> {
    requireId('serviceId', serviceId);
    const any = await this.db.getRepository(VpnAccountEntity).findOneBy({ serviceId });
    return any ? this.terminate(ctx, serviceId) : null;
  }

  /**
   * Cuts the account off, bills what its queue counted since the last collection, removes secret
   * and queue, frees the address. The intent is written first, so a failure (or a crash) at any step
   * leaves the account PENDING with `pending_action = terminate`: the next press, the collector's
   * settle or reconcile finish it instead of provisioning it again. The caller holds the lock.
   */
  async finishTermination(ctx: RequestContext, account: VpnAccountEntity): Promise<void> {
    if (account.pendingAction !== PENDING_TERMINATE) {
      account.pendingAction = PENDING_TERMINATE;
      await this.db
        .getRepository(VpnAccountEntity)
        .update({ id: account.id }, { pendingAction: PENDING_TERMINATE });
    }
    let notes: string[];
    try {
      notes = await this.removals.remove(
        ctx,
        await this.routerOf(account),
        this.removalSubject(account),
        await this.settingsMap(account.productId),
      );
    } catch (error) {
      await this.markPending(
        ctx,
        account,
        'terminate',
        `termination not finished on the router: ${(error as Error).message}`,
      );
      throw error;
    }
    await this.write(account, async (manager) => {
      account.status = VpnAccountStatus.TERMINATED;
      account.statusReason = null;
      account.pendingAction = null;
      account.terminatedAt = new Date();
      await manager.update(
        VpnAccountEntity,
        { id: account.id },
        {
          status: account.status,
          statusReason: null,
          pendingAction: null,
          terminatedAt: () => 'UTC_TIMESTAMP(3)',
        },
      );
      await this.outbox.emit(manager, {
        type: 'account.terminated',
        payload: { ...accountRef(account), status: account.status },
      });
      await this.events.record(
        ctx,
        this.event('terminate', account, 'OK', [`address ${account.address} freed`, ...notes].join('; ')),
        manager,
      );
    });
  }

  // ---- shared machinery ---------------------------------------------------------------------------

  /**
   * Records the desired change in the database, then applies the whole desired state to the router.
   * A router failure leaves the account PENDING with the reason (reconcile or the next call finishes it).
   */
  private mutateLive(
    ctx: RequestContext,
    serviceId: number,
    action: string,
    change: (account: VpnAccountEntity) => Promise<void>,
    options: ApplyOptions = {},
  ): Promise<VpnAccountEntity> {
    requireId('serviceId', serviceId);
    return this.lockService(serviceId, async () => {
      const account = await this.requireLive(serviceId);
      await change(account);
      await this.applyOrPend(ctx, account, action, options);
      return account;
    });
  }

  /**
   * Applies the account's desired state to its router and settles its status, or marks it PENDING.
   * Enforcement that failed makes the account PENDING and the call fail. Other steps the router
   * refused are kept on the account (`routerProblem`) for the admin and reconcile; they fail the call
   * only when the caller asked for that change (create, Change Package, Change Password).
   */
  private async applyOrPend(
    ctx: RequestContext,
    account: VpnAccountEntity,
    action: string,
    options: ApplyOptions = {},
  ): Promise<void> {
    let result: ApplyResult;
    let where: Placement;
    try {
      where = await this.placement(account);
      result = await this.applyToRouter(account, where, options);
    } catch (error) {
      await this.markPending(
        ctx,
        account,
        action,
        `${action} not applied on the router yet: ${(error as Error).message}`,
      );
      throw error;
    }
    const status = desiredStatus(account, where.settings.policy);
    const reason =
      result.passwordReset && !options.password
        ? 'secret was re-created: set the password again (WHMCS: Change Password)'
        : status === VpnAccountStatus.SUSPENDED
          ? account.statusReason
          : status === VpnAccountStatus.LIMITED || status === VpnAccountStatus.THROTTLED
            ? usedUpReason(status)
            : null;
    const from = account.status;
    account.status = status;
    account.statusReason = reason;
    account.pendingAction = null;
    account.routerProblem = result.problems.join('; ').slice(0, 500) || null;
    account.secretRosId = result.secretRosId;
    account.queueRosId = result.queueRosId;
    account.peerRosId = result.peerRosId;
    await this.write(account, async (manager) => {
      await this.saveRouterSide(manager, account);
      if (result.sessionsEnded)
        await this.sessions.closeForAction(manager, account.id, this.endReason(action, status));
      await this.announceStatus(manager, ctx, account, from);
      await this.events.record(
        ctx,
        this.event(
          action,
          account,
          'OK',
          [...result.done.map((d) => d.detail), ...result.problems.map((p) => `not applied: ${p}`)].join(
            ', ',
          ) || null,
        ),
        manager,
      );
    });
    if (result.problems.length && REQUESTED_CHANGES.has(action)) {
      throw new RouterError(
        ErrorCode.ROUTER_ERROR,
        `${action} done except: ${account.routerProblem} (kept on the account; reconcile retries it)`,
        String(account.routerId),
      );
    }
  }

  /** Why an apply that ended the account's sessions ended them (the session log's reason). */
  endReason(action: string, status: VpnAccountStatus): string {
    if (status === VpnAccountStatus.SUSPENDED) return END_REASON.suspend;
    if (status === VpnAccountStatus.LIMITED) return END_REASON.limit;
    return END_REASON[action] ?? action;
  }

  /**
   * One session per account: the newer sessions of accounts whose product says so are ended (by
   * their RouterOS id; the older one is kept) and recorded as duplicates. Accounts of other
   * products are left alone.
   */
  async endDuplicateSessions(
    ctx: RequestContext,
    router: RouterEntity,
    duplicates: DuplicateSession[],
    settings: Map<number, ProductSettings>,
  ): Promise<number> {
    if (!duplicates.length) return 0;
    const accounts = await this.db
      .getRepository(VpnAccountEntity)
      .findBy({ id: In(duplicates.map((d) => d.accountId)) });
    const target = this.routers.target(router);
    let ended = 0;
    for (const account of accounts) {
      if (!settings.get(account.productId)?.singleSession) continue;
      const ids = duplicates.filter((d) => d.accountId === account.id).map((d) => d.rosSessionId);
      const gone = await this.gateway.endActiveSessions(target, ids);
      if (!gone) continue;
      ended += gone;
      await this.sessions.closeForAction(this.db, account.id, END_REASON.duplicate, ids);
      await this.events.record(
        ctx,
        this.event(
          'duplicate-session',
          account,
          'OK',
          `${gone} duplicate session(s) ended; the oldest is kept`,
        ),
      );
    }
    return ended;
  }

  /** Status, reason, router problem and object ids after an apply (also reconcile's). */
  async saveRouterSide(manager: EntityManager, account: VpnAccountEntity): Promise<void> {
    await manager.update(
      VpnAccountEntity,
      { id: account.id },
      {
        status: account.status,
        statusReason: account.statusReason,
        pendingAction: account.pendingAction,
        routerProblem: account.routerProblem,
        secretRosId: account.secretRosId,
        queueRosId: account.queueRosId,
        peerRosId: account.peerRosId,
        // A PPP account whose old peer is gone needs its WireGuard keys no more.
        ...(account.protocol === VpnProtocol.PPP && !account.peerRosId
          ? { wgPublicKey: null, wgPrivateKey: null, wgPresharedKey: null }
          : {}),
      },
    );
  }

  /**
   * What a committed status change announces, in its transaction: the used-up notice whatever made
   * the account LIMITED (once per cycle: notification.service), and the account events.
   */
  async announceStatus(
    manager: EntityManager,
    ctx: RequestContext,
    account: VpnAccountEntity,
    from: VpnAccountStatus,
  ): Promise<void> {
    const usedUp =
      account.status === VpnAccountStatus.LIMITED || account.status === VpnAccountStatus.THROTTLED;
    if (usedUp && from !== account.status) await this.noticeLimited(manager, ctx, account);
    // Events compare with the status they last announced, not the one just before: a change that
    // waited in PENDING for the router is announced once, when it settles, and a LIMITED account
    // that went PENDING for another action and came back LIMITED announces nothing.
    if (account.status === VpnAccountStatus.PENDING) return;
    const [row]: { announced_status: VpnAccountStatus | null }[] = await manager.query(
      'SELECT announced_status FROM mod_mikrotikvpn_accounts WHERE id = ?',
      [account.id],
    );
    const announced = row?.announced_status ?? from;
    if (announced === account.status) return;
    await this.outbox.emitAll(manager, statusChangeEvents(account, announced, account.status));
    await manager.query('UPDATE mod_mikrotikvpn_accounts SET announced_status = ? WHERE id = ?', [
      account.status,
      account.id,
    ]);
  }

  /** The used-up notice, LIMITED or THROTTLED by the account's status (once per cycle: notification.service). */
  private async noticeLimited(
    manager: EntityManager,
    ctx: RequestContext,
    account: VpnAccountEntity,
  ): Promise<void> {
    const kind =
      account.status === VpnAccountStatus.THROTTLED ? NotificationKind.THROTTLED : NotificationKind.LIMITED;
    await this.notifications.enqueueFor(
      manager,
      ctx,
      [],
      [{ ...account, notice: kind }],
      await this.settingsMap(account.productId),
    );
  }

  /**
   * Makes the router match the account (the plan of router-plan.ts, from three reads: the secret,
   * the queue and the live sessions). Every prefix the objects will carry is remembered first, so a
   * crash half-way never leaves our own objects looking foreign.
   */
  async applyToRouter(
    account: VpnAccountEntity,
    where: Placement,
    options: ApplyOptions = {},
    observedBefore?: ObservedAccount,
  ): Promise<ApplyResult> {
    const prefixes = ownPrefixes(account, where.settings);
    if (prefixes.length !== account.commentPrefixes.length) {
      account.commentPrefixes = prefixes;
      await this.db.getRepository(VpnAccountEntity).update({ id: account.id }, { commentPrefixes: prefixes });
    }
    const observed = observedBefore ?? (await this.observe(where.target, account));
    const wg =
      account.protocol === VpnProtocol.WIREGUARD
        ? await this.wireguard.desiredPeer(
            account,
            where.target,
            where.router.name,
            where.settings,
            observed.peer,
          )
        : null;
    const want = desiredAccount(account, where.settings, wg?.peer ?? null);
    const plan = planAccount(want, observed, {
      setPassword: options.password !== undefined,
      reconnectOnProfileChange: options.reconnectOnProfileChange,
    });
    if (plan.conflicts.length) {
      throw new ConflictError(
        `On router ${where.router.name}, for service ${account.serviceId}: ${plan.conflicts.join('; ')}`,
      );
    }
    const result = await applyPlan(this.gateway, where.target, plan, {
      password: options.password,
      strict: options.strict,
      secretRosId: plan.owned.secretId ?? account.secretRosId,
      queueRosId: plan.owned.queueId ?? account.queueRosId,
      peerRosId: plan.owned.peerId ?? account.peerRosId,
    });
    if (wg?.problem) result.problems.push(wg.problem);
    return result;
  }

  /**
   * The account's secret, queue and sessions on its router: three reads at once (a fourth, the
   * peer, for an account that is or was WireGuard).
   */
  private async observe(target: RouterTarget, account: VpnAccountEntity): Promise<ObservedAccount> {
    const [byName, queue, sessions, peer] = await Promise.all([
      this.gateway.findPppSecret(target, account.username),
      this.gateway.findSimpleQueue(target, queueName(account.serviceId), account.queueRosId),
      this.gateway.sessionsOf(target, account.username),
      account.wgPublicKey || account.peerRosId
        ? this.gateway.findWireGuardPeer(target, account.wgPublicKey, account.peerRosId)
        : Promise.resolve(null),
    ]);
    const secret =
      byName ??
      (account.secretRosId ? await this.gateway.findPppSecretById(target, account.secretRosId) : null);
    return { secret, queue, sessions, peer };
  }

  private async markPending(ctx: RequestContext, account: VpnAccountEntity, action: string, reason: string) {
    account.status = VpnAccountStatus.PENDING;
    account.statusReason = reason.slice(0, 255);
    // Only a termination must be remembered: every other action converges to desiredStatus().
    account.pendingAction = action === 'terminate' ? PENDING_TERMINATE : null;
    try {
      await this.write(account, async (manager) => {
        await this.saveRouterSide(manager, account);
        await this.events.record(ctx, this.event(action, account, 'FAILED', reason), manager);
      });
    } catch {
      // The database is gone too: the account keeps its last state, the caller gets the router error.
    }
  }

  /** Router, decrypted target and product settings of a live account. */
  async placement(account: VpnAccountEntity): Promise<Placement> {
    const router = await this.routerOf(account);
    return {
      router,
      target: this.routers.target(router),
      settings: await this.productSettings(account.productId),
    };
  }

  private async routerOf(account: VpnAccountEntity): Promise<RouterEntity> {
    const router = await this.db.getRepository(RouterEntity).findOneBy({ id: account.routerId });
    if (!router) throw new NotFoundError('Router', account.routerId);
    return router;
  }

  /** The product's settings for the meter's notices; empty when the product is gone (nothing to notify). */
  private async settingsMap(productId: number): Promise<Map<number, ProductSettings>> {
    const product = await this.db.getRepository(WhmcsProduct).findOneBy({ id: productId });
    return product && product.servertype === MODULE_NAME
      ? attachPolicies(this.db, new Map([[productId, readProductSettings(product.configOptions())]]))
      : new Map();
  }

  /** A product's quota policy (the default when it has none stored). */
  private async policyOf(productId: number): Promise<ProductPolicy> {
    return (await readPolicies(this.db, [productId])).get(productId) ?? DEFAULT_POLICY;
  }

  /** A product's settings, refusing products that are not ours, never configured, or malformed. */
  async productSettings(productId: number): Promise<ProductSettings> {
    const product = await this.db.getRepository(WhmcsProduct).findOneBy({ id: productId });
    if (!product) throw new NotFoundError('WHMCS product', productId);
    if (product.servertype !== MODULE_NAME) {
      throw new ValidationError(
        `Product ${productId} does not use the ${MODULE_NAME} module (it uses "${product.servertype}")`,
      );
    }
    const values = product.configOptions();
    if (values.every((v) => !v || !v.trim())) {
      throw new ValidationError(
        `Product ${productId} has no module settings saved: open its Module Settings in WHMCS and save`,
      );
    }
    const settings = readProductSettings(values);
    settings.policy = await this.policyOf(productId);
    if (settings.invalid.length) {
      throw new ValidationError(
        `Product ${productId} has malformed module settings: ${settings.invalid
          .map((key) => (settings.invalidReasons[key] ? `${key} (${settings.invalidReasons[key]})` : key))
          .join(', ')}`,
        // The keys, and why (the bridge names them in the admin's language).
        { settings: settings.invalid, reasons: settings.invalidReasons },
      );
    }
    return settings;
  }

  private async routerForServer(serverId: number): Promise<RouterEntity> {
    const server = await this.db.getRepository(WhmcsServer).findOneBy({ id: serverId });
    if (!server) throw new NotFoundError('WHMCS server', serverId);
    if (server.type !== MODULE_NAME) {
      throw new ValidationError(
        `WHMCS server ${serverId} does not use the ${MODULE_NAME} module (it uses "${server.type}")`,
      );
    }
    const router = await this.db.getRepository(RouterEntity).findOneBy({ serverId });
    if (!router) {
      throw new NotFoundError('Router for WHMCS server', serverId);
    }
    return router;
  }

  private findLive(serviceId: number): Promise<VpnAccountEntity | null> {
    return findLiveAccount(this.db, serviceId);
  }

  /** The live account, refusing one whose termination is still to be finished. */
  private async requireLive(serviceId: number): Promise<VpnAccountEntity> {
    const account = await requireLiveAccount(this.db, serviceId);
    if (account.pendingAction === PENDING_TERMINATE) {
      throw new ConflictError(
        `The termination of service ${serviceId} is not finished: press Terminate again or run reconcile`,
      );
    }
    return account;
  }

  /**
   * A transaction of the lifecycle's, run again when InnoDB rolls it back as a deadlock victim. Two
   * calls on one router at once can meet in the accounts' unique indexes and their foreign key to
   * the router (a termination freeing an address while a creation takes one): the loser was
   * answered with an internal error after its router change was done. The work is database-only;
   * `account`'s in-memory state is put back before another attempt, as the database's was. A lock
   * wait that ran out is not retried: WHMCS is waiting for the answer.
   */
  private write<T>(
    account: VpnAccountEntity | null,
    work: (manager: EntityManager) => Promise<T>,
  ): Promise<T> {
    const before = account ? { ...account } : null;
    let attempts = 0;
    return retryTransaction(
      () => {
        if (attempts++ > 0 && account && before) Object.assign(account, before);
        return this.db.transaction(work);
      },
      { lockWaitTimeouts: false },
    );
  }

  private lockService<T>(serviceId: number, work: () => Promise<T>): Promise<T> {
    return this.locks.with(serviceLockName(serviceId), LOCK_WAIT_SECONDS, work);
  }

  private event(action: string, account: VpnAccountEntity, result: 'OK' | 'FAILED', message: string | null) {
    return {
      action: `account.${action}`,
      result,
      accountId: account.id,
      serviceId: account.serviceId,
      routerId: account.routerId,
      message,
    };
  }
}

/** A username another live account of the router holds (the database's unique key said so). */
function usernameConflict(error: unknown, username: string): ConflictError | null {
  const message = (error as Error)?.message ?? '';
  return /Duplicate entry .* for key 'uq_accounts_router_live_username'/.test(message)
    ? new ConflictError(`The username ${username} is already used by another account on this router`)
    : null;
}
