import { expect } from 'chai';
import { RouterGateway, RouterSessionPool } from '../../src/router';
import { type SimulatedRouter, startSimulatedRouter } from '../simulator/simulated-router';
import { eventually, targetFor } from './router-fixtures';

describe('router session pool', () => {
  let sim: SimulatedRouter;
  let pool: RouterSessionPool;
  let gateway: RouterGateway;

  beforeEach(async () => {
    sim = await startSimulatedRouter({ tls: true, accounts: 2 });
  });
  afterEach(async () => {
    await pool.closeAll();
    await sim.close();
  });

  it('reuses one session per router for sequential and concurrent calls', async () => {
    pool = new RouterSessionPool();
    gateway = new RouterGateway(pool);
    const target = targetFor(sim);
    await Promise.all([
      gateway.identity(target),
      gateway.listActiveSessions(target),
      gateway.readQueueCounters(target),
    ]);
    for (let i = 0; i < 5; i++) await gateway.identity(target);
    expect(sim.connectionsAccepted).to.equal(1);
    expect(sim.commandsFor('/login')).to.have.length(1);
  });

  it('closes a session after the idle timeout', async () => {
    pool = new RouterSessionPool({ idleTimeoutMs: 100 });
    gateway = new RouterGateway(pool);
    await gateway.identity(targetFor(sim));
    expect(sim.connectionCount).to.equal(1);
    await eventually(() => sim.connectionCount === 0 && pool.openSessionCount === 0);
  });

  it('opens a new session when the connection settings change', async () => {
    pool = new RouterSessionPool();
    gateway = new RouterGateway(pool);
    const target = targetFor(sim);
    await gateway.identity(target);
    sim.users.set('admin', 'rotated');
    await gateway.identity({ ...target, password: 'rotated' });
    expect(sim.connectionsAccepted).to.equal(2);
    await eventually(() => sim.connectionCount === 1);
  });

  it('reopens after the router dropped the session (e.g. a reboot)', async () => {
    pool = new RouterSessionPool();
    gateway = new RouterGateway(pool);
    const target = targetFor(sim);
    await gateway.identity(target);
    sim.reboot();
    await eventually(() => pool.openSessionCount === 0);
    expect((await gateway.systemResource(target)).uptimeSeconds).to.be.below(5);
    expect(sim.connectionsAccepted).to.equal(2);
  });

  it('closeAll closes every session', async () => {
    pool = new RouterSessionPool();
    gateway = new RouterGateway(pool);
    const second = await startSimulatedRouter();
    try {
      await Promise.all([gateway.identity(targetFor(sim)), gateway.identity(targetFor(second))]);
      expect(pool.openSessionCount).to.equal(2);
      await pool.closeAll();
      expect(pool.openSessionCount).to.equal(0);
      await eventually(() => sim.connectionCount === 0 && second.connectionCount === 0);
    } finally {
      await second.close();
    }
  });
});
