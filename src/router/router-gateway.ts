import { customerToQueuePair, queuePairToCustomer } from './direction';
import { RouterTrapError, isNoSuchItem } from './router-errors';
import { RouterError } from '../errors/app-errors';
import { ErrorCode } from '../errors/error-code';
import { parseRouterDuration } from './router-duration';
import type { RosRow } from './router-session';
import type { RouterSessionPool } from './router-session-pool';
import type { RouterTarget } from './router-target';
import {
  WG_INTERFACE_PROPS,
  WG_PEER_PROPS,
  peerWords,
  toWireGuardInterface,
  toWireGuardPeer,
  type WireGuardInterface,
  type WireGuardPeer,
  type WireGuardPeerSpec,
} from './wireguard';

/** PPP services a secret may be limited to. */
export type PppService = 'any' | 'async' | 'l2tp' | 'ovpn' | 'pppoe' | 'pptp' | 'sstp';

/** What the product writes into a PPP secret. */
export interface PppSecretSpec {
  name: string;
  password: string;
  service?: PppService;
  profile?: string;
  /** The account's fixed address; null clears it. */
  remoteAddress?: string | null;
  comment?: string;
  disabled?: boolean;
}

/** A PPP secret as read back (never with its password). */
export interface PppSecret {
  id: string;
  name: string;
  service: string;
  profile: string;
  remoteAddress: string | null;
  comment: string | null;
  disabled: boolean;
  /** Why the last session of this secret ended, as RouterOS says (`hung-up`, `peer-request`, ...); null when none is known. */
  lastDisconnectReason?: string | null;
  /** The caller id of that last session. */
  lastCallerId?: string | null;
}

export interface PppProfile {
  id: string;
  name: string;
  localAddress: string | null;
  remoteAddress: string | null;
  rateLimit: string | null;
  /** `only-one`: `yes` = RouterOS refuses a second login of a user with this profile. */
  onlyOne: string | null;
  /** Built-in profile (`default`, `default-encryption`). */
  isDefault: boolean;
}

/** Speed limit in bits per second, customer's perspective. */
export interface SpeedLimit {
  downloadBps: bigint | number;
  uploadBps: bigint | number;
}

/** What the product writes into a simple queue. */
export interface SimpleQueueSpec {
  name: string;
  /** The account's IPv4 address; the queue targets `<address>/32`. */
  address: string;
  maxLimit: SpeedLimit;
  comment?: string;
  disabled?: boolean;
}

/**
 * Byte counters of one simple queue, customer's perspective. Counters are `bigint`: RouterOS
 * counters are 64-bit and may pass 2^53; convert with `.toString()` for the database.
 */
export interface QueueCounters {
  id: string;
  name: string;
  /** The queue's target as printed (e.g. `10.64.0.1/32`, comma-separated when several). */
  target: string;
  downloadBytes: bigint;
  uploadBytes: bigint;
  /**
   * The queue's max-limit, customer perspective (a throttled account's speed is checked with it);
   * null when the row had none the reading understood (the counters are still read).
   */
  maxLimit: { downloadBps: bigint; uploadBps: bigint } | null;
}

export interface SimpleQueue extends QueueCounters {
  maxLimit: { downloadBps: bigint; uploadBps: bigint };
  comment: string | null;
  disabled: boolean;
  /** Created by RouterOS (e.g. a profile rate-limit), not by us. */
  dynamic: boolean;
  parent: string;
}

export interface ActiveSession {
  id: string;
  name: string;
  service: string;
  callerId: string;
  address: string;
  uptimeSeconds: number;
}

export interface SystemResource {
  /** e.g. `7.16.2 (stable)`. */
  version: string;
  /** Seconds since boot; a smaller value than last time means the router rebooted. */
  uptimeSeconds: number;
  boardName: string | null;
}

const ACTIVE_PROPS = '.id,name,service,caller-id,address,uptime';
const QUEUE_COUNTER_PROPS = '.id,name,target,bytes,max-limit';
const QUEUE_PROPS = '.id,name,target,parent,max-limit,bytes,comment,disabled,dynamic';
const SECRET_PROPS =
  '.id,name,service,profile,remote-address,comment,disabled,last-disconnect-reason,last-caller-id';

