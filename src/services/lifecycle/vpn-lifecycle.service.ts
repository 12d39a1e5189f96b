import { Not, type DataSource } from 'typeorm';
import { VpnAccountEntity, VpnAccountStatus } from '../../entities/own/vpn-account.entity';
import { RouterEntity } from '../../entities/own/router.entity';
import { WhmcsProduct } from '../../entities/whmcs/whmcs-product.entity';
import { WhmcsServer } from '../../entities/whmcs/whmcs-server.entity';
import { WhmcsService } from '../../entities/whmcs/whmcs-service.entity';
import { TopUpKind, TrafficTopUpEntity } from '../../entities/own/traffic-topup.entity';
import { AppError, ConflictError, NotFoundError, ValidationError } from '../../errors/app-errors';
import { ErrorCode } from '../../errors/error-code';
import {
  BILLING_CYCLES,
  readProductSettings,
  type BillingCycle,
  type ProductSettings,
} from '../../product/product-settings';
import { actorName, type RequestContext } from '../../context/request-context';
import type { CreateVpnAccountInput } from '../../graphql/inputs/create-vpn-account.input';
import type { RouterGateway, RouterTarget } from '../../router';
import type { NamedLocks } from '../../db/named-lock';
import { parseAddressList } from '../address-pool';
import { MODULE_NAME } from '../product.service';
import type { RouterService } from '../router.service';
import type { EventService } from '../event.service';
import type { TrafficLedger } from '../traffic-ledger.service';
import { requireId } from '../../common/validate';
import {
  PASSWORD_PATTERN,
  USERNAME_PATTERN,
  desiredStatus,
  ownerComment,
  placeholderPassword,
  queueName,
  queueSpec,
  secretSpec,
} from './desired-state';
import { loggedAction } from './logged-action';

const LOCK_WAIT_SECONDS = 30;

/** `pending_action` of an account whose termination started and must be finished, never undone. */
export const PENDING_TERMINATE = 'terminate';

/** The advisory lock every change of one service's account holds (mutations, settle, reconcile). */
export function serviceLockName(serviceId: number): string {
  return `service:${serviceId}`;
}

interface Placement {
  router: RouterEntity;
  target: RouterTarget;
  settings: ProductSettings;
}

/**
 * Creates, suspends, unsuspends, terminates, re-packages and re-passwords VPN accounts on the router
 * and in the database together. Every mutation of one service holds that service's advisory lock,
 * is idempotent, and leaves either the finished state or a PENDING account with the reason.
 */
export class VpnLifecycleService {
  constructor(
    private readonly db: DataSource,
    private readonly routers: RouterService,
    private readonly gateway: RouterGateway,
    private readonly events: EventService,
    private readonly ledger: TrafficLedger,
    private readonly locks: NamedLocks,
  ) {}

  // ---- create -------------------------------------------------------------------------------------

