import { isIPv4 } from 'node:net';
import {
  WG_DEFAULT_LISTEN_PORT,
  WG_DEFAULT_MTU,
  WG_SESSION_SECONDS,
  type WgInterfaceRow,
  type WgPeerRow,
  firstHostAddress,
  generateWireGuardPrivateKey,
  wireGuardPublicKey,
} from './wireguard-model';

export type { WgInterfaceRow, WgPeerRow } from './wireguard-model';

/**
 * The data a simulated router holds (PPP secrets, profiles, active sessions, simple queues,
 * WireGuard interfaces and peers, identity, boot time) and the things that happen to it outside the
 * API: PPP clients connecting and disconnecting, WireGuard handshakes, traffic flowing through
 * queues and tunnels, reboots. Field names, defaults and error texts follow RouterOS 7 (see the
 * shared routeros notes and docs/router.md), not our adapter.
 */

/** A `!trap` the API layer sends back; `category` is optional, as on real routers. */
export class RosTrap extends Error {
  constructor(
    message: string,
    readonly category?: number,
  ) {
    super(message);
    this.name = 'RosTrap';
  }
}

/** Several `!trap` sentences for one command (RouterOS does this for unknown menus). */
export class RosMultiTrap extends Error {
  constructor(readonly traps: RosTrap[]) {
    super(traps.map((trap) => trap.message).join(', '));
    this.name = 'RosMultiTrap';
  }
}

export interface SecretRow {
  id: string;
  name: string;
  service: string;
  callerId: string;
  password: string;
  profile: string;
  localAddress: string;
  remoteAddress: string;
  routes: string;
  ipv6Routes: string;
  limitBytesIn: string;
  limitBytesOut: string;
  lastLoggedOut: string;
  lastCallerId: string;
  lastDisconnectReason: string;
  comment: string;
  disabled: boolean;
}

export interface ProfileRow {
  id: string;
  name: string;
  localAddress: string;
  remoteAddress: string;
  rateLimit: string;
  onlyOne: string;
  useEncryption: string;
  changeTcpMss: string;
  comment: string;
  builtin: boolean;
}

export interface ActiveRow {
  id: string;
  name: string;
  service: string;
  callerId: string;
  address: string;
  connectedAt: number;
  encoding: string;
  sessionId: string;
  limitBytesIn: string;
  limitBytesOut: string;
}

/** Rates are in bits per second; every pair is [upload, download] as RouterOS writes them. */
export interface QueueRow {
  id: string;
  name: string;
  targets: string[];
  parent: string;
  priority: string;
  queue: string;
  limitAt: [bigint, bigint];
  maxLimit: [bigint, bigint];
  burstLimit: [bigint, bigint];
  burstThreshold: [bigint, bigint];
  burstTime: string;
  bucketSize: string;
  packetMarks: string;
  bytes: [bigint, bigint];
  packets: [bigint, bigint];
  comment: string;
  disabled: boolean;
  dynamic: boolean;
}

/** A simple queue as RouterOS makes one with `add` and only a target: its defaults, then `fields`. */
export function queueRow(fields: Partial<QueueRow> = {}): QueueRow {
  return {
    id: '',
    name: '',
    targets: [],
    parent: 'none',
    priority: '8/8',
    queue: 'default-small/default-small',
    limitAt: [0n, 0n],
    maxLimit: [0n, 0n],
    burstLimit: [0n, 0n],
    burstThreshold: [0n, 0n],
    burstTime: '0s/0s',
    bucketSize: '0.1/0.1',
    packetMarks: '',
    bytes: [0n, 0n],
    packets: [0n, 0n],
    comment: '',
    disabled: false,
    dynamic: false,
    ...fields,
  };
}

/** Insertion-ordered rows with RouterOS-style `*HEX` ids. */
export class RowTable<T extends { id: string }> {
  private readonly rows = new Map<string, T>();
  private nextId: number;

  constructor(firstId = 1) {
    this.nextId = firstId;
  }

  allocateId(): string {
    return `*${(this.nextId++).toString(16).toUpperCase()}`;
  }

  insert(row: T): T {
    this.rows.set(row.id, row);
    return row;
  }

  get(id: string): T | undefined {
    return this.rows.get(id);
  }

  delete(id: string): boolean {
    return this.rows.delete(id);
  }

  values(): IterableIterator<T> {
    return this.rows.values();
  }

  get size(): number {
    return this.rows.size;
  }

