import { createHash, randomBytes } from 'node:crypto';
import net from 'node:net';
import tls from 'node:tls';
import {
  type ApiCommand,
  type ReplySentence,
  type TaggedCommand,
  executeMenuCommand,
  parseCommand,
} from './api-commands';
import { type ActiveRow, type ConnectOptions, RouterState, type TrafficResult } from './router-state';
import { type SeedOptions, type SeededAccount, seedAccounts } from './seed-accounts';
import { type TestPki, sharedTestPki } from './test-pki';
import { SentenceDecoder, WireProtocolError, encodeSentence } from './wire-codec';

/**
 * A RouterOS 7 API server for tests and benchmarks: the real wire protocol over TCP and TLS, the
 * post-6.43 (and legacy) login, the PPP and simple-queue menus, and per-router fault switches.
 * It is test equipment that follows RouterOS, not a mock of our adapter.
 */

/** Fault switches; change them at any time, they apply to the next connection or reply. */
export interface SimulatorFaults {
  /** Delay before every reply is sent, in ms. */
  latencyMs: number;
  /** Send the first half of every reply after login, then reset the connection. */
  dropMidReply: boolean;
  /** Reset every new TCP connection at once (like a firewall's tcp-reset). */
  refuse: boolean;
  /** Accept connections but never answer (no TLS handshake, no replies). */
  freeze: boolean;
  /**
   * Write replies in separate TCP chunks: `final-zero` cuts right before each reply's last 0x00
   * byte (the routeros-api Receiver bug), `random` cuts at random points, `per-byte` sends one byte
   * per chunk. `false` writes each reply in one piece.
   */
  splitChunks: false | 'final-zero' | 'random' | 'per-byte';
  /** `!empty` for prints that match nothing: true/false, or null to follow the version (7.18+). */
  emptyReplies: boolean | null;
  /** When set, the next command is answered with `!fatal <reason>` and the connection closed. */
  fatalReason: string | null;
  /**
   * The `!trap` message of a refused 6.43+ login. RouterOS versions differ in the suffix
   * ("invalid user name or password (6)", other numbers, or "cannot log in").
   */
  loginFailureMessage: string;
  /**
   * Per-command failures for fault-injection tests: the next `times` (default 1) commands whose path
   * equals `path` are answered with a `!trap` carrying `message`, or (`drop`) the connection is reset
   * before any answer, as when a router dies mid-operation. Rules are used up in order.
   */
  failOn: FailRule[];
}

export interface FailRule {
  path: string;
  /** `omit-bytes`: answer normally but leave the `bytes` property out of every row. */
  kind: 'trap' | 'drop' | 'omit-bytes';
  message?: string;
  times?: number;
}

/** One command sentence the simulator received. */
export interface CommandLogEntry {
  connectionId: number;
  /** The command word, e.g. `/ppp/active/print`, `/login` or `#`. */
  path: string;
  /** All words of the sentence, in order (including `.tag=`). */
  words: string[];
  tag: string | null;
  at: number;
}

/** Options of {@link startSimulatedRouter}. */
export interface SimulatedRouterOptions {
  /** Listen address; default 127.0.0.1. */
  host?: string;
  /** Port of the single listener; default 0 (any free port). */
  port?: number;
  /** The single listener speaks api-ssl; default false. */
  tls?: boolean;
  /** Several listeners at once (e.g. api and api-ssl); overrides `port` and `tls`. */
  listeners?: Array<{ tls: boolean; port?: number }>;
  /** Certificates for TLS listeners; default one shared per process. */
  pki?: TestPki;
  /** API users, name → password; default `{ admin: 'admin' }`. */
  users?: Record<string, string>;
  /** RouterOS version; 7.18+ answers empty prints with `!empty`. Default 7.16.2. */
  version?: string;
  identity?: string;
  /** Shortcut for `faults.latencyMs`. */
  latencyMs?: number;
  faults?: Partial<SimulatorFaults>;
  /** Accounts to create at start (see {@link seedAccounts}). */
  accounts?: number;
  seed?: SeedOptions;
}

