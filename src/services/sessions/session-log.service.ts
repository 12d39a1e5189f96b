import net from 'node:net';
import { escape } from 'mysql2';
import type { DataSource, EntityManager } from 'typeorm';
import type { ActiveSession } from '../../router';
import { ValidationError } from '../../errors/app-errors';
import { pageRequest, toPage, type Page } from '../../common/pagination';
import { parseAddressList } from '../address-pool';

/**
 * The session log: every PPP connection the collector sees, from the one `/ppp/active` print each
 * collection makes per router, written in the same transaction as that reading's traffic. A session
 * is known by its router, the router's boot epoch and its RouterOS `.id`, so a reading repeated (by
 * another process, or after a crash rolled one back) never records it twice.
 *
 * - A session that appears is opened; its start is the reading's database time minus its uptime.
 * - One that is gone is closed between two readings: `lastSeenAt` (the last reading that saw it)
 *   and `endedAt` (the first that did not); a router restart closes every open session at the
 *   estimated boot time.
 * - Our own actions (limit, suspend, reset, terminate, a duplicate session ended) close it at the
 *   exact time, with the reason.
 * - The traffic of a reading goes to the account's session open at that reading, else to the one
 *   this reading closed, else to the one that was open at the previous reading and that our own
 *   action ended since.
 * - An open session costs no write per reading: its bytes are `*_bytes` + the account's running
 *   total of metered bytes − that total when it opened (`*_base_bytes`); ending it freezes the sum
 *   into `*_bytes`. Two sessions of one account at once both count the account's traffic.
 */

/** A session as the API shows it. */
export interface SessionView {
  id: number;
  accountId: number;
  serviceId: number;
  clientId: number;
  routerId: number;
  protocol: string;
  service: string | null;
  callerId: string | null;
  address: string | null;
  startedAt: Date;
  lastSeenAt: Date;
  endedAt: Date | null;
  endExact: boolean;
  endReason: string | null;
  downloadBytes: bigint;
  uploadBytes: bigint;
}

/** What one router reading tells the log. */
export interface SessionReading {
  routerId: number;
  epoch: number;
  restarted: boolean;
  /** The router's estimated boot time (sessions a restart ended, ended then). */
  bootAt: Date;
  /** The reading's database time. */
  at: Date;
  /** The previous reading's database time, if any. */
  previousAt: Date | null;
  /** The router's live PPP accounts. */
  accounts: { id: number; serviceId: number; clientId: number; username: string }[];
  active: readonly ActiveSession[];
  /** This reading's traffic per account. */
  deltas: { accountId: number; download: bigint; upload: bigint }[];
  /** The batch of this reading's samples (null when nothing was counted). */
  batchId: bigint | null;
}

/** A second session of an account (the newer one), found in a reading. */
export interface DuplicateSession {
  accountId: number;
  serviceId: number;
  rosSessionId: string;
}

/** Why our own actions end a session, by lifecycle action. */
export const END_REASON: Record<string, string> = {
  suspend: 'suspended',
  limit: 'limited',
  'reset-connection': 'reset',
  'change-package': 'reconnected for a new package',
  terminate: 'terminated',
  move: 'moved to another server',
  duplicate: 'duplicate session',
};

/**
 * RouterOS's `last-disconnect-reason` of a secret, in the log's words (the screens translate these).
 * `reboot` is the restart the log already records; an unknown value stays "disconnected".
 */
export const ROUTEROS_END_REASON: Record<string, string> = {
  'peer-request': 'disconnected by the client',
  'hung-up': 'connection lost',
  'idle-timeout': 'idle timeout',
  'session-timeout': 'session time limit reached',
  reset: 'connection reset on the router',
  reboot: 'router restarted',
  'port-error': 'port error',
  'nas-error': 'router error',
  'nas-request': 'ended on the router',
};

/** What a router's secret says of its last session. */
export interface LastDisconnect {
  accountId: number;
  reason: string;
  callerId: string | null;
}

interface SessionRow {
  id: string;
  account_id: number;
  router_id: number;
  service_id: number;
  client_id: number;
  protocol: string;
  service: string | null;
  caller_id: string | null;
  address: string | null;
  started_at: Date;
  last_seen_at: Date;
  ended_at: Date | null;
  end_exact: number;
  end_reason: string | null;
  download_bytes: string;
  upload_bytes: string;
}