const orNull = (value: string | undefined) => (value === undefined || value === '' ? null : value);
const yes = (flag: boolean) => (flag ? 'yes' : 'no');

/** Parses one `/ppp/active` row. */
export function toActiveSession(row: RosRow): ActiveSession {
  return {
    id: row['.id'],
    name: row.name,
    service: row.service ?? '',
    callerId: row['caller-id'] ?? '',
    address: row.address ?? '',
    uptimeSeconds: row.uptime ? parseRouterDuration(row.uptime) : 0,
  };
}

/** Parses one `/ppp/secret` row (printed without its password). */
export function toPppSecret(row: RosRow): PppSecret {
  return {
    id: row['.id'],
    name: row.name,
    service: row.service ?? 'any',
    profile: row.profile ?? 'default',
    remoteAddress: orNull(row['remote-address']),
    comment: orNull(row.comment),
    disabled: row.disabled === 'true',
    lastDisconnectReason: orNull(row['last-disconnect-reason']),
    lastCallerId: orNull(row['last-caller-id']),
  };
}

/**
 * Parses one `/queue/simple` row's counters. A row without `bytes` is refused, not read as zero:
 * a zero would look like a counter reset and the same bytes would be billed again later.
 */
export function toQueueCounters(row: RosRow, routerId: string): QueueCounters {
  if (row.bytes === undefined || !/^\d+\/\d+$/.test(row.bytes.trim())) {
    throw new RouterError(
      ErrorCode.ROUTER_ERROR,
      `Router ${routerId} sent simple queue ${JSON.stringify(row.name ?? row['.id'])} without valid byte counters`,
      routerId,
    );
  }
  const bytes = queuePairToCustomer(row.bytes);
  const limit = /^\d+\/\d+$/.test((row['max-limit'] ?? '').trim())
    ? queuePairToCustomer(row['max-limit'])
    : null;
  return {
    id: row['.id'],
    name: row.name,
    target: row.target ?? '',
    downloadBytes: bytes.download,
    uploadBytes: bytes.upload,
    maxLimit: limit && { downloadBps: limit.download, uploadBps: limit.upload },
  };
}

/** Parses one `/queue/simple` row with its limits, comment and flags. */
export function toSimpleQueue(row: RosRow, routerId: string): SimpleQueue {
  const limit = queuePairToCustomer(row['max-limit'] ?? '0/0');
  return {
    ...toQueueCounters(row, routerId),
    maxLimit: { downloadBps: limit.download, uploadBps: limit.upload },
    comment: orNull(row.comment),
    disabled: row.disabled === 'true',
    dynamic: row.dynamic === 'true',
    parent: row.parent ?? 'none',
  };
}

/**
 * The RouterOS operations the product needs, each one small and typed. Every call goes through the
 * session pool, so it shares the router's session and inherits its timeouts and typed errors.
 * Items are changed by their `.id` (found with a filtered print first, as RouterOS billing code does;
 * a name in `numbers` would be split at commas), with only the words the change needs.
 */
export class RouterGateway {
  constructor(private readonly pool: RouterSessionPool) {}

  /** Runs a raw command (words as on the wire). Prefer the typed methods. */
  run(target: RouterTarget, words: string[]): Promise<RosRow[]> {
    return this.pool.run(target, words);
  }

  /** `/system/identity` name. */
  async identity(target: RouterTarget): Promise<string> {
    const [row] = await this.pool.run(target, ['/system/identity/print']);
    return row?.name ?? '';
  }

  /** Version and uptime (boot detection). */
  async systemResource(target: RouterTarget): Promise<SystemResource> {
    const [row] = await this.pool.run(target, [
      '/system/resource/print',
      '=.proplist=version,uptime,board-name',
    ]);
    return {
      version: row?.version ?? '',
      uptimeSeconds: row?.uptime ? parseRouterDuration(row.uptime) : 0,
      boardName: orNull(row?.['board-name']),
    };
  }

