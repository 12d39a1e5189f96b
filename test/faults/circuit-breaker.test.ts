import { expect } from 'chai';
import { ErrorCode } from '../../src/errors/error-code';
import { RouterError } from '../../src/errors/app-errors';
import { RouterGateway, RouterSessionPool } from '../../src/router';
import { CircuitBreaker } from '../../src/router/circuit-breaker';
import { type SimulatedRouter, startSimulatedRouter } from '../simulator/simulated-router';
import { expectRouterError, sleep, targetFor } from '../router/router-fixtures';

const timeout = () => Promise.reject(new RouterError(ErrorCode.ROUTER_TIMEOUT, 'did not answer', 'r'));

describe('circuit breaker per router (full-jitter back-off)', () => {
  describe('against a simulated router', () => {
    let sim: SimulatedRouter;
    let pool: RouterSessionPool;
    let gateway: RouterGateway;

    beforeEach(async () => {
      sim = await startSimulatedRouter({ accounts: 2 });
      pool = new RouterSessionPool({ defaultTimeoutMs: 300, breaker: { failureThreshold: 3, baseMs: 400 } });
      gateway = new RouterGateway(pool);
    });
    afterEach(async () => {
      await pool.closeAll();
      await sim.close();
    });

    it('skips a frozen router fast after 3 timeouts, says when it retries, and closes again once it answers', async () => {
      sim.faults.freeze = true;
      const target = targetFor(sim, { timeoutMs: 300 });
      for (let i = 0; i < 3; i++) await expectRouterError(gateway.identity(target), ErrorCode.ROUTER_TIMEOUT);
      const accepted = sim.connectionsAccepted;
      const started = Date.now();
      const error = (await gateway.identity(target).then(
        () => null,
        (e: unknown) => e,
      )) as RouterError;
      expect(Date.now() - started, 'failed fast, without a connect timeout').to.be.below(100);
      expect(error).to.be.instanceOf(RouterError);
      expect(error.code).to.equal(ErrorCode.ROUTER_UNREACHABLE);
      expect(error.message).to.match(/skipped until \d{4}-\d\d-\d\dT[\d:.]+Z, when it is tried again/);
      expect(sim.connectionsAccepted, 'no connection attempted while open').to.equal(accepted);
      expect(pool.retryAt(target.id)).to.be.a('number');

      sim.faults.freeze = false;
      await sleep(450); // past the longest first back-off (400 ms)
      expect(await gateway.identity(target)).to.equal('MikroTik');
      expect(pool.retryAt(target.id)).to.equal(null);
    });

    it('does not open for a router that answers "no" (wrong password): that is not an outage', async () => {
      const target = targetFor(sim, { password: 'wrong', timeoutMs: 300 });
      for (let i = 0; i < 5; i++)
        await expectRouterError(gateway.identity(target), ErrorCode.ROUTER_AUTH_FAILED);
      expect(pool.retryAt(target.id)).to.equal(null);
    });

    it('gives a router with changed connection settings a fresh chance at once', async () => {
      sim.faults.refuse = true;
      const target = targetFor(sim, { timeoutMs: 300 });
      for (let i = 0; i < 3; i++)
        await expectRouterError(gateway.identity(target), ErrorCode.ROUTER_UNREACHABLE);
      expect(pool.retryAt(target.id)).to.be.a('number');
      sim.faults.refuse = false;
      sim.users.set('api2', 'new-password'); // the admin fixed the router's API user
      expect(await gateway.identity({ ...target, username: 'api2', password: 'new-password' })).to.equal(
        'MikroTik',
      );
    });
  });

  it('waits random(0, min(max, base·2^n)): spread over the whole range, doubling per failed trial, capped', async () => {
    let now = 0;
    const breaker = new CircuitBreaker({ failureThreshold: 1, baseMs: 1000, maxMs: 8000, now: () => now });
    const waits: number[][] = [[], [], [], [], []];
    for (let r = 0; r < 400; r++) {
      const id = `router-${r}`;
      for (let opening = 0; opening < 5; opening++) {
        await breaker.call(id, timeout).catch(() => undefined);
        waits[opening].push(breaker.openUntil(id)! - now);
        now += 10_000; // past any wait: the next call is the trial, and it fails again
      }
      now = 0;
    }
    const ceilings = [1000, 2000, 4000, 8000, 8000];
    waits.forEach((w, i) => {
      expect(Math.max(...w))
        .to.be.below(ceilings[i])
        .and.above(ceilings[i] * 0.9);
      expect(Math.min(...w)).to.be.below(ceilings[i] * 0.1);
    });
  });

  it('lets exactly one trial through when the wait is over; the others keep failing fast', async () => {
    let now = 0;
    const breaker = new CircuitBreaker({
      failureThreshold: 1,
      baseMs: 1000,
      random: () => 0.5,
      now: () => now,
    });
    await breaker.call('r', timeout).catch(() => undefined);
    now = 600;
    let release!: () => void;
    const trial = breaker.call('r', () => new Promise<string>((resolve) => (release = () => resolve('ok'))));
    const other = await breaker.call('r', async () => 'second').catch((e: RouterError) => e.code);
    expect(other).to.equal(ErrorCode.ROUTER_UNREACHABLE);
    release();
    expect(await trial).to.equal('ok');
    expect(await breaker.call('r', async () => 'closed')).to.equal('closed');
  });
});
