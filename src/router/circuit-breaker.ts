import { RouterError } from '../errors/app-errors';
import { ErrorCode } from '../errors/error-code';
import { monotonicNow } from '../common/monotonic';

/** Options of {@link CircuitBreaker}. */
export interface CircuitBreakerOptions {
  /** Consecutive connect/timeout failures that open the breaker; default 3. */
  failureThreshold?: number;
  /** Back-off ceiling of the first opening, in ms; doubles with each further opening. Default 1 s. */
  baseMs?: number;
  /** Largest back-off, in ms; default 5 minutes. */
  maxMs?: number;
  /** For tests: a random number in [0, 1). */
  random?: () => number;
  now?: () => number;
}

interface RouterBreaker {
  /** Consecutive failures since the last success. */
  failures: number;
  /**
   * Calls started up to this number were in flight when the last failure was counted: they fail of
   * the same outage (a dropped session fails every command on it) and count once, not each.
   */
  countedThrough: number;
  /** How often the breaker opened since the last success: the exponent of the back-off. */
  openings: number;
  /** Until when calls fail fast; 0 when closed. */
  openUntil: number;
  /** A half-open trial call is on its way: the others keep failing fast until it settles. */
  trialRunning: boolean;
  lastError: string;
}

/** Failures that say "the router is not answering", as opposed to "it answered no". */
const BREAKING_CODES = new Set<string>([ErrorCode.ROUTER_UNREACHABLE, ErrorCode.ROUTER_TIMEOUT]);

export function isBreakingFailure(error: unknown): boolean {
  return error instanceof RouterError && BREAKING_CODES.has(error.code);
}

/**
 * A circuit breaker per router: after `failureThreshold` consecutive connect or timeout failures (of
 * calls made one after another: calls in flight together that fail of the same outage count once) the
 * router is skipped at once with ROUTER_UNREACHABLE (saying when it is tried again) instead of costing
 * every caller a full timeout. The wait is AWS's "full jitter" back-off, random(0, min(max, base·2^n)),
 * so many servers do not retry a recovering router in lock-step. After the wait one trial call goes
 * through; its success closes the breaker, its failure opens it again for a longer wait.
 */
export class CircuitBreaker {
  private readonly routers = new Map<string, RouterBreaker>();
  /** Numbers calls in the order they start. */
  private calls = 0;
  private readonly failureThreshold: number;
  private readonly baseMs: number;
  private readonly maxMs: number;
  private readonly random: () => number;
  private readonly now: () => number;

  constructor(options: CircuitBreakerOptions = {}) {
    this.failureThreshold = options.failureThreshold ?? 3;
    this.baseMs = options.baseMs ?? 1000;
    this.maxMs = options.maxMs ?? 300_000;
    this.random = options.random ?? Math.random;
    // Waits are measured on the monotonic clock: a wall-clock step must not shorten or lengthen them.
    this.now = options.now ?? monotonicNow;
  }

  /** Runs `work` unless the router's breaker is open; records its outcome. */
  async call<T>(routerId: string, work: () => Promise<T>): Promise<T> {
    const callNumber = ++this.calls;
    const state = this.routers.get(routerId);
    let trial = false;
    if (state && state.openUntil > 0) {
      if (this.now() < state.openUntil || state.trialRunning) throw this.openError(routerId, state);
      state.trialRunning = true;
      trial = true;
    }
    try {
      const result = await work();
      this.routers.delete(routerId);
      return result;
    } catch (error) {
      if (isBreakingFailure(error)) this.recordFailure(routerId, error as RouterError, callNumber);
      else if (trial) this.routers.delete(routerId); // it answered: reachable again
      throw error;
    } finally {
      if (trial) {
        const current = this.routers.get(routerId);
        if (current) current.trialRunning = false;
      }
    }
  }

  /** When calls to the router go through again (ms since the epoch), or null when they do now. */
  openUntil(routerId: string): number | null {
    const until = this.routers.get(routerId)?.openUntil ?? 0;
    return until > this.now() ? until : null;
  }

  /** Forgets a router (its settings changed, or it was deleted). */
  reset(routerId: string): void {
    this.routers.delete(routerId);
  }

  private recordFailure(routerId: string, error: RouterError, callNumber: number): void {
    const state = this.routers.get(routerId) ?? {
      failures: 0,
      countedThrough: 0,
      openings: 0,
      openUntil: 0,
      trialRunning: false,
      lastError: '',
    };
    this.routers.set(routerId, state);
    if (callNumber <= state.countedThrough) return;
    state.countedThrough = this.calls;
    state.failures++;
    state.lastError = error.code;
    if (state.failures < this.failureThreshold) return;
    const ceiling = Math.min(this.maxMs, this.baseMs * 2 ** Math.min(state.openings, 30));
    state.openings++;
    state.openUntil = this.now() + Math.floor(this.random() * ceiling);
  }

  private openError(routerId: string, state: RouterBreaker): RouterError {
    const retryAt = new Date(Math.max(state.openUntil, this.now()));
    return new RouterError(
      ErrorCode.ROUTER_UNREACHABLE,
      `Router ${routerId} is not answering (${state.failures} failures in a row, last ${state.lastError}); ` +
        `skipped until ${retryAt.toISOString()}, when it is tried again`,
      routerId,
    );
  }
}
