import { expect } from 'chai';
import { ErrorCode } from '../../src/errors/error-code';
import { RouterGateway, RouterSessionPool, createRouterLoaders } from '../../src/router';
import { type SimulatedRouter, startSimulatedRouter } from '../simulator/simulated-router';
import { targetFor } from './router-fixtures';

describe('router loaders (DataLoader batching)', () => {
  const sims: SimulatedRouter[] = [];
  let pool: RouterSessionPool;
  let gateway: RouterGateway;

  beforeEach(async () => {
    for (let i = 0; i < 3; i++)
      sims.push(await startSimulatedRouter({ accounts: 500, seed: { connectedShare: 0.5 } }));
    pool = new RouterSessionPool();
    gateway = new RouterGateway(pool);
  });
  afterEach(async () => {
    await pool.closeAll();
    await Promise.all(sims.splice(0).map((sim) => sim.close()));
  });

  it('answers the live status of 500 accounts on one router with ONE /ppp/active/print', async () => {
    const [sim] = sims;
    const router = targetFor(sim);
    const loaders = createRouterLoaders(gateway);
    const sessions = await Promise.all(
      sim.accounts.map((account) => loaders.activeSessions.load({ router, username: account.name })),
    );
    expect(sim.commandsFor('/ppp/active/print')).to.have.length(1);
    expect(sim.commandsFor('/ppp/active/print')[0].words).to.include(
      '=.proplist=.id,name,service,caller-id,address,uptime',
    );
    expect(sessions.filter((session) => session !== null)).to.have.length(250);
    expect(sessions[0]).to.include({ name: 'vpn00001', address: '10.64.0.1' });
    expect(sessions[1]).to.equal(null);
  });

  it('answers the counters of 500 accounts with ONE /queue/simple/print', async () => {
    const [sim] = sims;
    const router = targetFor(sim);
    sim.pushTraffic('10.64.0.7', 700, 70);
    const loaders = createRouterLoaders(gateway);
    const counters = await Promise.all(
      sim.accounts.map((account) => loaders.queueCounters.load({ router, queueName: account.queueName })),
    );
    expect(sim.commandsFor('/queue/simple/print')).to.have.length(1);
    expect(counters[6]).to.include({ name: 'vpn00007', downloadBytes: 700n, uploadBytes: 70n });
    expect(await loaders.queueCounters.load({ router, queueName: 'missing' })).to.equal(null);
  });

  it('reads several routers in parallel, one print each, and isolates a failing router', async () => {
    const routers = sims.map((sim) => targetFor(sim, { timeoutMs: 500 }));
    sims[2].faults.refuse = true;
    const loaders = createRouterLoaders(gateway);
    const results = await Promise.allSettled(
      routers.flatMap((router, i) =>
        sims[i].accounts
          .slice(0, 100)
          .map((account) => loaders.queueCounters.load({ router, queueName: account.name })),
      ),
    );
    expect(sims[0].commandsFor('/queue/simple/print')).to.have.length(1);
    expect(sims[1].commandsFor('/queue/simple/print')).to.have.length(1);
    expect(results.slice(0, 200).every((result) => result.status === 'fulfilled')).to.equal(true);
    const failed = results.slice(200) as PromiseRejectedResult[];
    expect(failed.every((result) => result.status === 'rejected')).to.equal(true);
    expect(failed[0].reason.code).to.equal(ErrorCode.ROUTER_UNREACHABLE);
  });

  it('caps the number of routers read at once', async () => {
    for (const sim of sims) sim.faults.latencyMs = 150;
    const routers = sims.map((sim) => targetFor(sim));
    // Open the sessions first so only the prints are timed.
    await Promise.all(routers.map((router) => gateway.identity(router)));
    const timed = async (maxConcurrentRouters: number) => {
      const loaders = createRouterLoaders(gateway, { maxConcurrentRouters });
      const started = Date.now();
      await Promise.all(
        routers.map((router) => loaders.activeSessions.load({ router, username: 'vpn00001' })),
      );
      return Date.now() - started;
    };
    expect(await timed(1)).to.be.at.least(440);
    expect(await timed(3)).to.be.below(400);
  });
});