  /** PPP profiles, for the product settings dropdown. */
  async listPppProfiles(target: RouterTarget): Promise<PppProfile[]> {
    const rows = await this.pool.run(target, [
      '/ppp/profile/print',
      '=.proplist=.id,name,local-address,remote-address,rate-limit,only-one,default',
    ]);
    return rows.map((row) => ({
      id: row['.id'],
      name: row.name,
      localAddress: orNull(row['local-address']),
      remoteAddress: orNull(row['remote-address']),
      rateLimit: orNull(row['rate-limit']),
      onlyOne: orNull(row['only-one']),
      isDefault: row.default === 'true',
    }));
  }

  /** Every PPP secret (without passwords): one print. */
  async listPppSecrets(target: RouterTarget): Promise<PppSecret[]> {
    const rows = await this.pool.run(target, ['/ppp/secret/print', `=.proplist=${SECRET_PROPS}`]);
    return rows.map(toPppSecret);
  }

  /** One PPP secret by name (without its password), or null: one filtered print. */
  async findPppSecret(target: RouterTarget, name: string): Promise<PppSecret | null> {
    const rows = await this.pool.run(target, [
      '/ppp/secret/print',
      `?name=${name}`,
      `=.proplist=${SECRET_PROPS}`,
    ]);
    return rows.length > 0 ? toPppSecret(rows[0]) : null;
  }

  /** Adds a PPP secret; resolves with its `.id`. A taken name is a RouterTrapError. */
  async addPppSecret(target: RouterTarget, spec: PppSecretSpec): Promise<string> {
    const rows = await this.pool.run(target, [
      '/ppp/secret/add',
      `=name=${spec.name}`,
      `=password=${spec.password}`,
      `=service=${spec.service ?? 'any'}`,
      ...secretFields(spec),
    ]);
    return rows[0]?.ret ?? '';
  }

  /** Adds a simple queue on `<address>/32`; resolves with its `.id`. */
  async addSimpleQueue(target: RouterTarget, spec: SimpleQueueSpec): Promise<string> {
    const rows = await this.pool.run(target, [
      '/queue/simple/add',
      `=name=${spec.name}`,
      ...queueFields(spec),
    ]);
    return rows[0]?.ret ?? '';
  }

  /** All simple queues in router order (order matters: the first matching queue takes the packet). */
  async listSimpleQueues(target: RouterTarget): Promise<SimpleQueue[]> {
    const rows = await this.pool.run(target, ['/queue/simple/print', `=.proplist=${QUEUE_PROPS}`]);
    return rows.map((row) => toSimpleQueue(row, target.id));
  }

  /**
   * Byte counters of every simple queue (one print), or of the queues with the given names (one
   * filtered print: the names are OR-ed in one query).
   */
  async readQueueCounters(target: RouterTarget, names?: readonly string[]): Promise<QueueCounters[]> {
    const rows = await this.pool.run(target, [
      '/queue/simple/print',
      ...(names ? nameQuery(names) : []),
      `=.proplist=${QUEUE_COUNTER_PROPS}`,
    ]);
    return rows.map((row) => toQueueCounters(row, target.id));
  }

  /** Every active PPP session: one print. */
  async listActiveSessions(target: RouterTarget): Promise<ActiveSession[]> {
    const rows = await this.pool.run(target, ['/ppp/active/print', `=.proplist=${ACTIVE_PROPS}`]);
    return rows.map(toActiveSession);
  }

  /** Every active session of one user name (normally none or one). */
  async sessionsOf(target: RouterTarget, name: string): Promise<ActiveSession[]> {
    const rows = await this.pool.run(target, [
      '/ppp/active/print',
      `?name=${name}`,
      `=.proplist=${ACTIVE_PROPS}`,
    ]);
    return rows.map(toActiveSession);
  }

  /** Ends every active session of `name`; resolves with how many there were. */
  async kick(target: RouterTarget, name: string): Promise<number> {
    const rows = await this.pool.run(target, ['/ppp/active/print', `?name=${name}`, '=.proplist=.id']);
    const ids = rows.map((row) => row['.id']).filter(Boolean);
    if (ids.length === 0) return 0;
    try {
      await this.pool.run(target, ['/ppp/active/remove', `=numbers=${ids.join(',')}`]);
    } catch (error) {
      // The session ended between the print and the remove: nothing left to kick.
      if (isNoSuchItem(error)) return 0;
      throw error;
    }
    return ids.length;
  }

