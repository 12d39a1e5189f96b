import { expect } from 'chai';
import { RouterError } from '../../src/errors/app-errors';
import type { ErrorCode } from '../../src/errors/error-code';
import type { RouterTarget } from '../../src/router';
import type { SimulatedRouter } from '../simulator/simulated-router';

let counter = 0;

/** A RouterTarget for a simulated router (TLS pinned to its CA when it speaks TLS). */
export function targetFor(sim: SimulatedRouter, overrides: Partial<RouterTarget> = {}): RouterTarget {
  const { username, password } = sim.credentials;
  const useTls = sim.ports.tls !== null && (overrides.tls ?? true);
  return {
    id: `sim-${++counter}`,
    host: sim.host,
    port: useTls ? sim.ports.tls! : sim.ports.plain!,
    tls: useTls,
    username,
    password,
    caPem: useTls ? sim.caPem : null,
    timeoutMs: 2000,
    ...overrides,
  };
}

/** Awaits `promise`, expecting a RouterError with `code`; returns it and how long it took. */
export async function expectRouterError(
  promise: Promise<unknown>,
  code: ErrorCode,
): Promise<{ error: RouterError; elapsedMs: number }> {
  const started = Date.now();
  try {
    await promise;
  } catch (error) {
    expect(error, String(error)).to.be.instanceOf(RouterError);
    expect((error as RouterError).code, (error as Error).message).to.equal(code);
    return { error: error as RouterError, elapsedMs: Date.now() - started };
  }
  throw new Error(`expected a ${code} RouterError, but the call succeeded`);
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `check` until it is true or `timeoutMs` passes. */
export async function eventually(check: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await sleep(10);
  }
}
