import { createHash } from 'node:crypto';
import { type RosRow, RouterSession } from './router-session';
import { type RouterTarget, effectivePort } from './router-target';
import { CircuitBreaker, type CircuitBreakerOptions } from './circuit-breaker';

/** Options of {@link RouterSessionPool}. */
export interface RouterSessionPoolOptions {
  /** Close a session after this long without commands; default 60 s. */
  idleTimeoutMs?: number;
  /** Connect and per-command timeout when the target has none; default 10 s. */
  defaultTimeoutMs?: number;
  /** A circuit breaker per router (see {@link CircuitBreaker}); none when not given. */
  breaker?: CircuitBreakerOptions;
  /** Told about every failed connect or command (metrics count them by error code). */
  onError?: (error: unknown) => void;
}

interface PoolEntry {
  /** Hash of the connection settings the session was opened with. */
  settingsKey: string;
  session: RouterSession | null;
  opening: Promise<RouterSession> | null;
  idleTimer: NodeJS.Timeout | null;
}

/** Hash of everything that shapes a connection, so a changed target gets a fresh session. */
function settingsKeyOf(target: RouterTarget): string {
  return createHash('sha256')
    .update(
      JSON.stringify([
        target.host,
        effectivePort(target),
        target.tls,
        target.username,
        target.password,
        target.caPem ?? null,
        target.fingerprintSha256 ?? null,
      ]),
    )
    .digest('hex');
}

/**
 * One API session per router id: opened on demand, shared by every request and collection run,
 * closed after a quiet spell, reopened after a drop, and replaced when the router's connection
 * settings change. Concurrent callers share one connect attempt; a failed attempt is not cached,
 * so the next call tries again.
 */
export class RouterSessionPool {
  private readonly entries = new Map<string, PoolEntry>();
  private readonly idleTimeoutMs: number;
  private readonly defaultTimeoutMs: number;
  private readonly breaker: CircuitBreaker | null;
  /** The settings each router's breaker state belongs to. */
  private readonly breakerKeys = new Map<string, string>();
  private readonly onError?: (error: unknown) => void;

  constructor(options: RouterSessionPoolOptions = {}) {
    this.idleTimeoutMs = options.idleTimeoutMs ?? 60_000;
    this.defaultTimeoutMs = options.defaultTimeoutMs ?? 10_000;
    this.breaker = options.breaker ? new CircuitBreaker(options.breaker) : null;
    this.onError = options.onError;
  }

  /** When a router whose breaker is open is tried again (ms since the epoch); null when it is now. */
  retryAt(routerId: string): number | null {
    return this.breaker?.openUntil(routerId) ?? null;
  }

  /** Sessions currently open (alive). */
  get openSessionCount(): number {
    let count = 0;
    for (const entry of this.entries.values()) if (entry.session?.alive) count++;
    return count;
  }

  /** The timeout that applies to `target`. */
  timeoutFor(target: RouterTarget): number {
    return target.timeoutMs ?? this.defaultTimeoutMs;
  }

  /**
   * Runs one command on the router's session, opening it if needed. Rejects with a RouterError
   * (never hangs): connect and command each have the target's timeout.
   */
  async run(target: RouterTarget, words: string[], options: { timeoutMs?: number } = {}): Promise<RosRow[]> {
    // Every failure (a refused call of an open breaker too) is reported once, here.
    return this.runGuarded(target, words, options).catch((error) => this.failed(error));
  }

  private async runGuarded(target: RouterTarget, words: string[], options: { timeoutMs?: number }) {
    if (!this.breaker) return this.runOnSession(target, words, options);
    // A router that keeps timing out is skipped fast, so it cannot hold up its callers.
    // New connection settings (a fixed address or password) deserve a fresh chance at once.
    const settingsKey = settingsKeyOf(target);
    if (this.breakerKeys.get(target.id) !== settingsKey) {
      this.breaker.reset(target.id);
      this.breakerKeys.set(target.id, settingsKey);
    }
    return this.breaker.call(target.id, () => this.runOnSession(target, words, options));
  }

  private async runOnSession(target: RouterTarget, words: string[], options: { timeoutMs?: number }) {
    const session = await this.acquire(target);
    const entry = this.entries.get(target.id);
    if (entry) this.clearIdle(entry);
    try {
      return await session.run(words, options.timeoutMs ?? this.timeoutFor(target));
    } finally {
      const current = this.entries.get(target.id);
      if (current?.session === session && session.pendingCount === 0) this.armIdle(target.id, current);
    }
  }

  private failed(error: unknown): never {
    this.onError?.(error);
    throw error;
  }

  /** Closes the session of one router (e.g. after its record was deleted). */
  async close(routerId: string): Promise<void> {
    const entry = this.entries.get(routerId);
    if (!entry) return;
    this.entries.delete(routerId);
    this.clearIdle(entry);
    const session = entry.session ?? (await entry.opening?.catch(() => null));
    await session?.close();
  }

  /** Closes every session; for shutdown. */
  async closeAll(): Promise<void> {
    await Promise.all([...this.entries.keys()].map((routerId) => this.close(routerId)));
  }

  private async acquire(target: RouterTarget): Promise<RouterSession> {
    const settingsKey = settingsKeyOf(target);
    let entry = this.entries.get(target.id);
    if (entry && entry.settingsKey !== settingsKey) {
      await this.close(target.id);
      entry = undefined;
    }
    if (entry?.session?.alive) return entry.session;
    if (entry?.opening) return entry.opening;
    const fresh: PoolEntry = entry ?? { settingsKey, session: null, opening: null, idleTimer: null };
    fresh.session = null;
    this.entries.set(target.id, fresh);
    const timeoutMs = this.timeoutFor(target);
    fresh.opening = RouterSession.open(target, {
      connectTimeoutMs: timeoutMs,
      // Let our idle close act first; the library's own socket timer is only a backstop.
      socketIdleSeconds: Math.ceil((this.idleTimeoutMs + timeoutMs) / 1000) + 5,
    });
    try {
      const session = await fresh.opening;
      if (this.entries.get(target.id) !== fresh) {
        // Closed or replaced while connecting: do not keep a session nobody tracks.
        void session.close();
        return session;
      }
      fresh.session = session;
      session.onFailure(() => {
        if (fresh.session === session) {
          fresh.session = null;
          this.clearIdle(fresh);
        }
      });
      this.armIdle(target.id, fresh);
      return session;
    } catch (error) {
      if (this.entries.get(target.id) === fresh && !fresh.session) this.entries.delete(target.id);
      throw error;
    } finally {
      fresh.opening = null;
    }
  }

  private armIdle(routerId: string, entry: PoolEntry): void {
    this.clearIdle(entry);
    entry.idleTimer = setTimeout(() => {
      entry.idleTimer = null;
      if (this.entries.get(routerId) === entry && entry.session && entry.session.pendingCount === 0) {
        void this.close(routerId);
      }
    }, this.idleTimeoutMs);
    // An idle session must not keep the process alive.
    entry.idleTimer.unref();
  }

  private clearIdle(entry: PoolEntry): void {
    if (entry.idleTimer) clearTimeout(entry.idleTimer);
    entry.idleTimer = null;
  }
}