  @loggedAction('create')
  async create(ctx: RequestContext, input: CreateVpnAccountInput): Promise<VpnAccountEntity> {
    requireId('serviceId', input.serviceId);
    requireId('serverId', input.serverId);
    requireId('productId', input.productId);
    const username = input.username.trim();
    if (!USERNAME_PATTERN.test(username)) {
      throw new ValidationError('username must be 1-64 letters, digits, dots, dashes, underscores or @', {
        field: 'username',
      });
    }
    if (!PASSWORD_PATTERN.test(input.password)) {
      throw new ValidationError(
        'password must be 1-128 printable ASCII characters (no accents or control characters)',
        {
          field: 'password',
        },
      );
    }
    const cycle = input.billingCycle.trim() as BillingCycle;
    if (!BILLING_CYCLES.includes(cycle)) {
      throw new ValidationError(`billingCycle must be one of ${BILLING_CYCLES.join(', ')}`, {
        field: 'billingCycle',
      });
    }
    const service = await this.db.getRepository(WhmcsService).findOneBy({ id: input.serviceId });
    if (!service) throw new NotFoundError('WHMCS service', input.serviceId);
    const settings = await this.productSettings(input.productId);
    const router = await this.routerForServer(input.serverId);
    const target = this.routers.target(router);

    return this.lockService(input.serviceId, async () => {
      const existing = await this.findLive(input.serviceId);
      if (existing) {
        // Idempotent: a repeated create returns the account, repairing the router side if needed.
        await this.applyOrPend(ctx, existing, 'create', { password: input.password });
        return existing;
      }
      const allowance = settings.trafficPerCycle.get(cycle) ?? 0n;
      const account = await this.insertPending(ctx, router, service, input, username, cycle, allowance);
      await this.provision(ctx, account, { router, target, settings }, input.password);
      await this.db.transaction(async (manager) => {
        account.status = desiredStatus(account);
        account.statusReason = null;
        await manager.update(
          VpnAccountEntity,
          { id: account.id },
          { status: account.status, statusReason: null },
        );
        await this.events.record(
          ctx,
          this.event('create', account, 'OK', `address ${account.address}`),
          manager,
        );
      });
      return account;
    });
  }

  /**
   * Inserts the account as PENDING with the lowest free address of its router (under the router's row
   * lock) and its first cycle's allowance, so the router is provisioned from the final picture.
   */
  private async insertPending(
    ctx: RequestContext,
    router: RouterEntity,
    service: WhmcsService,
    input: CreateVpnAccountInput,
    username: string,
    cycle: BillingCycle,
    allowance: bigint,
  ): Promise<VpnAccountEntity> {
    try {
      return await this.db.transaction(async (manager) => {
        // Serialises address allocation per router across processes; other routers go on in parallel.
        await manager.query('SELECT id FROM mod_mikrotikvpn_routers WHERE id = ? FOR UPDATE', [router.id]);
        const server = await manager.getRepository(WhmcsServer).findOneByOrFail({ id: router.serverId });
        const list = parseAddressList(server.assignedips);
        const used = new Set(
          (
            (await manager.query(
              'SELECT live_address AS address FROM mod_mikrotikvpn_accounts WHERE router_id = ? AND live_address IS NOT NULL',
              [router.id],
            )) as { address: string }[]
          ).map((r) => r.address),
        );
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
        const account = manager.getRepository(VpnAccountEntity).create({
          serviceId: input.serviceId,
          clientId: service.userid,
          productId: input.productId,
          routerId: router.id,
          username,
          address,
          status: VpnAccountStatus.PENDING,
          statusReason: 'being created on the router',
          pendingAction: null,
          suspended: false,
          billingCycle: cycle,
          balanceBytes: '0',
          cycleAllowanceBytes: allowance.toString(),
          unlimited: allowance === 0n,
          lastDownloadCounter: '0',
          lastUploadCounter: '0',
          counterQueueId: null,
          lastCountersAt: null,
          terminatedAt: null,
        });
        await manager.insert(VpnAccountEntity, account);
        if (allowance > 0n) {
          const { topUp } = await this.ledger.credit(manager, {
            accountId: account.id,
            kind: TopUpKind.CYCLE,
            bytes: allowance,
            idempotencyKey: `cycle:${account.serviceId}:account-${account.id}:first`,
            description: `First ${cycle.toLowerCase()} traffic allowance`,
            actor: actorName(ctx.actor),
          });
          account.balanceBytes = topUp.balanceAfterBytes;
        }
        return account;
      });
    } catch (error) {
      const message = (error as Error).message ?? '';
      if (/Duplicate entry .* for key 'uq_accounts_router_live_username'/.test(message)) {
        throw new ConflictError(`The username ${username} is already used by another account on this router`);
      }
      throw error;
    }
  }