  clear(): void {
    this.rows.clear();
  }
}

export const PPP_SERVICES = ['any', 'async', 'l2tp', 'ovpn', 'pppoe', 'pptp', 'sstp'] as const;

/** Options for {@link RouterState.connect}. */
export interface ConnectOptions {
  /** Client MAC (PPPoE) or client IP (tunnels); defaults to a documentation address. */
  callerId?: string;
  /** Service shown on the session; defaults to the secret's service, or l2tp for `any`. */
  service?: string;
  /** Address given to the client; defaults to the secret's remote-address or a pool address. */
  address?: string;
  /**
   * A second login of a user who is already connected, as RouterOS allows unless the secret's
   * profile has `only-one=yes`. Without it, a second login throws (a test mistake, usually).
   */
  another?: boolean;
}

/** Result of {@link RouterState.pushTraffic}: which queue counted the bytes, if any. */
export interface TrafficResult {
  queueName: string | null;
}

/** Result of {@link RouterState.pushPeerTraffic}: whether the tunnel carried it, and which queue counted it. */
export interface PeerTrafficResult {
  passed: boolean;
  queueName: string | null;
}

/** Where a simulated WireGuard client handshakes from when the test does not say. */
export const WG_DEFAULT_CLIENT_ENDPOINT = { address: '203.0.113.50', port: 51820 } as const;

/** Everything a simulated router remembers. Mutate it only through its methods or the API. */
export class RouterState {
  readonly secrets = new RowTable<SecretRow>();
  readonly profiles = new RowTable<ProfileRow>();
  readonly active = new RowTable<ActiveRow>(0x80000001);
  readonly queues = new RowTable<QueueRow>();
  readonly wgInterfaces = new RowTable<WgInterfaceRow>();
  readonly wgPeers = new RowTable<WgPeerRow>();
  identity: string;
  version: string;
  /** Epoch ms of the last (simulated) boot; uptime is measured from it. */
  bootTime = Date.now();
  private readonly secretsByName = new Map<string, SecretRow>();
  private readonly queuesByName = new Map<string, QueueRow>();
  private readonly activeByName = new Map<string, ActiveRow>();
  private readonly wgPeersByKey = new Map<string, WgPeerRow>();
  private sessionCounter = 0x81100000;
  private poolCounter = 2;

  constructor(options: { identity?: string; version?: string } = {}) {
    this.identity = options.identity ?? 'MikroTik';
    this.version = options.version ?? '7.16.2';
    this.profiles.insert(builtinProfile('*0', 'default', 'default'));
    this.profiles.insert(builtinProfile('*FFFFFFFE', 'default-encryption', 'yes'));
  }

  /** Seconds since the last (simulated) boot. */
  get uptimeSeconds(): number {
    return Math.floor((Date.now() - this.bootTime) / 1000);
  }

  /** True when this RouterOS version answers an empty print with `!empty` (7.18 and later). */
  get sendsEmptySentence(): boolean {
    return this.versionAtLeast(7, 18);
  }

  /** True when the version is `major.minor.patch` or later (`7.12` counts as `7.12.0`). */
  versionAtLeast(major: number, minor = 0, patch = 0): boolean {
    const [a = 0, b = 0, c = 0] = this.version.split('.').map((part) => Number.parseInt(part, 10) || 0);
    return a !== major ? a > major : b !== minor ? b > minor : c >= patch;
  }

  /** WireGuard exists from RouterOS 7 on; a 6.x router has no `/interface/wireguard` menu. */
  get hasWireGuard(): boolean {
    return this.versionAtLeast(7);
  }

  findSecret(name: string): SecretRow | undefined {
    return this.secretsByName.get(name);
  }

  findQueue(name: string): QueueRow | undefined {
    return this.queuesByName.get(name);
  }

  findActive(name: string): ActiveRow | undefined {
    return this.activeByName.get(name);
  }

  findProfile(name: string): ProfileRow | undefined {
    for (const profile of this.profiles.values()) if (profile.name === name) return profile;
    return undefined;
  }

  findWgInterface(name: string): WgInterfaceRow | undefined {
    for (const row of this.wgInterfaces.values()) if (row.name === name) return row;
    return undefined;
  }

  findPeerByPublicKey(publicKey: string): WgPeerRow | undefined {
    return this.wgPeersByKey.get(publicKey);
  }

  // --- rows changed through the API keep the name indexes right ---

