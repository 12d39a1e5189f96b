import type { EventEmitter } from 'node:events';
import type { TlsOptions } from 'node:tls';
import { RouterOSAPI } from 'routeros-api';
import { monotonicNow } from '../common/monotonic';
import { RouterError } from '../errors/app-errors';
import { ErrorCode } from '../errors/error-code';
import { RouterTrapError, connectFailure } from './router-errors';
import { type RouterTarget, describeTarget, effectivePort } from './router-target';
import { buildTlsOptions, fetchPinnedLeaf } from './tls-pinning';

/** One reply row: property → value, always strings (we never use RouterOSClient's number parsing). */
export type RosRow = Record<string, string>;

/** Options for {@link RouterSession.open}. */
export interface RouterSessionOptions {
  /** Deadline for TCP + TLS + login, in ms. */
  connectTimeoutMs: number;
  /** Seconds of socket silence after which routeros-api drops the socket on its own. */
  socketIdleSeconds: number;
}

// routeros-api keeps these timers and socket owner private; we reach them only to tear a session
// down for good (its own close() waits for the router and leaves timers behind once the socket died).
interface ApiInternals {
  connector?: (EventEmitter & { destroy(): void }) | null;
  connectionHoldInterval?: NodeJS.Timeout;
  keptaliveby?: NodeJS.Timeout;
}

interface PendingCommand {
  path: string;
  timer: NodeJS.Timeout;
  reject(error: RouterError): void;
}

/**
 * One logged-in API session on top of routeros-api's `RouterOSAPI`, adding what the library lacks:
 * a deadline on connect and on every command, settling every pending command when the socket closes,
 * dies or gets `!fatal`, a listener for its `'error'` events, and typed errors.
 */
export class RouterSession {
  private readonly pending = new Set<PendingCommand>();
  private failure: RouterError | null = null;
  private failListeners: Array<(error: RouterError) => void> = [];
  private lastUsed = monotonicNow();

  private constructor(
    private readonly api: RouterOSAPI,
    readonly target: RouterTarget,
  ) {
    // Without these listeners an idle-socket timeout or a reset after login is an unhandled
    // 'error' event, which kills the process.
    api.on('error', (error: unknown) => this.fail(connectFailure(target, error)));
    api.on('close', () =>
      this.fail(
        new RouterError(
          ErrorCode.ROUTER_UNREACHABLE,
          `${describeTarget(target)} closed the connection`,
          target.id,
        ),
      ),
    );
  }

