import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { RouterGateway, RouterSessionPool, type RouterTarget, createRouterLoaders } from '../src/router';
import { type SimulatedRouter, startSimulatedRouter } from '../test/simulator/simulated-router';

/**
 * `npm run bench:router`: what DataLoader batching buys on routers with 20 ms per reply.
 * Everything runs on 127.0.0.1 against the simulator; results go to bench-results/router.json.
 */

const LATENCY_MS = 20;

function targetOf(sim: SimulatedRouter, id: string): RouterTarget {
  return { id, host: sim.host, port: sim.port, tls: false, ...sim.credentials, timeoutMs: 30_000 };
}

async function liveStatusOneRouter() {
  const sim = await startSimulatedRouter({
    accounts: 1000,
    latencyMs: LATENCY_MS,
    seed: { connectedShare: 0.5 },
  });
  const pool = new RouterSessionPool();
  const gateway = new RouterGateway(pool);
  const router = targetOf(sim, 'bench-1');
  await gateway.identity(router);

  sim.clearCommandLog();
  let started = performance.now();
  const loaders = createRouterLoaders(gateway);
  const batched = await Promise.all(
    sim.accounts.map((account) => loaders.activeSessions.load({ router, username: account.name })),
  );
  const batchedMs = performance.now() - started;
  const batchedCommands = sim.commandsFor('/ppp/active/print').length;

  sim.clearCommandLog();
  started = performance.now();
  const oneByOne = [];
  for (const account of sim.accounts) oneByOne.push(await gateway.findActiveSession(router, account.name));
  const oneByOneMs = performance.now() - started;
  const oneByOneCommands = sim.commandsFor('/ppp/active/print').length;

  const online = batched.filter(Boolean).length;
  if (online !== oneByOne.filter(Boolean).length) throw new Error('batched and one-by-one reads disagree');
  await pool.closeAll();
  await sim.close();
  return {
    accounts: 1000,
    online,
    batched: { commands: batchedCommands, wallMs: round(batchedMs) },
    oneByOne: { commands: oneByOneCommands, wallMs: round(oneByOneMs) },
    speedup: round(oneByOneMs / batchedMs),
  };
}

async function countersTenRouters() {
  const sims = await Promise.all(
    Array.from({ length: 10 }, () =>
      startSimulatedRouter({ accounts: 1000, latencyMs: LATENCY_MS, seed: { withTraffic: true } }),
    ),
  );
  const pool = new RouterSessionPool();
  const gateway = new RouterGateway(pool);
  const routers = sims.map((sim, i) => targetOf(sim, `bench-r${i}`));
  await Promise.all(routers.map((router) => gateway.identity(router)));
  for (const sim of sims) sim.clearCommandLog();

  const started = performance.now();
  const loaders = createRouterLoaders(gateway, { maxConcurrentRouters: 10 });
  const counters = await Promise.all(
    sims.flatMap((sim, i) =>
      sim.accounts.map((account) =>
        loaders.queueCounters.load({ router: routers[i], queueName: account.queueName }),
      ),
    ),
  );
  const wallMs = performance.now() - started;
  const commands = sims.map((sim) => sim.commandsFor('/queue/simple/print').length);
  if (counters.some((row) => row === null)) throw new Error('a counter was missing');
  await pool.closeAll();
  await Promise.all(sims.map((sim) => sim.close()));
  return { accounts: counters.length, routers: 10, commandsPerRouter: commands, wallMs: round(wallMs) };
}

const round = (value: number) => Math.round(value * 10) / 10;

async function main(): Promise<void> {
  const live = await liveStatusOneRouter();
  const counters = await countersTenRouters();
  console.table({
    'live status, 1,000 accounts, 1 router, batched': {
      commands: live.batched.commands,
      'wall ms': live.batched.wallMs,
    },
    'live status, 1,000 accounts, 1 router, one at a time': {
      commands: live.oneByOne.commands,
      'wall ms': live.oneByOne.wallMs,
    },
    'counters, 10,000 accounts, 10 routers, batched': {
      commands: counters.commandsPerRouter.reduce((sum, count) => sum + count, 0),
      'wall ms': counters.wallMs,
    },
  });
  console.log(`one-at-a-time / batched wall time: ${live.speedup}x`);
  const result = {
    latencyMsPerReply: LATENCY_MS,
    node: process.version,
    at: new Date().toISOString(),
    live,
    counters,
  };
  const dir = path.resolve(__dirname, '../../bench-results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'router.json'), `${JSON.stringify(result, null, 2)}\n`);
  console.log(`wrote ${path.join(dir, 'router.json')}`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