  /** Creates the secret and the queue; on failure undoes what this call added, so nothing is half-done. */
  private async provision(
    ctx: RequestContext,
    account: VpnAccountEntity,
    where: Placement,
    password: string,
  ) {
    const added: ('secret' | 'queue')[] = [];
    const { target, settings } = where;
    try {
      const existing = await this.gateway.findPppSecret(target, account.username);
      const comment = ownerComment(settings, account.serviceId);
      if (existing && existing.comment !== comment) {
        throw new ConflictError(
          `A PPP secret named ${account.username} already exists on router ${where.router.name} and does not belong to service ${account.serviceId}`,
        );
      }
      // A queue of that name that is not ours (another installation, or made by hand) would be
      // adopted and its whole counter billed: refuse it as a foreign secret is refused.
      const [queueRow] = await this.gateway.run(target, [
        '/queue/simple/print',
        `?name=${queueName(account.serviceId)}`,
        '=.proplist=.id,comment',
      ]);
      if (queueRow && (queueRow.comment ?? '') !== comment) {
        throw new ConflictError(
          `A simple queue named ${queueName(account.serviceId)} already exists on router ${where.router.name} and does not belong to service ${account.serviceId} (comment "${queueRow.comment ?? ''}")`,
        );
      }
      const secret = { ...secretSpec(account, settings), password };
      if (existing) await this.gateway.setPppSecret(target, account.username, secret);
      else {
        await this.gateway.addPppSecret(target, secret);
        added.push('secret');
      }
      const queue = queueSpec(account, settings);
      if (!(await this.gateway.setSimpleQueue(target, queue.name, queue))) {
        await this.gateway.addSimpleQueue(target, queue);
        added.push('queue');
      }
    } catch (error) {
      await this.compensateCreate(ctx, account, target, added, error as Error);
      throw error;
    }
  }