  /** Connects and logs in, or fails with a RouterError within `connectTimeoutMs`. */
  static async open(target: RouterTarget, options: RouterSessionOptions): Promise<RouterSession> {
    const deadline = monotonicNow() + options.connectTimeoutMs;
    const pinnedLeaf =
      target.tls && !target.caPem && target.fingerprintSha256
        ? await fetchPinnedLeaf(target, options.connectTimeoutMs)
        : undefined;
    const api = new RouterOSAPI({
      host: target.host,
      // Always explicit: with TLS the library would otherwise dial 8728.
      port: effectivePort(target),
      user: target.username,
      password: target.password,
      timeout: options.socketIdleSeconds,
      // The library types this as server options but hands it to tls.connect unchanged.
      tls: target.tls ? (buildTlsOptions(target, pinnedLeaf) as TlsOptions) : undefined,
      keepalive: false,
    });
    const session = new RouterSession(api, target);
    const remaining = Math.max(1, deadline - monotonicNow());
    let timer: NodeJS.Timeout | undefined;
    try {
      const connecting = api.connect();
      swallowOrphanErrors((api as unknown as ApiInternals).connector);
      await Promise.race([
        connecting,
        // The library never rejects connect() when the router closes the socket during login.
        new Promise<never>((_, reject) => session.failListeners.push(reject)),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () =>
              reject(
                new RouterError(
                  ErrorCode.ROUTER_TIMEOUT,
                  `${describeTarget(target)} did not complete the API login within ${options.connectTimeoutMs} ms`,
                  target.id,
                ),
              ),
            remaining,
          );
        }),
      ]);
    } catch (error) {
      const failure = connectFailure(target, error);
      session.fail(failure);
      throw failure;
    } finally {
      clearTimeout(timer);
      session.failListeners = [];
    }
    return session;
  }

  /** False once the session failed or was closed; the pool then opens a new one. */
  get alive(): boolean {
    return this.failure === null;
  }

  get pendingCount(): number {
    return this.pending.size;
  }

  /** Epoch ms of the last command completion (or of opening). */
  get lastUsedAt(): number {
    return this.lastUsed;
  }

  /** Calls `listener` once when the session dies (drop, `!fatal`, timeout or close). */
  onFailure(listener: (error: RouterError) => void): void {
    if (this.failure) listener(this.failure);
    else this.failListeners.push(listener);
  }

  /**
   * Runs one command and resolves with its `!re` rows (an `add` resolves `[{ ret: '*ID' }]`).
   * A `!trap` rejects with {@link RouterTrapError}; no answer within `timeoutMs` rejects with
   * ROUTER_TIMEOUT and abandons the session, since the reply stream is then in an unknown state.
   */
  run(words: string[], timeoutMs: number): Promise<RosRow[]> {
    if (this.failure) return Promise.reject(this.failure);
    const path = words[0] ?? '';
    return new Promise<RosRow[]>((resolve, reject) => {
      const command: PendingCommand = {
        path,
        reject,
        timer: setTimeout(() => {
          this.settle(command);
          const error = new RouterError(
            ErrorCode.ROUTER_TIMEOUT,
            `${describeTarget(this.target)} did not answer ${path} within ${timeoutMs} ms`,
            this.target.id,
          );
          reject(error);
          this.fail(error);
        }, timeoutMs),
      };
      this.pending.add(command);
      let reply: Promise<RosRow[]>;
      try {
        // Copy: routeros-api appends its .tag word to the array it is given.
        reply = this.api.write([...words]) as Promise<RosRow[]>;
      } catch {
        this.settle(command);
        reject(this.lostError(path));
        return;
      }
      reply.then(
        (rows) => {
          if (this.settle(command)) resolve(rows);
        },
        (error: unknown) => {
          if (!this.settle(command)) return;
          // A trap arrives as a plain Error carrying RouterOS's message; anything else is the library failing.
          if (error instanceof Error && error.constructor === Error) {
            reject(new RouterTrapError(error.message, path, this.target.id));
          } else reject(connectFailure(this.target, error));
        },
      );
    });
  }

  /** Closes the session: politely if it is healthy, and for good in any case. */
  async close(): Promise<void> {
    if (this.failure) return;
    const api = this.api;
    // close() flags the library as closing at once, so fail() below leaves the socket to it.
    const closing = api.connected ? api.close().catch(() => undefined) : Promise.resolve();
    this.fail(
      new RouterError(
        ErrorCode.ROUTER_UNREACHABLE,
        `${describeTarget(this.target)}: session closed`,
        this.target.id,
      ),
    );
    // Wait briefly for the router to acknowledge the close, never longer.
    await Promise.race([closing, new Promise((resolve) => setTimeout(resolve, 500).unref())]);
    destroyApi(api);
  }

  private settle(command: PendingCommand): boolean {
    if (!this.pending.delete(command)) return false;
    clearTimeout(command.timer);
    this.lastUsed = monotonicNow();
    return true;
  }

  private lostError(path: string): RouterError {
    return new RouterError(
      ErrorCode.ROUTER_UNREACHABLE,
      `${describeTarget(this.target)}: connection lost before ${path} completed`,
      this.target.id,
    );
  }

  /** Marks the session dead and settles everything routeros-api would leave hanging. */
  private fail(error: RouterError): void {
    if (this.failure) return;
    this.failure = error;
    for (const command of [...this.pending]) {
      this.settle(command);
      command.reject(
        error.code === ErrorCode.ROUTER_TIMEOUT
          ? new RouterError(
              ErrorCode.ROUTER_TIMEOUT,
              `${describeTarget(this.target)}: session abandoned after a timeout before ${command.path} completed`,
              this.target.id,
            )
          : this.lostError(command.path),
      );
    }
    const listeners = this.failListeners;
    this.failListeners = [];
    for (const listener of listeners) listener(error);
    if (!this.api.closing) destroyApi(this.api);
  }
}

/**
 * The library's Connector.destroy() removes every listener of the connector but leaves its socket's
 * 'error' handler, which re-emits on the connector: a socket error already queued when the session
 * was torn down (a reset racing a timeout) then becomes an unhandled 'error' event and kills the
 * process. An 'error' nobody listens to any more concerns a session we already settled: drop it.
 */
function swallowOrphanErrors(connector: ApiInternals['connector']): void {
  if (!connector) return;
  const emit = connector.emit.bind(connector);
  connector.emit = (event: string | symbol, ...args: unknown[]) =>
    event === 'error' && connector.listenerCount('error') === 0 ? false : emit(event, ...args);
}

/** Destroys the socket and the library's timers so nothing lingers or fires later. */
function destroyApi(api: RouterOSAPI): void {
  const internals = api as unknown as ApiInternals;
  clearTimeout(internals.connectionHoldInterval);
  clearTimeout(internals.keptaliveby);
  internals.connector?.destroy();
  api.connected = false;
  api.connecting = false;
}