const DEFAULT_FAULTS: SimulatorFaults = {
  latencyMs: 0,
  dropMidReply: false,
  refuse: false,
  freeze: false,
  splitChunks: false,
  emptyReplies: null,
  fatalReason: null,
  loginFailureMessage: 'invalid user name or password (6)',
  failOn: [],
};

interface Listener {
  server: net.Server;
  tls: boolean;
  port: number;
}

/** A running simulated router. Create it with {@link startSimulatedRouter}. */
export class SimulatedRouter {
  readonly state: RouterState;
  readonly faults: SimulatorFaults;
  /** Every command sentence received, oldest first. */
  readonly commandLog: CommandLogEntry[] = [];
  /** API users, name → password; edit freely. */
  readonly users: Map<string, string>;
  /** Accounts created by the `accounts` option or {@link seedAccounts}. */
  readonly accounts: SeededAccount[] = [];
  readonly host: string;
  private readonly listeners: Listener[] = [];
  private readonly connections = new Set<SimulatedConnection>();
  private acceptedCount = 0;
  private readonly secureContext: tls.SecureContext | null;

  /** @internal use {@link startSimulatedRouter} */
  constructor(
    options: SimulatedRouterOptions,
    readonly pki: TestPki | null,
  ) {
    this.host = options.host ?? '127.0.0.1';
    this.state = new RouterState({ identity: options.identity, version: options.version });
    this.faults = { ...DEFAULT_FAULTS, failOn: [], ...options.faults };
    if (options.latencyMs !== undefined) this.faults.latencyMs = options.latencyMs;
    this.users = new Map(Object.entries(options.users ?? { admin: 'admin' }));
    this.secureContext = pki ? tls.createSecureContext({ key: pki.keyPem, cert: chainPem(pki) }) : null;
  }

  /** The first listener's port (the TLS one when the router was started with `tls: true`). */
  get port(): number {
    return this.listeners[0].port;
  }

  /** Ports by kind; null when there is no such listener. */
  get ports(): { plain: number | null; tls: number | null } {
    return {
      plain: this.listeners.find((listener) => !listener.tls)?.port ?? null,
      tls: this.listeners.find((listener) => listener.tls)?.port ?? null,
    };
  }

  /** The CA that signed the router certificate (PEM), when TLS is on. */
  get caPem(): string | null {
    return this.pki?.caPem ?? null;
  }

  /** SHA-256 fingerprint of the router certificate, when TLS is on. */
  get fingerprintSha256(): string | null {
    return this.pki?.fingerprintSha256 ?? null;
  }

  /** The first user's credentials, for convenience. */
  get credentials(): { username: string; password: string } {
    const [username, password] = [...this.users][0];
    return { username, password };
  }

  /** API connections open right now. */
  get connectionCount(): number {
    return this.connections.size;
  }

  /** TCP connections accepted since start (refused ones included). */
  get connectionsAccepted(): number {
    return this.acceptedCount;
  }

  /** Commands received whose path is `path` (e.g. `/ppp/active/print`). */
  commandsFor(path: string): CommandLogEntry[] {
    return this.commandLog.filter((entry) => entry.path === path);
  }

  clearCommandLog(): void {
    this.commandLog.length = 0;
  }

  /** A PPP client logs in (the secret must exist and be enabled). */
  connect(name: string, options?: ConnectOptions): ActiveRow {
    return this.state.connect(name, options);
  }

  /**
   * The PPP client of `name` goes away; false when it had no session. RouterOS records `reason`
   * (default `peer-request`) as the secret's last-disconnect-reason.
   */
  disconnect(name: string, reason?: string): boolean {
    return this.state.disconnect(name, reason);
  }