/** An open session's bytes so far in one direction (`s` a session, `a` its account). */
const openBytes = (dir: 'download' | 'upload') =>
  `s.${dir}_bytes + a.metered_${dir}_bytes - s.${dir}_base_bytes`;
/** The same for any session: an ended one's bytes are frozen. */
const sessionBytes = (dir: 'download' | 'upload') =>
  `IF(s.ended_at IS NULL AND a.id IS NOT NULL, ${openBytes(dir)}, s.${dir}_bytes)`;

/** A session row for the API: an open session was seen by every reading of its router, so its last sighting is the router's last reading. */
const SESSION_COLUMNS = `s.id, s.account_id, s.router_id, s.service_id, s.client_id, s.protocol, s.service, s.caller_id,
  s.address, s.started_at, s.ended_at, s.end_exact, s.end_reason,
  ${sessionBytes('download')} AS download_bytes, ${sessionBytes('upload')} AS upload_bytes,
  IF(s.ended_at IS NULL, GREATEST(s.last_seen_at, COALESCE(r.last_read_at, s.last_seen_at)), s.last_seen_at) AS last_seen_at`;
const SESSION_FROM = `mod_mikrotikvpn_sessions s LEFT JOIN mod_mikrotikvpn_routers r ON r.id = s.router_id
  LEFT JOIN mod_mikrotikvpn_accounts a ON a.id = s.account_id`;

const dt = (d: Date) => escape(d.toISOString().slice(0, 23).replace('T', ' '));
const text = (s: string | null | undefined, max: number) => escape((s ?? '').slice(0, max) || null);

function toView(row: SessionRow): SessionView {
  return {
    id: Number(row.id),
    accountId: row.account_id,
    serviceId: row.service_id,
    clientId: row.client_id,
    routerId: row.router_id,
    protocol: row.protocol,
    service: row.service,
    callerId: row.caller_id,
    address: row.address,
    startedAt: row.started_at,
    lastSeenAt: row.last_seen_at,
    endedAt: row.ended_at,
    endExact: !!row.end_exact,
    endReason: row.end_reason,
    downloadBytes: BigInt(row.download_bytes),
    uploadBytes: BigInt(row.upload_bytes),
  };
}

export class SessionLog {
  constructor(private readonly db: DataSource) {}