  insertSecret(row: SecretRow): void {
    this.secrets.insert(row);
    this.secretsByName.set(row.name, row);
  }

  renameSecret(row: SecretRow, name: string): void {
    this.secretsByName.delete(row.name);
    row.name = name;
    this.secretsByName.set(name, row);
  }

  deleteSecret(row: SecretRow): void {
    this.secrets.delete(row.id);
    this.secretsByName.delete(row.name);
  }

  insertQueue(row: QueueRow): void {
    this.queues.insert(row);
    this.queuesByName.set(row.name, row);
  }

  renameQueue(row: QueueRow, name: string): void {
    this.queuesByName.delete(row.name);
    row.name = name;
    this.queuesByName.set(name, row);
  }

  deleteQueue(row: QueueRow): void {
    this.queues.delete(row.id);
    this.queuesByName.delete(row.name);
  }

  insertWgInterface(row: WgInterfaceRow): void {
    this.wgInterfaces.insert(row);
  }

  /** Peers name their interface, so a rename shows in them. */
  renameWgInterface(row: WgInterfaceRow, name: string): void {
    for (const peer of this.wgPeers.values()) if (peer.interface === row.name) peer.interface = name;
    row.name = name;
  }

  /** Removes the interface and, with it, its peers (our choice: see docs/router.md). */
  deleteWgInterface(row: WgInterfaceRow): void {
    for (const peer of [...this.wgPeers.values()]) if (peer.interface === row.name) this.deleteWgPeer(peer);
    this.wgInterfaces.delete(row.id);
  }

  insertWgPeer(row: WgPeerRow): void {
    this.wgPeers.insert(row);
    this.wgPeersByKey.set(row.publicKey, row);
  }

  rekeyWgPeer(row: WgPeerRow, publicKey: string): void {
    this.wgPeersByKey.delete(row.publicKey);
    row.publicKey = publicKey;
    this.wgPeersByKey.set(publicKey, row);
  }

  deleteWgPeer(row: WgPeerRow): void {
    this.wgPeers.delete(row.id);
    this.wgPeersByKey.delete(row.publicKey);
  }

  /**
   * Forgets a peer's tunnel: no handshake, no current endpoint, so it must handshake again. Used when
   * the peer or its interface is disabled, its key changes, and at reboot. rx/tx are kept.
   */
  endWgSession(row: WgPeerRow): void {
    row.lastHandshakeAt = null;
    row.currentEndpointAddress = '';
    row.currentEndpointPort = 0;
  }

  /** True when `peer` carries data now: it and its interface are enabled and its session is fresh. */
  wgPeerIsUp(peer: WgPeerRow, now = Date.now()): boolean {
    const iface = this.findWgInterface(peer.interface);
    return (
      !peer.disabled &&
      iface !== undefined &&
      !iface.disabled &&
      peer.lastHandshakeAt !== null &&
      now - peer.lastHandshakeAt <= WG_SESSION_SECONDS * 1000
    );
  }

  /** Ends a session the way `/ppp/active/remove` or a client hang-up does. */
  endSession(row: ActiveRow, reason: string): void {
    this.active.delete(row.id);
    if (this.activeByName.get(row.name) === row) {
      this.activeByName.delete(row.name);
      // Another session of the same user (a second login) is now the one found by name.
      for (const other of this.active.values()) {
        if (other.name === row.name) {
          this.activeByName.set(row.name, other);
          break;
        }
      }
    }
    const secret = this.secretsByName.get(row.name);
    if (secret) {
      secret.lastLoggedOut = formatClock(new Date(), this.version);
      secret.lastCallerId = row.callerId;
      secret.lastDisconnectReason = reason;
    }
  }

  // --- the outside world ---

