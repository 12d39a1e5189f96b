import { mkdirSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import path from 'node:path';
import { RouterGateway, RouterSessionPool } from '../src/router';
import type { CollectPhase } from '../src/services/traffic/collector.service';
import { RawApiClient, attributesOf } from '../test/simulator/raw-api-client';
import { collectGarbage, mariadbPid, median, processCpuMs, round, stat, withMemory } from './bench-kit';
import { jobContext, startFleet, type Fleet } from './fleet';

/**
 * Scenarios 1, 2, 3 and 5: one full collection (every account has new traffic) against simulated
 * routers with a latency per reply, measured against, in the same run, the physical limit — each
 * router's minimum exchange (connect, login, the counters print and the live-sessions print in
 * parallel, on bare clients) for all routers in parallel, plus one bulk insert of the counters'
 * rows — and against a per-account collector.
 */

export interface CollectOptions {
  /** Write a V8 CPU profile of each timed collection (the collector alone) to this directory. */
  collectorCpuProfDir?: string;
  routers: number;
  accounts: number;
  latencyMs: number;
  runs: number;
  /** ROUTER_MAX_CONCURRENT for the collector; the product's default when absent. */
  maxConcurrent?: number;
  /** Share of each router's accounts that are WireGuard peers. */
  wireGuardShare?: number;
  /** Share of the accounts with a live PPP session. */
  connectedShare?: number;
}

/** A bare minimum read of one router: its counters and its live sessions at once, words split. */
async function minimumExchange(port: number, username: string, password: string) {
  const print = async (words: string[]) => {
    const client = await RawApiClient.login(port, username, password);
    try {
      // A generous wait between sentences: at 80 routers one simulator process answers them all.
      return (await client.command(words, 60_000)).filter((s) => s[0] === '!re').map(attributesOf);
    } finally {
      client.close();
    }
  };
  // The counters, and the live sessions the session log needs, read at once.
  const [counters] = await Promise.all([
    print(['/queue/simple/print', '=.proplist=.id,name,target,bytes']),
    print(['/ppp/active/print', '=.proplist=.id,name,service,caller-id,address,uptime']),
  ]);
  return counters;
}

/** The physical limit of one collection: all routers' minimum exchange in parallel + one bulk insert. */
async function physicalLimit(fleet: Fleet) {
  let t = performance.now();
  const replies = await Promise.all(
    fleet.simRouters.map((r) => minimumExchange(r.port, r.username, r.password)),
  );
  const routerExchangeMs = performance.now() - t;
  const rows = replies.flat();
  await fleet.db.query('CREATE TABLE IF NOT EXISTS bench_rows LIKE mod_mikrotikvpn_traffic_samples');
  await fleet.db.query('TRUNCATE bench_rows');
  t = performance.now();
  await fleet.db.transaction(async (m) => {
    for (let i = 0; i < rows.length; i += 5000) {
      const chunk = rows.slice(i, i + 5000);
      await m.query(
        `INSERT INTO bench_rows (account_id, batch_id, at, download_bytes, upload_bytes, balance_after_bytes, download_counter, upload_counter, queue_id)
         VALUES ${chunk.map(() => '(1, 1, NOW(3), ?, ?, 0, ?, ?, ?)').join(', ')}`,
        chunk.flatMap((c) => {
          const [up, down] = c.bytes.split('/');
          return [down, up, down, up, c['.id']];
        }),
      );
    }
  });
  const bulkInsertMs = performance.now() - t;
  return { routerExchangeMs, bulkInsertMs, totalMs: routerExchangeMs + bulkInsertMs, rows: rows.length };
}

/** One collection with the fleet's services, timed, with its memory, phases and router traffic. */
async function timedCollect(fleet: Fleet) {
  await fleet.newTraffic();
  await fleet.clearSimLog();
  const before = await fleet.simStats();
  const phases = new Map<CollectPhase, number[]>();
  fleet.services.collector.onPhase = (_id, phase, ms) =>
    phases.set(phase, [...(phases.get(phase) ?? []), ms]);
  const ctx = jobContext();
  const db = mariadbPid();
  collectGarbage();
  const cpu0 = { own: process.cpuUsage(), sim: processCpuMs(fleet.sim.pid), db: processCpuMs(db) };
  const t0 = performance.now();
  const {
    result: report,
    peakRssMb,
    heapGrowthMb,
  } = await withMemory(() => fleet.services.collector.collect(ctx));
  const wallMs = performance.now() - t0;
  const own = process.cpuUsage(cpu0.own);
  const simCpu = processCpuMs(fleet.sim.pid);
  const dbCpu = processCpuMs(db);
  fleet.services.collector.onPhase = undefined;
  const failed = report.routers.filter((r) => !r.ok || r.skipped);
  if (failed.length) throw new Error(`collection failed: ${JSON.stringify(failed)}`);
  const expected = fleet.routers * fleet.accountsPerRouter;
  if (report.samplesWritten !== expected)
    throw new Error(`wrote ${report.samplesWritten} samples, expected ${expected}`);
  const after = await fleet.simStats();
  return {
    wallMs,
    /** Where the CPU went during the run: the collector, the simulators, MariaDB (shared server). */
    cpuMs: {
      collector: round((own.user + own.system) / 1000),
      simulators: simCpu === null || cpu0.sim === null ? null : simCpu - cpu0.sim,
      mariadb: dbCpu === null || cpu0.db === null ? null : dbCpu - cpu0.db,
    },
    peakRssMb,
    heapGrowthMb,
    samples: report.samplesWritten,
    commandsPerRouter: [...new Set(after.map((s) => s.commands))],
    newConnectionsPerRouter: Math.max(...after.map((s, i) => s.connections - before[i].connections)),
    /** Mean time per router in each phase (routers run in parallel, so these overlap). */
    phasesMs: Object.fromEntries(
      [...phases].map(([phase, xs]) => [phase, round(xs.reduce((a, b) => a + b, 0) / xs.length)]),
    ),
  };
}

/**
 * SQL statements of one collection, counted on the wire, with fresh services (cold: new router
 * sessions, new pools). Also for one router alone, which separates the per-router cost from the
 * run's fixed cost.
 */
async function countedCollect(fleet: Fleet) {
  const { services, counter } = await fleet.counted();
  const ctx = jobContext();
  // Cold run: fresh router sessions and pools, as after a server start. Its once-an-hour pruning
  // of old samples is left out of the counted runs below.
  await fleet.newTraffic();
  await fleet.clearSimLog();
  const connectionsBefore = await fleet.simStats();
  await services.collector.collect(ctx);
  const sim = await fleet.simStats();
  await fleet.newTraffic();
  counter.reset();
  await services.collector.collect(ctx);
  const all = { statements: counter.statements, byKind: counter.byKind };
  await fleet.newTraffic();
  const [oneRouter] = (await fleet.db.query('SELECT MIN(id) AS id FROM mod_mikrotikvpn_routers')) as {
    id: number;
  }[];
  counter.reset();
  counter.captureTexts = true;
  counter.texts = [];
  await services.collector.collect(ctx, { routerId: oneRouter.id });
  counter.captureTexts = false;
  const one = counter.statements;
  // The statements of one router's collection, as sent (the start of each).
  const oneRouterTexts = counter.texts.map((t) => t.replace(/\s+/g, ' ').trim().slice(0, 120));
  const perRouter = fleet.routers > 1 ? (all.statements - one) / (fleet.routers - 1) : one;
  return {
    sqlStatements: all.statements,
    sqlByKind: all.byKind,
    sqlOneRouterTexts: oneRouterTexts,
    sqlPerRouter: round(perRouter, 2),
    sqlFixedPerRun: round(one - perRouter, 2),
    coldRun: {
      loginsPerRouter: Math.max(...sim.map((s) => s.logins)),
      commandsPerRouter: [...new Set(sim.map((s) => s.commands))],
      connectionsPerRouter: Math.max(...sim.map((s, i) => s.connections - connectionsBefore[i].connections)),
    },
  };
}

/** Runs `work` under the in-process profiler when `dir` is set, and writes `dir/<name>.cpuprofile`. */
async function profiled<T>(dir: string | undefined, name: string, work: () => Promise<T>): Promise<T> {
  if (!dir) return work();
  mkdirSync(dir, { recursive: true });
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
  try {
    return await work();
  } finally {
    const { profile } = await session.post('Profiler.stop');
    writeFileSync(path.join(dir, `${name}.cpuprofile`), JSON.stringify(profile));
    session.disconnect();
  }
}

/** Scenario 1: collection at provider scale, ratio to the physical limit measured in every run. */
export async function collectScenario(o: CollectOptions) {
  const fleet = await startFleet(o);
  try {
    await timedCollect(fleet); // warm-up: code compiled, router sessions open (as in a running server)
    const runs = [];
    for (let run = 0; run < o.runs; run++) {
      const collect = await profiled(o.collectorCpuProfDir, `collect-${run}`, () => timedCollect(fleet));
      const limit = await physicalLimit(fleet);
      runs.push({ ...collect, limit, ratio: collect.wallMs / limit.totalMs });
    }
    const counted = await countedCollect(fleet);
    return {
      scenario: { routers: o.routers, accountsPerRouter: o.accounts, accounts: o.routers * o.accounts },
      latencyMs: o.latencyMs,
      wallMs: stat(runs.map((r) => r.wallMs)),
      limitMs: stat(runs.map((r) => r.limit.totalMs)),
      limitRouterExchangeMs: stat(runs.map((r) => r.limit.routerExchangeMs)),
      limitBulkInsertMs: stat(runs.map((r) => r.limit.bulkInsertMs)),
      ratioToLimit: stat(
        runs.map((r) => r.ratio),
        2,
      ),
      peakRssMb: stat(runs.map((r) => r.peakRssMb)),
      heapGrowthMb: stat(runs.map((r) => r.heapGrowthMb)),
      samplesPerRun: runs[0].samples,
      warmRun: {
        commandsPerRouter: [...new Set(runs.flatMap((r) => r.commandsPerRouter))],
        newConnectionsPerRouter: Math.max(...runs.map((r) => r.newConnectionsPerRouter)),
      },
      ...counted,
      phasesMs: runs[Math.floor(runs.length / 2)].phasesMs,
      cpuMs: {
        collector: stat(runs.map((r) => r.cpuMs.collector)),
        simulators: stat(runs.map((r) => r.cpuMs.simulators ?? 0)),
        mariadb: stat(runs.map((r) => r.cpuMs.mariadb ?? 0)),
      },
    };
  } finally {
    await fleet.stop();
  }
}

/**
 * Scenario 2: the per-account collector of the reference module — per account, a new connection
 * and login, one filtered print and one row write — on a sample, extrapolated linearly; compared
 * with a batched collection of the same fleet in the same run.
 */
export async function baselineScenario(o: CollectOptions & { sample: number }) {
  const fleet = await startFleet(o);
  const total = o.routers * o.accounts;
  try {
    await timedCollect(fleet);
    const runs = [];
    for (let run = 0; run < o.runs; run++) {
      const batched = await timedCollect(fleet);
      const perAccount = await perAccountSample(fleet, o.sample);
      runs.push({
        batchedMs: batched.wallMs,
        ...perAccount,
        ratio: (perAccount.msPerAccount * total) / batched.wallMs,
      });
    }
    const msPerAccount = median(runs.map((r) => r.msPerAccount));
    // Round trips (replies waited for): per account a login and a print; batched, per router a login
    // (once per session) and the two reads of a collection.
    const perAccountRoundTrips = total * runs[0].roundTripsPerAccount;
    const batchedRoundTrips = o.routers * 3;
    return {
      scenario: { routers: o.routers, accountsPerRouter: o.accounts, accounts: total },
      latencyMs: o.latencyMs,
      sampled: o.sample,
      batchedMs: stat(runs.map((r) => r.batchedMs)),
      perAccountMsPerAccount: stat(
        runs.map((r) => r.msPerAccount),
        2,
      ),
      perAccountExtrapolatedS: round((msPerAccount * total) / 1000),
      ratioWallTime: stat(
        runs.map((r) => r.ratio),
        0,
      ),
      roundTrips: { perAccount: perAccountRoundTrips, batched: batchedRoundTrips },
      ratioRoundTrips: round(perAccountRoundTrips / batchedRoundTrips, 0),
      connections: { perAccount: total, batched: o.routers },
    };
  } finally {
    await fleet.stop();
  }
}

async function perAccountSample(fleet: Fleet, sample: number) {
  await fleet.db.query('CREATE TABLE IF NOT EXISTS bench_rows LIKE mod_mikrotikvpn_traffic_samples');
  await fleet.clearSimLog();
  const t = performance.now();
  for (let i = 0; i < sample; i++) {
    const r = i % fleet.routers;
    const index = fleet.simRouters[r].firstIndex + Math.floor(i / fleet.routers);
    const pool = new RouterSessionPool({ defaultTimeoutMs: 60_000 });
    const [row] = await new RouterGateway(pool).run(fleet.targets[r], [
      '/queue/simple/print',
      `?name=vpn-${index}`,
      '=.proplist=.id,name,bytes',
    ]);
    await pool.closeAll();
    const [up, down] = (row?.bytes ?? '0/0').split('/');
    await fleet.db.query(
      'INSERT INTO bench_rows (account_id, batch_id, at, download_bytes, upload_bytes, balance_after_bytes, queue_id) VALUES (?, 2, NOW(3), ?, ?, 0, ?)',
      [index, down, up, row?.['.id'] ?? ''],
    );
  }
  const ms = performance.now() - t;
  const sim = await fleet.simStats();
  const commands = sim.reduce((n, s) => n + s.commands + s.logins, 0);
  return { msPerAccount: ms / sample, roundTripsPerAccount: commands / sample };
}

/** Scenario 3: time and memory per account as the fleet grows (2,500 accounts per router). */
export async function growthScenario(o: { sizes: number[]; latencyMs: number; runs: number }) {
  const points = [];
  for (const size of o.sizes) {
    const routers = Math.max(1, Math.ceil(size / 2500));
    const perRouter = Math.ceil(size / routers);
    const fleet = await startFleet({ routers, accounts: perRouter, latencyMs: o.latencyMs });
    try {
      await timedCollect(fleet);
      const runs = [];
      for (let run = 0; run < o.runs; run++) {
        const collect = await timedCollect(fleet);
        const limit = await physicalLimit(fleet);
        runs.push({ ...collect, limit });
      }
      const total = routers * perRouter;
      const wall = median(runs.map((r) => r.wallMs));
      points.push({
        accounts: total,
        routers,
        wallMs: stat(runs.map((r) => r.wallMs)),
        usPerAccount: round((wall / total) * 1000, 1),
        ratioToLimit: stat(
          runs.map((r) => r.wallMs / r.limit.totalMs),
          2,
        ),
        peakRssMb: round(Math.max(...runs.map((r) => r.peakRssMb))),
        heapGrowthMb: round(median(runs.map((r) => r.heapGrowthMb))),
        heapBytesPerAccount: round((median(runs.map((r) => r.heapGrowthMb)) * 1048576) / total, 0),
      });
    } finally {
      await fleet.stop();
    }
  }
  return { latencyMs: o.latencyMs, accountsPerRouter: 2500, points };
}

/**
 * Scenario 5: how many samples per second one collector writes. One router, no latency, every
 * account with new traffic: the whole collection, and its write phase (the one transaction) alone.
 */
export async function ingestScenario(o: { accounts: number; runs: number }) {
  const fleet = await startFleet({ routers: 1, accounts: o.accounts, latencyMs: 0 });
  try {
    await timedCollect(fleet);
    const runs = [];
    for (let run = 0; run < o.runs; run++) runs.push(await timedCollect(fleet));
    return {
      accounts: o.accounts,
      wallMs: stat(runs.map((r) => r.wallMs)),
      samplesPerSecond: stat(
        runs.map((r) => r.samples / (r.wallMs / 1000)),
        0,
      ),
      writePhaseSamplesPerSecond: stat(
        runs.map((r) => r.samples / (r.phasesMs.write / 1000)),
        0,
      ),
      phasesMs: runs[Math.floor(runs.length / 2)].phasesMs,
    };
  } finally {
    await fleet.stop();
  }
}