  /**
   * Applies one reading of a router, inside the reading's transaction (under the router's lock).
   * At most five statements, whatever the number of sessions. Returns the newer sessions of
   * accounts that have more than one.
   */
  async applyReading(manager: EntityManager, r: SessionReading): Promise<DuplicateSession[]> {
    const byName = new Map(r.accounts.map((a) => [a.username, a]));
    const ours = r.active.filter((s) => byName.has(s.name));
    const open: { id: string; account_id: number; boot_epoch: number; ros_session_id: string }[] =
      await manager.query(
        // No row locks: the router's lock keeps other readings out, and our own actions only end
        // sessions (an insert below never reopens one they ended).
        'SELECT id, account_id, boot_epoch, ros_session_id FROM mod_mikrotikvpn_sessions WHERE router_id = ? AND ended_at IS NULL',
        [r.routerId],
      );
    const liveIds = new Set(ours.map((s) => s.id));
    const stillOpen = r.restarted
      ? []
      : open.filter((o) => o.boot_epoch === r.epoch && liveIds.has(o.ros_session_id));
    const known = new Set(stillOpen.map((o) => o.ros_session_id));
    const closed = open.filter((o) => !stillOpen.includes(o));
    const opened = ours.filter((s) => !known.has(s.id));

    // Where each account's traffic of this reading goes.
    const bytes = new Map(r.deltas.map((d) => [d.accountId, d]));
    const target = new Map<number, { kind: 'open' | 'new' | 'closed'; key: string }>();
    // Later wins: a session still open over a new one, a new one over one this reading closed.
    for (const o of closed) target.set(o.account_id, { kind: 'closed', key: o.id });
    for (const s of opened) target.set(byName.get(s.name)!.id, { kind: 'new', key: s.id });
    for (const o of stillOpen) target.set(o.account_id, { kind: 'open', key: o.id });
    const add = (accountId: number, kind: 'open' | 'new' | 'closed', key: string) => {
      const t = target.get(accountId);
      const d = bytes.get(accountId);
      return t && d && t.kind === kind && t.key === key ? d : { download: 0n, upload: 0n };
    };

    if (closed.length) {
      // Open until now means every reading saw them, up to the previous one: that is their last
      // sighting. A restart ended them at boot (never before that sighting); else between the two readings.
      const lastSeen = r.previousAt ? `GREATEST(last_seen_at, ${dt(r.previousAt)})` : 'last_seen_at';
      const endedAt = r.restarted ? `GREATEST(${lastSeen}, ${dt(r.bootAt)})` : dt(r.at);
      const reason = escape(r.restarted ? 'router restarted' : 'disconnected');
      // The account's running total already holds this reading's bytes (the debit ran first in
      // this transaction): a closed session that does not get them gives them back.
      const notTheirs = (dir: 'download' | 'upload') =>
        `CASE s.id ${closed
          .map((o) => {
            const all = bytes.get(o.account_id)?.[dir] ?? 0n;
            return `WHEN ${BigInt(o.id)} THEN ${all - add(o.account_id, 'closed', o.id)[dir]}`;
          })
          .join(' ')} END`;
      await manager.query(
        `UPDATE mod_mikrotikvpn_sessions s JOIN mod_mikrotikvpn_accounts a ON a.id = s.account_id
            SET s.last_seen_at = ${lastSeen.replaceAll('last_seen_at', 's.last_seen_at')}, s.ended_at = ${endedAt.replaceAll('last_seen_at', 's.last_seen_at')},
                s.end_reason = ${reason}, s.end_exact = 0,
                s.download_bytes = ${openBytes('download')} - ${notTheirs('download')},
                s.upload_bytes = ${openBytes('upload')} - ${notTheirs('upload')}
          WHERE s.id IN (${closed.map((o) => BigInt(o.id)).join(',')})`,
      );
    }
    // Sessions still open need no write: their bytes follow the account's running total.
    if (opened.length) {
      const values = opened.map((s) => {
        const account = byName.get(s.name)!;
        const d = add(account.id, 'new', s.id);
        const started = new Date(r.at.getTime() - s.uptimeSeconds * 1000);
        // It starts with this reading's bytes (when they are its) on top of the account's running
        // total as it stands now, which already holds them.
        const base = (dir: 'download' | 'upload') =>
          `(SELECT metered_${dir}_bytes FROM mod_mikrotikvpn_accounts WHERE id = ${account.id})`;
        return `(${account.id}, ${r.routerId}, ${account.serviceId}, ${account.clientId}, 'ppp', ${r.epoch}, ${escape(s.id)},
          ${text(s.service, 16)}, ${text(s.callerId, 64)}, ${text(s.address, 45)}, ${dt(started)}, ${dt(r.at)}, ${d.download}, ${d.upload},
          ${base('download')}, ${base('upload')})`;
      });
      // Seen again after our own action ended it (a reading taken just before the kick): it stays
      // ended as we recorded it, and this reading's bytes are added to it. Seen again after a
      // reading found it gone: it is open again, its frozen bytes counted on from now.
      await manager.query(
        `INSERT INTO mod_mikrotikvpn_sessions
           (account_id, router_id, service_id, client_id, protocol, boot_epoch, ros_session_id, service, caller_id,
            address, started_at, last_seen_at, download_bytes, upload_bytes, download_base_bytes, upload_base_bytes)
         VALUES ${values.join(', ')}
         ON DUPLICATE KEY UPDATE
           download_base_bytes = IF(end_exact, download_base_bytes, VALUES(download_base_bytes)),
           upload_base_bytes = IF(end_exact, upload_base_bytes, VALUES(upload_base_bytes)),
           last_seen_at = IF(end_exact, last_seen_at, VALUES(last_seen_at)),
           ended_at = IF(end_exact, ended_at, NULL),
           end_reason = IF(end_exact, end_reason, NULL),
           download_bytes = download_bytes + VALUES(download_bytes),
           upload_bytes = upload_bytes + VALUES(upload_bytes)`,
      );
    }
    // Traffic of accounts with no session in this reading: the session our action ended since the
    // previous reading, if there is one.
    const ppp = new Set(r.accounts.map((a) => a.id));
    const orphans = r.deltas.filter(
      (d) => ppp.has(d.accountId) && !target.has(d.accountId) && (d.download > 0n || d.upload > 0n),
    );
    if (orphans.length && r.previousAt) await this.creditLatest(manager, orphans, r.previousAt);

    // Accounts with several live sessions: all but the oldest (the longest uptime) are duplicates.
    const perAccount = new Map<number, ActiveSession[]>();
    for (const s of ours) {
      const id = byName.get(s.name)!.id;
      perAccount.set(id, [...(perAccount.get(id) ?? []), s]);
    }
    const duplicates: DuplicateSession[] = [];
    for (const [accountId, sessions] of perAccount) {
      if (sessions.length < 2) continue;
      const [, ...newer] = [...sessions].sort((a, b) => b.uptimeSeconds - a.uptimeSeconds);
      const serviceId = r.accounts.find((a) => a.id === accountId)!.serviceId;
      for (const s of newer) duplicates.push({ accountId, serviceId, rosSessionId: s.id });
    }
    return duplicates;
  }

