import { RouterGateway, RouterSessionPool, type RouterTarget, createRouterLoaders } from '../src/router';
import { startSimulatedRouter } from '../test/simulator/simulated-router';
import { askSimHost, median, round, spread, startSimHost } from './bench-kit';

/**
 * `npm run bench -- router`: what DataLoader batching buys on routers with 20 ms per reply.
 * Everything runs on 127.0.0.1 against the simulator.
 */

const LATENCY_MS = 20;

function targetOf(
  host: string,
  port: number,
  credentials: { username: string; password: string },
  id: string,
): RouterTarget {
  const { username, password } = credentials;
  return { id, host, port, tls: false, username, password, timeoutMs: 30_000 };
}

const RUNS = 5;

async function liveStatusOneRouter() {
  const sim = await startSimulatedRouter({
    accounts: 1000,
    latencyMs: LATENCY_MS,
    seed: { connectedShare: 0.5 },
  });
  const pool = new RouterSessionPool();
  const gateway = new RouterGateway(pool);
  const router = targetOf(sim.host, sim.port, sim.credentials, 'bench-1');
  const readBatched = () => {
    const loaders = createRouterLoaders(gateway);
    return Promise.all(
      sim.accounts.map((account) => loaders.activeSessions.load({ router, username: account.name })),
    );
  };
  await readBatched(); // warm-up: the session is open and the code is compiled before we measure

  const wall: number[] = [];
  let batched: unknown[] = [];
  let batchedCommands = 0;
  for (let run = 0; run < RUNS; run++) {
    sim.clearCommandLog();
    const started = performance.now();
    batched = await readBatched();
    wall.push(performance.now() - started);
    batchedCommands = sim.commandsFor('/ppp/active/print').length;
  }

  sim.clearCommandLog();
  const started = performance.now();
  const oneByOne = [];
  for (const account of sim.accounts)
    oneByOne.push((await gateway.sessionsOf(router, account.name))[0] ?? null);
  const oneByOneMs = performance.now() - started;
  const oneByOneCommands = sim.commandsFor('/ppp/active/print').length;

  const online = batched.filter(Boolean).length;
  if (online !== oneByOne.filter(Boolean).length) throw new Error('batched and one-by-one reads disagree');
  await pool.closeAll();
  await sim.close();
  return {
    accounts: 1000,
    online,
    batched: { commands: batchedCommands, runs: RUNS, ...spread(wall) },
    oneByOne: { commands: oneByOneCommands, wallMs: round(oneByOneMs) },
    speedup: round(oneByOneMs / median(wall)),
  };
}

/** 10 routers in their own process (so their CPU is not ours), 1,000 queues each. */
async function countersTenRouters() {
  const { child, routers: hosted } = await startSimHost({
    routers: 10,
    accounts: 1000,
    latencyMs: LATENCY_MS,
  });
  const pool = new RouterSessionPool();
  const gateway = new RouterGateway(pool);
  try {
    const routers = hosted.map((r, i) => targetOf('127.0.0.1', r.port, r, `bench-r${i}`));
    const readAll = async () => {
      const loaders = createRouterLoaders(gateway, { maxConcurrentRouters: 10 });
      const counters = await Promise.all(
        hosted.flatMap((r, i) =>
          Array.from({ length: 1000 }, (_, k) =>
            loaders.queueCounters.load({ router: routers[i], queueName: `vpn-${r.firstIndex + k}` }),
          ),
        ),
      );
      if (counters.some((row) => row === null)) throw new Error('a counter was missing');
      return counters.length;
    };
    await readAll(); // warm-up
    const wall: number[] = [];
    let commands: number[] = [];
    for (let run = 0; run < RUNS; run++) {
      await askSimHost(child, 'clear');
      const started = performance.now();
      await readAll();
      wall.push(performance.now() - started);
      commands = (await askSimHost<{ commands: number }[]>(child, 'stats')).map((x) => x.commands);
    }
    return {
      accounts: 10_000,
      routers: 10,
      commandsPerRouter: [...new Set(commands)],
      runs: RUNS,
      ...spread(wall),
    };
  } finally {
    await pool.closeAll();
    child.kill('SIGTERM');
  }
}

/** What DataLoader batching buys on the read path: live status and counters. */
export async function routerScenario() {
  const live = await liveStatusOneRouter();
  const counters = await countersTenRouters();
  return { latencyMsPerReply: LATENCY_MS, live, counters };
}
