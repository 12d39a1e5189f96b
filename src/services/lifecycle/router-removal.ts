import type { DataSource, EntityManager } from 'typeorm';
import type { RouterEntity } from '../../entities/own/router.entity';
import { parsePrefixes, type VpnAccountEntity } from '../../entities/own/vpn-account.entity';
import type { ProductSettings } from '../../product/product-settings';
import type { RequestContext } from '../../context/request-context';
import { AppError } from '../../errors/app-errors';
import type { RouterGateway } from '../../router';
import { toBytes } from '../../common/units';
import type { RouterService } from '../router.service';
import type { RemovalToMeter, TrafficMeter } from '../traffic/meter.service';
import { queueName } from './desired-state';
import { isOurs } from './router-plan';
import { END_REASON, type SessionLog } from '../sessions/session-log.service';

/** What is removed from a router: an account's secret and queue, known by name, id and comment. */
export interface RemovalSubject {
  accountId: number;
  serviceId: number;
  username: string;
  secretRosId: string | null;
  queueRosId: string | null;
  /** The WireGuard peer, for an account that is or was WireGuard. */
  peerRosId: string | null;
  wgPublicKey: string | null;
  /** Comments that mark the objects as ours. */
  ownComments: string[];
}

/** A removal left for later on a router that could not be reached (a move to another server). */
interface RemovalRow {
  id: number;
  router_id: number;
  account_id: number;
  service_id: number;
  username: string;
  secret_ros_id: string | null;
  queue_ros_id: string | null;
  comment_prefixes: string;
  last_download_counter: string;
  last_upload_counter: string;
  counter_queue_id: string | null;
  counter_boot_epoch: number | null;
  peer_ros_id: string | null;
  wg_public_key: string | null;
}

const PEERS = '/interface/wireguard/peers';

/** How long a final read waits for a collection of the same router that is under way. */
const METER_LOCK_WAIT_SECONDS = 30;

/**
 * Takes an account off a router without losing a byte: cut off first (the secret disabled by id,
 * the live session ended), then the queue's counters read and billed, then queue and secret
 * removed. Only objects that are ours (by stored id or by a comment the account carried) are
 * touched. When the router cannot be reached during a move, the removal is remembered with the
 * account's last counters and finished (read, billed, removed) when the router is back.
 */
export class RouterRemovals {
  constructor(
    private readonly db: DataSource,
    private readonly routers: RouterService,
    private readonly gateway: RouterGateway,
    private readonly meter: TrafficMeter,
    private readonly sessions: SessionLog,
  ) {}

  /** Removes the subject's objects from `router`, billing its queue first. Returns notes for the log. */
  async remove(
    ctx: RequestContext,
    router: RouterEntity,
    subject: RemovalSubject,
    settings: Map<number, ProductSettings>,
    removal?: RemovalToMeter,
    /** Why the account's live sessions end (the session log). */
    endReason = END_REASON.terminate,
  ): Promise<string[]> {
    const target = this.routers.target(router);
    const notes: string[] = [];
    const [byName, queue, foundPeer] = await Promise.all([
      this.gateway.findPppSecret(target, subject.username),
      this.gateway.findSimpleQueue(target, queueName(subject.serviceId), subject.queueRosId),
      subject.wgPublicKey || subject.peerRosId
        ? this.gateway.findWireGuardPeer(target, subject.wgPublicKey, subject.peerRosId)
        : Promise.resolve(null),
    ]);
    const peer =
      foundPeer &&
      (foundPeer.publicKey === subject.wgPublicKey ||
        isOurs(foundPeer, subject.peerRosId, subject.ownComments))
        ? foundPeer
        : null;
    let secret =
      byName ??
      (subject.secretRosId ? await this.gateway.findPppSecretById(target, subject.secretRosId) : null);
    if (secret && !isOurs(secret, subject.secretRosId, subject.ownComments)) {
      notes.push(`secret ${secret.name} (comment "${secret.comment ?? ''}") is not ours; left untouched`);
      secret = null;
    }
    // Cut off first, so that nothing is counted after the final read.
    if (secret && !secret.disabled) await this.gateway.onItem(target, '/ppp/secret', secret.id, 'disable');
    if ((secret || !byName) && (await this.gateway.kick(target, subject.username)) > 0)
      await this.sessions.closeForAction(this.db, subject.accountId, endReason);
    if (peer && !peer.disabled) await this.gateway.onItem(target, PEERS, peer.id, 'disable');
    const queueOurs = queue !== null && isOurs(queue, subject.queueRosId, subject.ownComments);
    if (queueOurs) {
      // Bill what the queue counted since the last collection, before it goes.
      await this.meter.read(ctx, router, settings, {
        accounts: removal ? undefined : [{ id: subject.accountId, serviceId: subject.serviceId }],
        removal,
        lockWaitSeconds: METER_LOCK_WAIT_SECONDS,
      });
    } else if (queue) {
      notes.push(`queue ${queue.name} (comment "${queue.comment ?? ''}") is not ours; left untouched`);
    }
    if (secret) await this.gateway.onItem(target, '/ppp/secret', secret.id, 'remove');
    if (peer) await this.gateway.onItem(target, PEERS, peer.id, 'remove');
    if (queueOurs) await this.gateway.onItem(target, '/queue/simple', queue.id, 'remove');
    return notes;
  }