  /**
   * The traffic of a reading of some accounts only (the final read before a queue goes): an open
   * session has it already (the running total), else it goes to the one our own action ended
   * since the previous reading.
   */
  async addTraffic(
    manager: EntityManager,
    deltas: { accountId: number; download: bigint; upload: bigint }[],
    previousAt: Date | null,
  ): Promise<void> {
    const moving = deltas.filter((d) => d.download > 0n || d.upload > 0n);
    if (moving.length && previousAt) await this.creditLatest(manager, moving, previousAt);
  }

  /** Adds each account's bytes to its latest session when our own action ended it exactly since `since`. */
  private async creditLatest(
    manager: EntityManager,
    deltas: { accountId: number; download: bigint; upload: bigint }[],
    since: Date,
  ): Promise<void> {
    const bytes = new Map(deltas.map((d) => [d.accountId, d]));
    const rows: { id: string; account_id: number }[] = await manager.query(
      `SELECT s.id, s.account_id FROM mod_mikrotikvpn_sessions s
        WHERE s.account_id IN (${deltas.map((d) => Number(d.accountId)).join(',')})
          AND s.end_exact = 1 AND s.last_seen_at >= ${dt(since)}
          AND s.id = (SELECT MAX(t.id) FROM mod_mikrotikvpn_sessions t WHERE t.account_id = s.account_id)`,
    );
    if (!rows.length) return;
    const cases = (dir: 'download' | 'upload') =>
      `CASE id ${rows.map((row) => `WHEN ${BigInt(row.id)} THEN ${bytes.get(row.account_id)![dir]}`).join(' ')} END`;
    await manager.query(
      `UPDATE mod_mikrotikvpn_sessions SET download_bytes = download_bytes + ${cases('download')},
          upload_bytes = upload_bytes + ${cases('upload')} WHERE id IN (${rows.map((row) => BigInt(row.id)).join(',')})`,
    );
  }

  /**
   * Our own action ended the account's live sessions: they end now, exactly, with the reason. A
   * reading that closed one as "disconnected" in the minute before saw our action, not the customer.
   * `rosSessionIds` limits it to those sessions (a duplicate ended).
   */
  async closeForAction(
    manager: EntityManager | DataSource,
    accountId: number,
    reason: string,
    rosSessionIds?: string[],
  ): Promise<number> {
    const only = rosSessionIds?.length
      ? ` AND ros_session_id IN (${rosSessionIds.map((id) => escape(id)).join(',')})`
      : '';
    // Its last sighting is the router's last reading (an open session was seen by every one).
    const result: { affectedRows: number } = await manager.query(
      `UPDATE mod_mikrotikvpn_sessions s JOIN mod_mikrotikvpn_routers r ON r.id = s.router_id
          JOIN mod_mikrotikvpn_accounts a ON a.id = s.account_id
          SET s.download_bytes = IF(s.ended_at IS NULL, ${openBytes('download')}, s.download_bytes),
              s.upload_bytes = IF(s.ended_at IS NULL, ${openBytes('upload')}, s.upload_bytes),
              s.last_seen_at = IF(s.ended_at IS NULL, GREATEST(s.last_seen_at, COALESCE(r.last_read_at, s.last_seen_at)), s.last_seen_at),
              s.ended_at = UTC_TIMESTAMP(3), s.end_exact = 1, s.end_reason = ?
        WHERE s.account_id = ? AND s.protocol = 'ppp'${only.replace('ros_session_id', 's.ros_session_id')}
          AND (s.ended_at IS NULL OR (s.end_exact = 0 AND s.ended_at >= UTC_TIMESTAMP(3) - INTERVAL 60 SECOND))`,
      [reason.slice(0, 64), accountId],
    );
    return result.affectedRows;
  }

