import { isIPv4 } from 'node:net';

/**
 * The data a simulated router holds (PPP secrets, profiles, active sessions, simple queues,
 * identity, boot time) and the things that happen to it outside the API: PPP clients connecting
 * and disconnecting, traffic flowing through queues, reboots. Field names, defaults and error texts
 * follow RouterOS 7 (see the shared routeros notes), not our adapter.
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
}

/** Result of {@link RouterState.pushTraffic}: which queue counted the bytes, if any. */
export interface TrafficResult {
  queueName: string | null;
}

/** Everything a simulated router remembers. Mutate it only through its methods or the API. */
export class RouterState {
  readonly secrets = new RowTable<SecretRow>();
  readonly profiles = new RowTable<ProfileRow>();
  readonly active = new RowTable<ActiveRow>(0x80000001);
  readonly queues = new RowTable<QueueRow>();
  identity: string;
  version: string;
  /** Epoch ms of the last (simulated) boot; uptime is measured from it. */
  bootTime = Date.now();
  private readonly secretsByName = new Map<string, SecretRow>();
  private readonly queuesByName = new Map<string, QueueRow>();
  private readonly activeByName = new Map<string, ActiveRow>();
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
    const [major, minor] = this.version.split('.').map((part) => Number.parseInt(part, 10));
    return major > 7 || (major === 7 && (minor ?? 0) >= 18);
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

  /** Ends a session the way `/ppp/active/remove` or a client hang-up does. */
  endSession(row: ActiveRow, reason: string): void {
    this.active.delete(row.id);
    this.activeByName.delete(row.name);
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
    if (this.activeByName.has(name)) throw new Error(`${name} already has an active session`);
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
    this.activeByName.set(name, row);
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
    queue.bytes = [queue.bytes[0] + up, queue.bytes[1] + down];
    queue.packets = [queue.packets[0] + packetsFor(up), queue.packets[1] + packetsFor(down)];
    return { queueName: queue.name };
  }

  /** A reboot: counters and sessions live in RAM and are gone; uptime starts again. */
  reboot(): void {
    for (const row of [...this.active.values()]) this.endSession(row, 'reboot');
    for (const queue of this.queues.values()) {
      queue.bytes = [0n, 0n];
      queue.packets = [0n, 0n];
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