  /**
   * A PPP client logs in as `name`. Throws when the secret is missing or disabled (the router would
   * refuse the login) or when the name already has a session.
   */
  connect(name: string, options: ConnectOptions = {}): ActiveRow {
    const secret = this.secretsByName.get(name);
    if (!secret) throw new Error(`no PPP secret named ${name}`);
    if (secret.disabled) throw new Error(`PPP secret ${name} is disabled; the router refuses the login`);
    if (this.activeByName.has(name)) {
      if (!options.another) throw new Error(`${name} already has an active session`);
      if (this.findProfile(secret.profile)?.onlyOne === 'yes')
        throw new Error(
          `profile ${secret.profile} has only-one=yes; the router refuses a second login of ${name}`,
        );
    }
    const service = options.service ?? (secret.service === 'any' ? 'l2tp' : secret.service);
    const row: ActiveRow = {
      id: this.active.allocateId(),
      name,
      service,
      callerId: options.callerId ?? (service === 'pppoe' ? '02:00:5E:10:00:01' : '198.51.100.7'),
      address: options.address ?? (secret.remoteAddress || this.nextPoolAddress()),
      connectedAt: Date.now(),
      encoding: service === 'pppoe' ? '' : 'cbc(aes) + hmac(sha1)',
      sessionId: `0x${(this.sessionCounter++).toString(16).toUpperCase()}`,
      limitBytesIn: secret.limitBytesIn,
      limitBytesOut: secret.limitBytesOut,
    };
    this.active.insert(row);
    if (!this.activeByName.has(name)) this.activeByName.set(name, row);
    return row;
  }

  /** The client of `name` hangs up. Returns false when it had no session. */
  disconnect(name: string, reason = 'peer-request'): boolean {
    const row = this.activeByName.get(name);
    if (!row) return false;
    this.endSession(row, reason);
    return true;
  }

  /**
   * Counts traffic through the first enabled simple queue whose name is `addressOrQueueName` or
   * whose target contains that address, as RouterOS gives a packet to the first matching queue only.
   * `downloadBytes` go to the customer (the queue's "download" half), `uploadBytes` come from them.
   */
  pushTraffic(
    addressOrQueueName: string,
    downloadBytes: bigint | number,
    uploadBytes: bigint | number,
  ): TrafficResult {
    const down = BigInt(downloadBytes);
    const up = BigInt(uploadBytes);
    const byName = this.queuesByName.get(addressOrQueueName);
    const queue =
      byName && !byName.disabled
        ? byName
        : this.firstQueueForAddress(addressOrQueueName.replace(/\/32$/, ''));
    if (!queue) return { queueName: null };
    countOnQueue(queue, down, up);
    return { queueName: queue.name };
  }

  /**
   * What an admin does on the router: `/interface/wireguard add name=… listen-port=… mtu=…`, with
   * a new private key. Throws when the version has no WireGuard or the name is taken.
   */
  addWireGuardInterface(
    name: string,
    options: { listenPort?: number; mtu?: number; disabled?: boolean } = {},
  ): WgInterfaceRow {
    if (!this.hasWireGuard) throw new Error(`RouterOS ${this.version} has no WireGuard`);
    if (this.findWgInterface(name)) throw new Error(`interface ${name} already exists`);
    const privateKey = generateWireGuardPrivateKey();
    const row: WgInterfaceRow = {
      id: this.wgInterfaces.allocateId(),
      name,
      listenPort: options.listenPort ?? WG_DEFAULT_LISTEN_PORT,
      mtu: options.mtu ?? WG_DEFAULT_MTU,
      privateKey,
      publicKey: wireGuardPublicKey(privateKey),
      comment: '',
      disabled: options.disabled ?? false,
    };
    this.insertWgInterface(row);
    return row;
  }

  /**
   * The client holding `publicKey` completes a handshake. It succeeds only when a peer has that key
   * and both it and its interface are enabled; then `last-handshake` restarts at 0s and the current
   * endpoint is where the client came from. False (and nothing changes) otherwise.
   */
  wireGuardHandshake(
    publicKey: string,
    options: { endpointAddress?: string; endpointPort?: number } = {},
  ): boolean {
    const peer = this.wgPeersByKey.get(publicKey);
    if (!peer || peer.disabled) return false;
    const iface = this.findWgInterface(peer.interface);
    if (!iface || iface.disabled) return false;
    peer.lastHandshakeAt = Date.now();
    peer.currentEndpointAddress = options.endpointAddress ?? WG_DEFAULT_CLIENT_ENDPOINT.address;
    peer.currentEndpointPort = options.endpointPort ?? WG_DEFAULT_CLIENT_ENDPOINT.port;
    return true;
  }