  /** Remembers that `account`'s objects are still on `routerId`, with the counters to bill them from. */
  async leave(manager: EntityManager, routerId: number, account: VpnAccountEntity, reason: string) {
    await manager.query(
      `INSERT INTO mod_mikrotikvpn_router_removals
         (router_id, account_id, service_id, username, address, secret_ros_id, queue_ros_id, comment_prefixes,
          last_download_counter, last_upload_counter, counter_queue_id, counter_boot_epoch, reason, last_error,
          peer_ros_id, wg_public_key)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON DUPLICATE KEY UPDATE reason = VALUES(reason)`,
      [
        routerId,
        account.id,
        account.serviceId,
        account.username,
        account.address,
        account.secretRosId,
        account.queueRosId,
        JSON.stringify(account.commentPrefixes),
        account.lastDownloadCounter,
        account.lastUploadCounter,
        account.counterQueueId,
        account.counterBootEpoch,
        reason.slice(0, 255),
        reason.slice(0, 500),
        account.peerRosId,
        account.wgPublicKey,
      ],
    );
  }

  /**
   * A removal the account's new router would collide with (the account moved back before the old
   * router returned): its objects are the account's own again. Returns the counters to go on from.
   */
  async takeBack(
    manager: EntityManager,
    routerId: number,
    serviceId: number,
  ): Promise<Pick<
    VpnAccountEntity,
    | 'lastDownloadCounter'
    | 'lastUploadCounter'
    | 'counterQueueId'
    | 'counterBootEpoch'
    | 'secretRosId'
    | 'queueRosId'
    | 'peerRosId'
  > | null> {
    const [row]: RemovalRow[] = await manager.query(
      'SELECT * FROM mod_mikrotikvpn_router_removals WHERE router_id = ? AND service_id = ? FOR UPDATE',
      [routerId, serviceId],
    );
    if (!row) return null;
    await manager.query('DELETE FROM mod_mikrotikvpn_router_removals WHERE id = ?', [row.id]);
    return {
      lastDownloadCounter: row.last_download_counter,
      lastUploadCounter: row.last_upload_counter,
      counterQueueId: row.counter_queue_id,
      counterBootEpoch: row.counter_boot_epoch,
      secretRosId: row.secret_ros_id,
      queueRosId: row.queue_ros_id,
      peerRosId: row.peer_ros_id,
    };
  }

  /** Addresses still held on a router by removals not finished yet (not to be given out again). */
  async heldAddresses(manager: EntityManager, routerId: number): Promise<string[]> {
    const rows: { address: string }[] = await manager.query(
      'SELECT address FROM mod_mikrotikvpn_router_removals WHERE router_id = ?',
      [routerId],
    );
    return rows.map((r) => r.address);
  }

  /**
   * Finishes the removals left on a router that is back: read and bill, remove, forget. Each one on
   * its own; a failure is recorded on the row and tried again next time.
   */
  async finishPending(
    ctx: RequestContext,
    router: RouterEntity,
    settings: Map<number, ProductSettings>,
  ): Promise<{ serviceId: number; ok: boolean; detail: string }[]> {
    const rows: RemovalRow[] = await this.db.query(
      'SELECT * FROM mod_mikrotikvpn_router_removals WHERE router_id = ? ORDER BY id',
      [router.id],
    );
    const results: { serviceId: number; ok: boolean; detail: string }[] = [];
    for (const row of rows) {
      const prefixes = parsePrefixes(row.comment_prefixes);
      try {
        const notes = await this.remove(
          ctx,
          router,
          {
            accountId: row.account_id,
            serviceId: row.service_id,
            username: row.username,
            secretRosId: row.secret_ros_id,
            queueRosId: row.queue_ros_id,
            peerRosId: row.peer_ros_id,
            wgPublicKey: row.wg_public_key,
            ownComments: prefixes.map((p) => `${p}${row.service_id}`),
          },
          settings,
          {
            id: row.id,
            accountId: row.account_id,
            serviceId: row.service_id,
            previous: {
              download: toBytes(row.last_download_counter),
              upload: toBytes(row.last_upload_counter),
              queueId: row.counter_queue_id,
              bootEpoch: row.counter_boot_epoch,
            },
          },
          END_REASON.move,
        );
        await this.db.query('DELETE FROM mod_mikrotikvpn_router_removals WHERE id = ?', [row.id]);
        results.push({
          serviceId: row.service_id,
          ok: true,
          detail: ['secret and queue left by a move read, billed and removed', ...notes].join('; '),
        });
      } catch (error) {
        const message = (error as Error).message;
        await this.db.query(
          'UPDATE mod_mikrotikvpn_router_removals SET attempts = attempts + 1, last_error = ? WHERE id = ?',
          [String(message).slice(0, 500), row.id],
        );
        if (!(error instanceof AppError)) throw error;
        results.push({ serviceId: row.service_id, ok: false, detail: message });
      }
    }
    return results;
  }
}