  /** A service's sessions, newest first, that overlap [from, to]. */
  async page(
    filter: { serviceId?: number; callerId?: string; from?: Date | null; to?: Date | null },
    first?: number,
    after?: string | null,
  ): Promise<Page<SessionView>> {
    const { size, cursorId } = pageRequest(first, after);
    if (filter.from && filter.to && filter.from > filter.to)
      throw new ValidationError('from must not be after to', { field: 'from' });
    const where: string[] = [];
    const params: unknown[] = [];
    if (filter.serviceId !== undefined) {
      where.push('s.service_id = ?');
      params.push(filter.serviceId);
    }
    if (filter.callerId !== undefined) {
      where.push('s.caller_id = ?');
      params.push(filter.callerId);
    }
    if (filter.to) {
      where.push('s.started_at <= ?');
      params.push(filter.to);
    }
    if (filter.from) {
      where.push('(s.ended_at IS NULL OR s.ended_at >= ?)');
      params.push(filter.from);
    }
    if (cursorId !== null) {
      where.push('s.id < ?');
      params.push(cursorId);
    }
    const rows: SessionRow[] = await this.db.query(
      `SELECT ${SESSION_COLUMNS} FROM ${SESSION_FROM} ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
        ORDER BY s.id DESC LIMIT ${size + 1}`,
      params,
    );
    return toPage(rows.map(toView), size, (s) => s.id);
  }

  /**
   * Who had `address` at instant `at`: the session that held it then (certain when `at` is before
   * its last sighting or its exact end; else it ended somewhere between the two readings), or
   * why there is none.
   */
  async addressOwner(address: string, at: Date): Promise<AddressOwnerAnswer> {
    const value = address.trim();
    if (!net.isIP(value))
      throw new ValidationError('address must be an IPv4 or IPv6 address', { field: 'address' });
    if (Number.isNaN(at.getTime())) throw new ValidationError('at must be a time', { field: 'at' });
    const [{ now }]: { now: Date }[] = await this.db.query('SELECT UTC_TIMESTAMP(3) AS now');
    if (at.getTime() > now.getTime())
      throw new ValidationError('at is in the future: nobody has had the address yet', { field: 'at' });
    const servers: { assignedips: string | null }[] = await this.db.query(
      `SELECT s.assignedips FROM tblservers s JOIN mod_mikrotikvpn_routers r ON r.server_id = s.id`,
    );
    const ours = servers.some((s) => parseAddressList(s.assignedips ?? '').addresses.includes(value));
    const rows: SessionRow[] = await this.db.query(
      `SELECT ${SESSION_COLUMNS} FROM ${SESSION_FROM}
        WHERE s.address = ? AND s.started_at <= ? AND (s.ended_at IS NULL OR s.ended_at >= ?)
        ORDER BY s.started_at DESC LIMIT 2`,
      [value, at, at],
    );
    const session = rows.length ? toView(rows[0]) : null;
    if (session) {
      const certain = session.endExact
        ? true
        : session.endedAt === null || at.getTime() <= session.lastSeenAt.getTime();
      return { address: value, at, ours, session, certain, reason: null, reasonCode: null };
    }
    const [oldest]: { first: Date | null }[] = await this.db.query(
      'SELECT MIN(started_at) AS first FROM mod_mikrotikvpn_sessions',
    );
    const reasonCode = !ours
      ? 'NOT_OURS'
      : !oldest.first || at < oldest.first
        ? 'BEFORE_RETENTION'
        : 'NO_SESSION';
    const reason = {
      NOT_OURS: 'not ours: the address is in no server’s Assigned IP Addresses',
      BEFORE_RETENTION:
        'before the oldest session kept (older sessions are pruned with the product’s history)',
      NO_SESSION: 'no session held the address at that time',
    }[reasonCode];
    return { address: value, at, ours, session: null, certain: true, reason, reasonCode };
  }