  /**
   * Traffic through the tunnel of the peer with `publicKey`. It passes only while the peer is up
   * ({@link wgPeerIsUp}: enabled, interface enabled, a handshake in the last 180 s). Then the peer
   * counts `rx += uploadBytes` (from the customer) and `tx += downloadBytes` (to them), the session
   * is refreshed as the client's 120 s rekey would keep it, and the bytes go through the simple
   * queues exactly as {@link pushTraffic} on the peer's first allowed IPv4 /32. Traffic that does
   * not pass is counted nowhere.
   */
  pushPeerTraffic(
    publicKey: string,
    downloadBytes: bigint | number,
    uploadBytes: bigint | number,
  ): PeerTrafficResult {
    const peer = this.wgPeersByKey.get(publicKey);
    const now = Date.now();
    if (!peer || !this.wgPeerIsUp(peer, now)) return { passed: false, queueName: null };
    const down = BigInt(downloadBytes);
    const up = BigInt(uploadBytes);
    peer.rx += up;
    peer.tx += down;
    peer.lastHandshakeAt = now;
    const address = firstHostAddress(peer.allowedAddress);
    const queue = address === null ? undefined : this.firstQueueForAddress(address);
    if (queue) countOnQueue(queue, down, up);
    return { passed: true, queueName: queue?.name ?? null };
  }

  /**
   * A reboot: counters and sessions live in RAM and are gone; uptime starts again. WireGuard peers
   * lose rx/tx, their handshake and their current endpoint.
   */
  reboot(): void {
    for (const row of [...this.active.values()]) this.endSession(row, 'reboot');
    for (const queue of this.queues.values()) {
      queue.bytes = [0n, 0n];
      queue.packets = [0n, 0n];
    }
    for (const peer of this.wgPeers.values()) {
      peer.rx = 0n;
      peer.tx = 0n;
      this.endWgSession(peer);
    }
    this.bootTime = Date.now();
  }

  private firstQueueForAddress(address: string): QueueRow | undefined {
    if (!isIPv4(address)) return undefined;
    for (const queue of this.queues.values()) {
      if (!queue.disabled && queue.targets.some((target) => targetContains(target, address))) return queue;
    }
    return undefined;
  }

  private nextPoolAddress(): string {
    const n = this.poolCounter++;
    return `10.255.${(n >> 8) & 255}.${n & 255}`;
  }
}

function builtinProfile(id: string, name: string, useEncryption: string): ProfileRow {
  return {
    id,
    name,
    localAddress: '',
    remoteAddress: '',
    rateLimit: '',
    onlyOne: 'default',
    useEncryption,
    changeTcpMss: 'yes',
    comment: '',
    builtin: true,
  };
}

function countOnQueue(queue: QueueRow, down: bigint, up: bigint): void {
  queue.bytes = [queue.bytes[0] + up, queue.bytes[1] + down];
  queue.packets = [queue.packets[0] + packetsFor(up), queue.packets[1] + packetsFor(down)];
}

function packetsFor(bytes: bigint): bigint {
  return bytes === 0n ? 0n : (bytes + 1499n) / 1500n;
}

function ipToNumber(address: string): number {
  return address.split('.').reduce((acc, octet) => acc * 256 + Number(octet), 0);
}

/** True when `address` falls inside `target` (`a.b.c.d/len`). */
export function targetContains(target: string, address: string): boolean {
  const [network, lengthText] = target.split('/');
  if (!isIPv4(network)) return false;
  const length = Number(lengthText ?? 32);
  const size = 2 ** (32 - length);
  const start = Math.floor(ipToNumber(network) / size) * size;
  const value = ipToNumber(address);
  return value >= start && value < start + size;
}

/** RouterOS duration text (`1w2d3h4m5s`, zero parts left out; `0s` for zero). */
export function formatDuration(totalSeconds: number): string {
  let rest = Math.max(0, Math.floor(totalSeconds));
  const parts: string[] = [];
  for (const [unit, size] of [
    ['w', 604800],
    ['d', 86400],
    ['h', 3600],
    ['m', 60],
  ] as const) {
    const count = Math.floor(rest / size);
    rest -= count * size;
    if (count > 0) parts.push(`${count}${unit}`);
  }
  if (rest > 0 || parts.length === 0) parts.push(`${rest}s`);
  return parts.join('');
}

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];

/** Dates as the router prints them: `feb/05/2024 13:47:44` before 7.10, ISO-like from 7.10. */
export function formatClock(date: Date, version: string): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  const time = `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`;
  const [major, minor] = version.split('.').map((part) => Number.parseInt(part, 10));
  if (major < 7 || (major === 7 && minor < 10)) {
    return `${MONTHS[date.getMonth()]}/${pad(date.getDate())}/${date.getFullYear()} ${time}`;
  }
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ${time}`;
}