  private async compensateCreate(
    ctx: RequestContext,
    account: VpnAccountEntity,
    target: RouterTarget,
    added: ('secret' | 'queue')[],
    cause: Error,
  ) {
    try {
      if (added.includes('queue')) await this.gateway.removeSimpleQueue(target, queueName(account.serviceId));
      if (added.includes('secret')) await this.gateway.removePppSecret(target, account.username);
      await this.db.transaction(async (manager) => {
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
    if (!PASSWORD_PATTERN.test(password)) {
      throw new ValidationError(
        'password must be 1-128 printable ASCII characters (no accents or control characters)',
        {
          field: 'password',
        },
      );
    }
    return this.mutateLive(ctx, serviceId, 'change-password', async () => undefined, { password });
  }

  @loggedAction('reset-connection')
  async resetConnection(ctx: RequestContext, serviceId: number): Promise<VpnAccountEntity> {
    requireId('serviceId', serviceId);
    return this.lockService(serviceId, async () => {
      const account = await this.requireLive(serviceId);
      const { target } = await this.placement(account);
      try {
        const kicked = await this.gateway.kick(target, account.username);
        await this.events.record(
          ctx,
          this.event('reset-connection', account, 'OK', `${kicked} session(s) ended`),
        );
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

  @loggedAction('change-package')
  async changePackage(ctx: RequestContext, serviceId: number, productId: number): Promise<VpnAccountEntity> {
    requireId('productId', productId);
    const settings = await this.productSettings(productId);
    return this.mutateLive(
      ctx,
      serviceId,
      'change-package',
      async (account) => {
        const allowance = settings.trafficPerCycle.get(account.billingCycle as BillingCycle) ?? 0n;
        const wasUnlimited = account.unlimited;
        await this.db.transaction(async (manager) => {
          account.productId = productId;
          account.cycleAllowanceBytes = allowance.toString();
          account.unlimited = allowance === 0n;
          await manager.update(
            VpnAccountEntity,
            { id: account.id },
            {
              productId,
              cycleAllowanceBytes: account.cycleAllowanceBytes,
              unlimited: account.unlimited,
            },
          );
          // Leaving an unlimited product: start the new product with its allowance, not at zero.
          if (wasUnlimited && allowance > 0n) {
            const { topUp } = await this.ledger.credit(manager, {
              accountId: account.id,
              kind: TopUpKind.CYCLE,
              bytes: allowance,
              idempotencyKey: `package:${account.id}:${productId}:${Date.now()}`,
              description: 'Traffic allowance of the new package',
              actor: actorName(ctx.actor),
            });
            account.balanceBytes = topUp.balanceAfterBytes;
          }
        });
      },
      { kickOnProfileChange: true },
    );
  }

  /**
   * Brings an account's router side in line with its balance and suspension after a debit or a
   * credit: limits it when the balance is used up, restores it when traffic was added. No-op when
   * nothing changes.
   */
  async settle(ctx: RequestContext, serviceId: number): Promise<VpnAccountEntity | null> {
    return this.lockService(serviceId, async () => {
      const account = await this.findLive(serviceId);
      if (!account) return null;
      if (account.pendingAction === PENDING_TERMINATE) {
        // A termination that stopped half-way is finished, never undone.
        await this.finishTermination(ctx, account);
        return account;
      }
      if (account.status !== VpnAccountStatus.PENDING && desiredStatus(account) === account.status)
        return account;
      const action = desiredStatus(account) === VpnAccountStatus.LIMITED ? 'limit' : 'restore';
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

  /**
   * Ends the session, removes secret and queue, frees the address. The intent is written first, so a
   * failure (or a crash) at any step leaves the account PENDING with `pending_action = terminate`: the
   * next press, the collector's settle or reconcile finish it instead of provisioning it again. The
   * caller holds the service's lock.
   */
  async finishTermination(ctx: RequestContext, account: VpnAccountEntity): Promise<void> {
    if (account.pendingAction !== PENDING_TERMINATE) {
      account.pendingAction = PENDING_TERMINATE;
      await this.db
        .getRepository(VpnAccountEntity)
        .update({ id: account.id }, { pendingAction: PENDING_TERMINATE });
    }
    try {
      const { target } = await this.placement(account);
      await this.gateway.kick(target, account.username);
      await this.gateway.removePppSecret(target, account.username);
      await this.gateway.removeSimpleQueue(target, queueName(account.serviceId));
    } catch (error) {
      await this.markPending(
        ctx,
        account,
        'terminate',
        `termination not finished on the router: ${(error as Error).message}`,
      );
      throw error;
    }
    await this.db.transaction(async (manager) => {
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
          terminatedAt: account.terminatedAt,
        },
      );
      await this.events.record(
        ctx,
        this.event('terminate', account, 'OK', `address ${account.address} freed`),
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
    options: { password?: string; kickOnProfileChange?: boolean } = {},
  ): Promise<VpnAccountEntity> {
    requireId('serviceId', serviceId);
    return this.lockService(serviceId, async () => {
      const account = await this.requireLive(serviceId);
      await change(account);
      await this.applyOrPend(ctx, account, action, options);
      return account;
    });
  }

  /** Applies the account's desired state to its router and settles its status, or marks it PENDING. */
  private async applyOrPend(
    ctx: RequestContext,
    account: VpnAccountEntity,
    action: string,
    options: { password?: string; kickOnProfileChange?: boolean } = {},
  ): Promise<void> {
    let notes: string[];
    try {
      notes = await this.applyToRouter(account, await this.placement(account), options);
    } catch (error) {
      await this.markPending(
        ctx,
        account,
        action,
        `${action} not applied on the router yet: ${(error as Error).message}`,
      );
      throw error;
    }
    const status = desiredStatus(account);
    const reason =
      notes.includes('password-reset') && !options.password
        ? 'secret was re-created: set the password again (WHMCS: Change Password)'
        : status === VpnAccountStatus.SUSPENDED
          ? account.statusReason
          : status === VpnAccountStatus.LIMITED
            ? 'traffic balance used up'
            : null;
    account.status = status;
    account.statusReason = reason;
    account.pendingAction = null;
    await this.db.transaction(async (manager) => {
      await manager.update(
        VpnAccountEntity,
        { id: account.id },
        { status, statusReason: reason, pendingAction: null },
      );
      await this.events.record(ctx, this.event(action, account, 'OK', notes.join(', ') || null), manager);
    });
  }

  /**
   * Makes the router match the account: secret (created when missing, updated when different,
   * disabled while suspended or limited, with its session ended) and queue. Returns what it repaired.
   */
  async applyToRouter(
    account: VpnAccountEntity,
    where: Placement,
    options: { password?: string; kickOnProfileChange?: boolean } = {},
  ): Promise<string[]> {
    const { target, settings } = where;
    const notes: string[] = [];
    const spec = secretSpec(account, settings);
    const current = await this.gateway.findPppSecret(target, account.username);
    if (current && current.comment !== spec.comment) {
      throw new ConflictError(
        `The PPP secret ${account.username} on router ${where.router.name} belongs to something else (comment "${current.comment ?? ''}")`,
      );
    }
    if (!current) {
      await this.gateway.addPppSecret(target, {
        ...spec,
        password: options.password ?? placeholderPassword(),
      });
      notes.push(options.password ? 'secret-created' : 'password-reset');
    } else {
      const profileChanged = current.profile !== spec.profile || current.service !== spec.service;
      await this.gateway.setPppSecret(target, account.username, {
        ...spec,
        ...(options.password ? { password: options.password } : {}),
      });
      if (options.kickOnProfileChange && profileChanged) {
        // A new profile or service applies to a session only after it reconnects.
        await this.gateway.kick(target, account.username);
        notes.push('reconnected for the new profile');
      }
    }
    if (spec.disabled) {
      const kicked = await this.gateway.kick(target, account.username);
      if (kicked) notes.push(`${kicked} session(s) ended`);
    }
    const queue = queueSpec(account, settings);
    if (!(await this.gateway.setSimpleQueue(target, queue.name, queue))) {
      await this.gateway.addSimpleQueue(target, queue);
      notes.push('queue-created');
    }
    return notes;
  }

  private async markPending(ctx: RequestContext, account: VpnAccountEntity, action: string, reason: string) {
    account.status = VpnAccountStatus.PENDING;
    account.statusReason = reason.slice(0, 255);
    // Only a termination must be remembered: every other action converges to desiredStatus().
    account.pendingAction = action === 'terminate' ? PENDING_TERMINATE : null;
    try {
      await this.db.transaction(async (manager) => {
        await manager.update(
          VpnAccountEntity,
          { id: account.id },
          {
            status: account.status,
            statusReason: account.statusReason,
            pendingAction: account.pendingAction,
          },
        );
        await this.events.record(ctx, this.event(action, account, 'FAILED', reason), manager);
      });
    } catch {
      // The database is gone too: the account keeps its last state, the caller gets the router error.
    }
  }

  /** Router, decrypted target and product settings of a live account. */
  async placement(account: VpnAccountEntity): Promise<Placement> {
    const router = await this.db.getRepository(RouterEntity).findOneBy({ id: account.routerId });
    if (!router) throw new NotFoundError('Router', account.routerId);
    return {
      router,
      target: this.routers.target(router),
      settings: await this.productSettings(account.productId),
    };
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
    if (settings.invalid.length) {
      throw new ValidationError(
        `Product ${productId} has malformed module settings: ${settings.invalid.join(', ')}`,
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
    return this.db
      .getRepository(VpnAccountEntity)
      .findOneBy({ serviceId, status: Not(VpnAccountStatus.TERMINATED) });
  }

  private async requireLive(serviceId: number): Promise<VpnAccountEntity> {
    const account = await this.findLive(serviceId);
    if (!account) throw new NotFoundError('VPN account of service', serviceId);
    if (account.pendingAction === PENDING_TERMINATE) {
      throw new ConflictError(
        `The termination of service ${serviceId} is not finished: press Terminate again or run reconcile`,
      );
    }
    return account;
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