  /** Ends the active sessions with these `.id`s; resolves with how many were still there. */
  async endActiveSessions(target: RouterTarget, ids: readonly string[]): Promise<number> {
    let ended = 0;
    for (const id of ids) {
      try {
        await this.pool.run(target, ['/ppp/active/remove', `=.id=${id}`]);
        ended++;
      } catch (error) {
        if (!isNoSuchItem(error)) throw error;
      }
    }
    return ended;
  }

  /** One PPP secret by its `.id` (without its password), or null. */
  async findPppSecretById(target: RouterTarget, id: string): Promise<PppSecret | null> {
    const rows = await this.pool.run(target, [
      '/ppp/secret/print',
      `?.id=${id}`,
      `=.proplist=${SECRET_PROPS}`,
    ]);
    return rows.length > 0 ? toPppSecret(rows[0]) : null;
  }

  /** One simple queue by name, or by `.id` when `id` is given and no queue has the name. */
  async findSimpleQueue(
    target: RouterTarget,
    name: string,
    id: string | null = null,
  ): Promise<SimpleQueue | null> {
    const rows = await this.pool.run(target, [
      '/queue/simple/print',
      `?name=${name}`,
      ...(id ? [`?.id=${id}`, '?#|'] : []),
      `=.proplist=${QUEUE_PROPS}`,
    ]);
    const queues = rows.map((row) => toSimpleQueue(row, target.id));
    return queues.find((q) => q.name === name) ?? queues[0] ?? null;
  }

  /**
   * The router's WireGuard interfaces; none on a router without WireGuard (RouterOS 6 answers
   * the menu with a trap, which is read as "none").
   */
  async listWireGuardInterfaces(target: RouterTarget): Promise<WireGuardInterface[]> {
    try {
      const rows = await this.pool.run(target, [
        '/interface/wireguard/print',
        `=.proplist=${WG_INTERFACE_PROPS}`,
      ]);
      return rows.map(toWireGuardInterface);
    } catch (error) {
      if (isNoSuchMenu(error)) return [];
      throw error;
    }
  }

  /** Every WireGuard peer of the router (status and reconcile): one print. */
  async listWireGuardPeers(target: RouterTarget): Promise<WireGuardPeer[]> {
    try {
      const rows = await this.pool.run(target, [
        '/interface/wireguard/peers/print',
        `=.proplist=${WG_PEER_PROPS}`,
      ]);
      return rows.map(toWireGuardPeer);
    } catch (error) {
      if (isNoSuchMenu(error)) return [];
      throw error;
    }
  }

  /** The peer with this public key, else the one with this `.id`; null when neither exists. */
  async findWireGuardPeer(
    target: RouterTarget,
    publicKey: string | null,
    id: string | null = null,
  ): Promise<WireGuardPeer | null> {
    if (!publicKey && !id) return null;
    const query = [
      ...(publicKey ? [`?public-key=${publicKey}`] : []),
      ...(id ? [`?.id=${id}`] : []),
      ...(publicKey && id ? ['?#|'] : []),
    ];
    let rows: RosRow[];
    try {
      rows = await this.pool.run(target, [
        '/interface/wireguard/peers/print',
        ...query,
        `=.proplist=${WG_PEER_PROPS}`,
      ]);
    } catch (error) {
      if (isNoSuchMenu(error)) return null;
      throw error;
    }
    const peers = rows.map(toWireGuardPeer);
    return peers.find((p) => publicKey && p.publicKey === publicKey) ?? peers[0] ?? null;
  }

  /** Adds a peer; resolves with its `.id`. A public key already on the router is a RouterTrapError. */
  async addWireGuardPeer(target: RouterTarget, spec: WireGuardPeerSpec): Promise<string> {
    const rows = await this.pool.run(target, ['/interface/wireguard/peers/add', ...peerWords(spec)]);
    return rows[0]?.ret ?? '';
  }