  /**
   * RouterOS keeps why each secret's last session ended (read with the secrets, by reconcile). That
   * reason goes to the account's latest session on this router when a reading closed it (not our own
   * action, not a restart) and no session of the account has opened since, and the caller ids agree.
   * A connection that began and ended between two readings is never seen; its reason could be
   * mistaken for the one before it only if it came from the same caller. One statement.
   */
  async applyDisconnectReasons(routerId: number, last: readonly LastDisconnect[]): Promise<number> {
    const known = last.filter((l) => ROUTEROS_END_REASON[l.reason] !== undefined);
    if (!known.length) return 0;
    const ids = known.map((l) => Number(l.accountId)).join(',');
    const reasonCase = `CASE s.account_id ${known.map((l) => `WHEN ${Number(l.accountId)} THEN ${escape(ROUTEROS_END_REASON[l.reason])}`).join(' ')} END`;
    const callerCase = `CASE s.account_id ${known.map((l) => `WHEN ${Number(l.accountId)} THEN ${escape(l.callerId)}`).join(' ')} END`;
    const result: { affectedRows: number } = await this.db.query(
      `UPDATE mod_mikrotikvpn_sessions s
         JOIN (SELECT account_id, MAX(id) AS id FROM mod_mikrotikvpn_sessions
                WHERE router_id = ? AND account_id IN (${ids}) GROUP BY account_id) latest ON latest.id = s.id
          SET s.end_reason = ${reasonCase}
        WHERE s.ended_at IS NOT NULL AND s.end_exact = 0 AND s.end_reason = 'disconnected'
          AND (s.caller_id IS NULL OR ${callerCase} IS NULL OR s.caller_id = ${callerCase})`,
      [routerId],
    );
    return result.affectedRows;
  }

  /** Deletes sessions that ended before `before` for accounts of these products, in chunks. */
  async prune(productIds: number[], before: Date, chunk = 5000): Promise<number> {
    let removed = 0;
    for (;;) {
      const rows: { id: string }[] = await this.db.query(
        `SELECT s.id FROM mod_mikrotikvpn_sessions s JOIN mod_mikrotikvpn_accounts a ON a.id = s.account_id
          WHERE a.product_id IN (${productIds.map(() => '?').join(',')}) AND s.ended_at < ? LIMIT ${chunk}`,
        [...productIds, before],
      );
      if (!rows.length) return removed;
      await this.db.query(
        `DELETE FROM mod_mikrotikvpn_sessions WHERE id IN (${rows.map((r) => BigInt(r.id)).join(',')})`,
      );
      removed += rows.length;
      if (rows.length < chunk) return removed;
    }
  }

  /** How many of each account's sessions were ended as duplicates (for the account's status). */
  async duplicatesEnded(accountIds: readonly number[]): Promise<Map<number, number>> {
    if (!accountIds.length) return new Map();
    const rows: { account_id: number; n: string | number }[] = await this.db.query(
      `SELECT account_id, COUNT(*) AS n FROM mod_mikrotikvpn_sessions
        WHERE account_id IN (${accountIds.map(() => '?').join(',')}) AND end_reason = ? GROUP BY account_id`,
      [...accountIds, END_REASON.duplicate],
    );
    return new Map(rows.map((r) => [r.account_id, Number(r.n)]));
  }
}

/** The answer of {@link SessionLog.addressOwner}. */
export interface AddressOwnerAnswer {
  address: string;
  at: Date;
  /** The address is in a server's Assigned IP Addresses. */
  ours: boolean;
  session: SessionView | null;
  /** False when `at` falls between the session's last sighting and the reading that found it gone. */
  certain: boolean;
  /** Why there is no session. */
  reason: string | null;
  /** The same, as a stable code for screens: NOT_OURS, BEFORE_RETENTION, NO_SESSION. */
  reasonCode: 'NOT_OURS' | 'BEFORE_RETENTION' | 'NO_SESSION' | null;
}