  /** Traffic through the queue named so, or the first queue targeting that address. */
  pushTraffic(
    addressOrQueueName: string,
    downloadBytes: bigint | number,
    uploadBytes: bigint | number,
  ): TrafficResult {
    return this.state.pushTraffic(addressOrQueueName, downloadBytes, uploadBytes);
  }

  /** Reboots: API connections drop, sessions end, counters and uptime restart. */
  reboot(): void {
    this.dropConnections();
    this.state.reboot();
  }

  /** Resets every open API connection now. */
  dropConnections(): void {
    for (const connection of [...this.connections]) connection.reset();
  }

  /** Adds accounts (see {@link seedAccounts}); they are also appended to {@link accounts}. */
  seedAccounts(count: number, options: SeedOptions = {}): SeededAccount[] {
    const added = seedAccounts(this.state, count, {
      firstIndex: (this.accounts.at(-1)?.index ?? 0) + 1,
      ...options,
    });
    this.accounts.push(...added);
    return added;
  }

  /** Stops listening and drops every connection. */
  async close(): Promise<void> {
    this.dropConnections();
    await Promise.all(
      this.listeners.map(
        (listener) => new Promise<void>((resolve) => listener.server.close(() => resolve())),
      ),
    );
  }

  /** @internal */
  async listen(specs: Array<{ tls: boolean; port?: number }>): Promise<void> {
    for (const spec of specs) {
      const server = net.createServer({ noDelay: true }, (socket) => this.accept(socket, spec.tls));
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(spec.port ?? 0, this.host, () => {
          server.off('error', reject);
          resolve();
        });
      });
      this.listeners.push({ server, tls: spec.tls, port: (server.address() as net.AddressInfo).port });
    }
  }

  private accept(raw: net.Socket, useTls: boolean): void {
    this.acceptedCount++;
    raw.on('error', () => undefined);
    if (this.faults.refuse) {
      raw.resetAndDestroy();
      return;
    }
    // A frozen router keeps the socket open and never speaks, not even TLS.
    if (this.faults.freeze) {
      const frozen = new SimulatedConnection(this, raw, null, this.acceptedCount);
      this.connections.add(frozen);
      // Keep reading (and discarding) so the peer's close is noticed.
      raw.resume();
      raw.on('close', () => this.connections.delete(frozen));
      return;
    }
    let stream: net.Socket = raw;
    if (useTls) {
      const secure = new tls.TLSSocket(raw, { isServer: true, secureContext: this.secureContext! });
      secure.on('error', () => raw.destroy());
      stream = secure;
    }
    const connection = new SimulatedConnection(this, raw, stream, this.acceptedCount);
    this.connections.add(connection);
    raw.on('close', () => {
      connection.dispose();
      this.connections.delete(connection);
    });
  }
}

function chainPem(pki: TestPki): string {
  // Send the CA along with the leaf, as a router with its CA in the store does.
  return pki.certPem === pki.caPem ? pki.certPem : `${pki.certPem}\n${pki.caPem}`;
}

/** One API connection: framing, login state, replies with `.tag`, latency and faults. */
class SimulatedConnection {
  private readonly decoder = new SentenceDecoder();
  private loggedIn = false;
  private challenge: Buffer | null = null;
  private readonly pending = new Map<string, NodeJS.Timeout>();
  private writeChain: Promise<void> = Promise.resolve();
  private closed = false;
  private untaggedCounter = 0;

  constructor(
    private readonly router: SimulatedRouter,
    private readonly raw: net.Socket,
    private readonly stream: net.Socket | null,
    readonly id: number,
  ) {
    stream?.on('data', (chunk: Buffer) => this.onData(chunk));
  }

  /** Drops the connection with a TCP reset. */
  reset(): void {
    this.closed = true;
    this.dispose();
    if (!this.raw.destroyed) this.raw.resetAndDestroy();
  }

  dispose(): void {
    this.closed = true;
    for (const timer of this.pending.values()) clearTimeout(timer);
    this.pending.clear();
  }