  /** Changes a peer found by `.id`; false when it is gone. */
  setWireGuardPeerById(
    target: RouterTarget,
    id: string,
    patch: Partial<WireGuardPeerSpec>,
  ): Promise<boolean> {
    return this.onItem(target, '/interface/wireguard/peers', id, 'set', peerWords(patch));
  }

  /**
   * Changes one item by `.id` with only the given words (`set`), or enables, disables or removes
   * it. False when the item is gone. Enforcement uses this: `disable` sends nothing but the id, so
   * no other field (a profile renamed on the router, say) can make it fail.
   */
  async onItem(
    target: RouterTarget,
    menu: '/ppp/secret' | '/queue/simple' | '/interface/wireguard/peers',
    id: string,
    verb: 'set' | 'enable' | 'disable' | 'remove',
    words: string[] = [],
  ): Promise<boolean> {
    try {
      await this.pool.run(target, [`${menu}/${verb}`, `=.id=${id}`, ...words]);
    } catch (error) {
      if (isNoSuchItem(error)) return false;
      throw error;
    }
    return true;
  }

  /** Changes a secret found by `.id`; false when it is gone. */
  setPppSecretById(target: RouterTarget, id: string, patch: Partial<PppSecretSpec>): Promise<boolean> {
    return this.onItem(target, '/ppp/secret', id, 'set', secretWords(patch));
  }

  /** Changes a queue found by `.id`; false when it is gone. */
  setSimpleQueueById(target: RouterTarget, id: string, patch: Partial<SimpleQueueSpec>): Promise<boolean> {
    return this.onItem(target, '/queue/simple', id, 'set', queueWords(patch));
  }
}

/** The trap of a menu the router does not have (RouterOS 6 and `/interface/wireguard`). */
function isNoSuchMenu(error: unknown): boolean {
  return error instanceof RouterTrapError && /^no such command/.test(error.routerMessage);
}

/** `?name=a ?name=b ?#|`: items named any of `names` (none: a query nothing matches). */
function nameQuery(names: readonly string[]): string[] {
  if (names.length === 0) return ['?.id=*NONE'];
  return [
    ...names.map((n) => `?name=${n}`),
    ...(names.length > 1 ? [`?#${'|'.repeat(names.length - 1)}`] : []),
  ];
}

/** The words of a secret's `set`: only the fields given. */
function secretWords(patch: Partial<PppSecretSpec>): string[] {
  const words = secretFields(patch);
  if (patch.name !== undefined) words.push(`=name=${patch.name}`);
  if (patch.password !== undefined) words.push(`=password=${patch.password}`);
  if (patch.service !== undefined) words.push(`=service=${patch.service}`);
  return words;
}

/** The words of a queue's `set`: only the fields given. */
function queueWords(patch: Partial<SimpleQueueSpec>): string[] {
  const words = queueFields(patch);
  if (patch.name !== undefined) words.push(`=name=${patch.name}`);
  return words;
}

function secretFields(spec: Partial<PppSecretSpec>): string[] {
  const words: string[] = [];
  if (spec.profile !== undefined) words.push(`=profile=${spec.profile}`);
  if (spec.remoteAddress !== undefined) words.push(`=remote-address=${spec.remoteAddress ?? ''}`);
  if (spec.comment !== undefined) words.push(`=comment=${spec.comment}`);
  if (spec.disabled !== undefined) words.push(`=disabled=${yes(spec.disabled)}`);
  return words;
}

function queueFields(spec: Partial<SimpleQueueSpec>): string[] {
  const words: string[] = [];
  if (spec.address !== undefined) words.push(`=target=${spec.address}/32`);
  if (spec.maxLimit !== undefined) {
    words.push(
      `=max-limit=${customerToQueuePair({ download: spec.maxLimit.downloadBps, upload: spec.maxLimit.uploadBps })}`,
    );
  }
  if (spec.comment !== undefined) words.push(`=comment=${spec.comment}`);
  if (spec.disabled !== undefined) words.push(`=disabled=${yes(spec.disabled)}`);
  return words;
}