  private onData(chunk: Buffer): void {
    let sentences: string[][];
    try {
      sentences = this.decoder.push(chunk);
    } catch (error) {
      if (error instanceof WireProtocolError) {
        this.reset();
        return;
      }
      throw error;
    }
    for (const words of sentences) this.onSentence(words);
  }

  private onSentence(words: string[]): void {
    if (this.closed) return;
    const command = parseCommand(words);
    this.router.commandLog.push({
      connectionId: this.id,
      path: command.path,
      words,
      tag: command.tag,
      at: Date.now(),
    });
    const faults = this.router.faults;
    if (faults.freeze) return;
    if (faults.fatalReason !== null) {
      const reason = faults.fatalReason;
      faults.fatalReason = null;
      this.fatal(reason);
      return;
    }
    if (!this.loggedIn && command.path !== '/login') {
      this.fatal('not logged in');
      return;
    }
    const rule = faults.failOn.find((r) => r.path === command.path);
    if (rule) {
      rule.times = (rule.times ?? 1) - 1;
      if (rule.times <= 0) faults.failOn.splice(faults.failOn.indexOf(rule), 1);
      if (rule.kind === 'drop') {
        this.reset();
        return;
      }
      if (rule.kind === 'omit-bytes') {
        const state = this.router.state;
        const emptySentence = faults.emptyReplies ?? state.sendsEmptySentence;
        const sentences = executeMenuCommand(state, command, { emptySentence });
        this.reply(
          command.tag,
          sentences.map((words) => words.filter((word) => !word.startsWith('=bytes='))),
        );
        return;
      }
      this.reply(command.tag, [
        ['!trap', `=message=${rule.message ?? 'failure: simulated fault'}`],
        ['!done'],
      ]);
      return;
    }
    switch (command.path) {
      case '/login':
        this.reply(command.tag, this.login(command));
        return;
      case '/cancel':
        this.cancel(command);
        return;
      case '/quit':
        this.fatal('session terminated on request');
        return;
      case '#':
        // RouterOS's answer to the keepalive word is undocumented; clients need a tagged completion.
        this.reply(command.tag, [['!done']]);
        return;
      default: {
        const state = this.router.state;
        const emptySentence = faults.emptyReplies ?? state.sendsEmptySentence;
        this.reply(command.tag, executeMenuCommand(state, command, { emptySentence }));
      }
    }
  }

  private login(command: ApiCommand): ReplySentence[] {
    const name = command.attributes.get('name');
    const password = command.attributes.get('password');
    const response = command.attributes.get('response');
    if (name === undefined && password === undefined && response === undefined) {
      // Legacy (pre-6.43) login, step 1: hand out a challenge.
      this.challenge = randomBytes(16);
      return [['!done', `=ret=${this.challenge.toString('hex')}`]];
    }
    const expected = name === undefined ? undefined : this.router.users.get(name);
    if (response !== undefined) {
      const ok =
        expected !== undefined &&
        this.challenge !== null &&
        response ===
          `00${createHash('md5')
            .update(Buffer.concat([Buffer.from([0]), Buffer.from(expected, 'latin1'), this.challenge]))
            .digest('hex')}`;
      if (!ok) return [['!trap', '=message=cannot log in'], ['!done']];
      this.loggedIn = true;
      return [['!done']];
    }
    if (expected === undefined || expected !== password) {
      return [['!trap', `=message=${this.router.faults.loginFailureMessage}`], ['!done']];
    }
    this.loggedIn = true;
    return [['!done']];
  }

  private cancel(command: TaggedCommand): void {
    const target = command.attributes.get('tag');
    const victims =
      target === undefined ? [...this.pending.keys()] : this.pending.has(target) ? [target] : [];
    for (const tag of victims) {
      clearTimeout(this.pending.get(tag));
      this.pending.delete(tag);
      const replyTag = tag.startsWith('\u0000') ? null : tag;
      this.write(replyTag, [['!trap', '=category=2', '=message=interrupted'], ['!done']]);
    }
    this.reply(command.tag, [['!done']]);
  }

  private fatal(reason: string): void {
    this.closed = true;
    this.dispose();
    // `!fatal` carries a bare reason word (no `=`), then the router closes the socket.
    this.enqueue(encodeSentence(['!fatal', reason]), () => this.stream?.end());
  }

  /** Sends a command's reply after the configured latency. */
  private reply(tag: string | null, sentences: ReplySentence[]): void {
    const latency = this.router.faults.latencyMs;
    if (latency <= 0) {
      this.write(tag, sentences);
      return;
    }
    const key = tag ?? `\u0000${this.untaggedCounter++}`;
    const timer = setTimeout(() => {
      this.pending.delete(key);
      this.write(tag, sentences);
    }, latency);
    this.pending.set(key, timer);
  }

  private write(tag: string | null, sentences: ReplySentence[]): void {
    if (this.closed || !this.stream || this.router.faults.freeze) return;
    const buffers = sentences.map((words) =>
      encodeSentence(tag === null || tag === '' ? words : [words[0], `.tag=${tag}`, ...words.slice(1)]),
    );
    const bytes = Buffer.concat(buffers);
    if (this.loggedIn && this.router.faults.dropMidReply) {
      this.closed = true;
      const cut = Math.max(1, Math.floor(bytes.length / 2));
      this.enqueue(bytes.subarray(0, cut), () => this.reset());
      return;
    }
    this.enqueue(bytes);
  }

  /** Writes in order; with split replies, chunks go out separately with a pause between them. */
  private enqueue(bytes: Buffer, after?: () => void): void {
    const stream = this.stream;
    if (!stream) return;
    const mode = this.router.faults.splitChunks;
    if (mode === false) {
      this.writeChain = this.writeChain.then(
        () =>
          new Promise<void>((resolve) => {
            if (stream.destroyed) return resolve();
            stream.write(bytes, () => {
              after?.();
              resolve();
            });
          }),
      );
      return;
    }
    const chunks = splitForMode(bytes, mode);
    this.writeChain = this.writeChain.then(async () => {
      for (const chunk of chunks) {
        if (stream.destroyed) return;
        await new Promise<void>((resolve) => stream.write(chunk, () => resolve()));
        // A pause lets each chunk arrive as its own 'data' event on the client.
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
      after?.();
    });
  }
}

function splitForMode(bytes: Buffer, mode: 'final-zero' | 'random' | 'per-byte'): Buffer[] {
  if (bytes.length <= 1) return [bytes];
  if (mode === 'final-zero') return [bytes.subarray(0, bytes.length - 1), bytes.subarray(bytes.length - 1)];
  if (mode === 'per-byte') return [...bytes].map((byte) => Buffer.from([byte]));
  const chunks: Buffer[] = [];
  let offset = 0;
  while (offset < bytes.length) {
    const size = 1 + Math.floor(Math.random() * Math.min(64, bytes.length - offset));
    chunks.push(bytes.subarray(offset, offset + size));
    offset += size;
  }
  return chunks;
}

/**
 * Starts a simulated router and resolves once it listens.
 *
 * @example
 * const sim = await startSimulatedRouter({ tls: true, users: { api: 'secret' }, accounts: 100 });
 * // connect with host sim.host, port sim.port, CA sim.caPem …
 * sim.connect('vpn00001');
 * sim.pushTraffic('vpn00001', 5_000, 1_000);
 * await sim.close();
 */
export async function startSimulatedRouter(options: SimulatedRouterOptions = {}): Promise<SimulatedRouter> {
  const specs = options.listeners ?? [{ tls: options.tls ?? false, port: options.port }];
  const needsTls = specs.some((spec) => spec.tls);
  const router = new SimulatedRouter(options, needsTls ? (options.pki ?? sharedTestPki()) : null);
  if (options.accounts) router.seedAccounts(options.accounts, options.seed);
  await router.listen(specs);
  return router;
}
