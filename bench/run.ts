import 'reflect-metadata';
import { parseArgs } from 'node:util';
import { fmt, machineInfo, writeResults } from './bench-kit';
import { baselineScenario, collectScenario, growthScenario, ingestScenario } from './collect.bench';
import { graphqlScenario } from './graphql.bench';
import { routerScenario } from './router.bench';
import { eventsScenario } from './events.bench';

/**
 * `npm run bench [-- <scenario>...] [--flags]`: the performance suite (docs/performance.md).
 * Scenarios: collect, baseline, growth, graphql, ingest, router, events; none named = all of them.
 * Prints one table per scenario and writes bench-results/<scenario>.json (git-ignored).
 */

const SCENARIOS = ['collect', 'baseline', 'growth', 'graphql', 'ingest', 'router', 'events'] as const;
type Scenario = (typeof SCENARIOS)[number];

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    routers: { type: 'string', default: '20' },
    accounts: { type: 'string', default: '2500', short: 'a' },
    'latency-ms': { type: 'string', default: '50' },
    runs: { type: 'string', default: '5' },
    sample: { type: 'string', default: '20' },
    sizes: { type: 'string', default: '1000,10000,50000,100000,200000' },
    'ingest-accounts': { type: 'string', default: '10000' },
    'gql-seconds': { type: 'string', default: '10' },
    'gql-connections': { type: 'string', default: '10' },
    'gql-rate': { type: 'string', default: '300' },
    'max-concurrent': { type: 'string' },
    'wireguard-share': { type: 'string', default: '0' },
    'connected-share': { type: 'string', default: '0' },
    'server-cpu-prof': { type: 'string' },
    'db-socket': { type: 'string' },
    'collector-cpu-prof': { type: 'string' },
    'events-per-minute': { type: 'string', default: '1000' },
    'events-seconds': { type: 'string', default: '60' },
    help: { type: 'boolean', short: 'h' },
  },
});

if (values.help) {
  console.log(`npm run bench [-- <${SCENARIOS.join('|')}>...] [--routers 20] [--accounts 2500 (per router)]
  [--latency-ms 50] [--runs 5] [--sample 20 (per-account baseline)] [--sizes 1000,10000,50000,100000,200000]
  [--ingest-accounts 10000] [--gql-seconds 10] [--gql-connections 10] [--gql-rate 300 (requests/s)]
  [--max-concurrent N (ROUTER_MAX_CONCURRENT)] [--server-cpu-prof DIR (CPU profile of the GraphQL server)]
  [--db-socket PATH (graphql: the server and its SQL comparison reach MariaDB over this Unix socket)]
  [--collector-cpu-prof DIR (CPU profile of each timed collection, the collector alone)]
  [--wireguard-share 0.5 (that share of each router's accounts are WireGuard peers)]
  [--connected-share 0.5 (that share of the accounts have a live PPP session: the session log's work)]
  [--events-per-minute 1000] [--events-seconds 60 (the events scenario: webhook delivery delay)]`);
  process.exit(0);
}

const unknown = positionals.filter((p) => !(SCENARIOS as readonly string[]).includes(p));
if (unknown.length) {
  console.error(`unknown scenario ${unknown.join(', ')}; choose from ${SCENARIOS.join(', ')}`);
  process.exit(2);
}
const chosen: Scenario[] = positionals.length ? (positionals as Scenario[]) : [...SCENARIOS];
const num = (name: keyof typeof values) => Number(values[name]);
const runs = num('runs');
const fleet = {
  routers: num('routers'),
  accounts: num('accounts'),
  latencyMs: num('latency-ms'),
  runs,
  maxConcurrent: values['max-concurrent'] ? num('max-concurrent') : undefined,
  wireGuardShare: num('wireguard-share'),
  connectedShare: num('connected-share'),
  collectorCpuProfDir: values['collector-cpu-prof'],
};

const yes = (ok: boolean) => (ok ? 'yes' : 'NO');

async function run(name: Scenario): Promise<unknown> {
  switch (name) {
    case 'collect': {
      const r = await collectScenario(fleet);
      console.log(
        `\n1. collect: ${r.scenario.routers} routers × ${r.scenario.accountsPerRouter} accounts${fleet.wireGuardShare ? ` (${fleet.wireGuardShare * 100} % WireGuard)` : ''}, ${r.latencyMs} ms per reply, ${runs} runs`,
      );
      console.table({
        'wall time of one collection (ms)': { value: fmt(r.wallMs), target: '', met: '' },
        'physical limit, same run (ms)': {
          value: `${fmt(r.limitMs)} = routers ${r.limitRouterExchangeMs.median} + insert ${r.limitBulkInsertMs.median}`,
          target: '',
          met: '',
        },
        'ratio to the physical limit': {
          value: fmt(r.ratioToLimit),
          target: '≤ 1.3',
          met: yes(r.ratioToLimit.median <= 1.3),
        },
        'connections per router (cold run / warm run)': {
          value: `${r.coldRun.connectionsPerRouter} / ${r.warmRun.newConnectionsPerRouter}`,
          target: '≤ 2',
          met: yes(r.coldRun.connectionsPerRouter <= 2),
        },
        'API commands per router (+ logins, cold)': {
          value: `${r.warmRun.commandsPerRouter.join('/')} (+${r.coldRun.loginsPerRouter})`,
          target: 'fixed',
          met: yes(r.warmRun.commandsPerRouter.length === 1),
        },
        'SQL statements per router batch (+ fixed per run)': {
          value: `${r.sqlPerRouter} (+${r.sqlFixedPerRun}), ${r.sqlStatements} in all`,
          target: 'fixed',
          met: yes(Number.isInteger(r.sqlPerRouter)),
        },
        'peak RSS (MB)': { value: fmt(r.peakRssMb), target: '', met: '' },
      });
      console.log('   mean time per router in each phase (ms, overlapping):', r.phasesMs);
      console.log(
        `   CPU during a collection (ms): collector ${fmt(r.cpuMs.collector)}, simulators ${fmt(r.cpuMs.simulators)}, MariaDB ${fmt(r.cpuMs.mariadb)} (shared server: other clients count too)`,
      );
      return r;
    }
    case 'baseline': {
      const r = await baselineScenario({ ...fleet, runs: Math.min(runs, 3), sample: num('sample') });
      console.log(
        `\n2. per-account collector (sample ${r.sampled}, extrapolated) vs batched, ${r.scenario.accounts} accounts, ${r.latencyMs} ms per reply`,
      );
      console.table({
        'batched collection (ms)': { value: fmt(r.batchedMs) },
        'per-account: ms per account': { value: fmt(r.perAccountMsPerAccount) },
        'per-account: extrapolated (s)': { value: r.perAccountExtrapolatedS },
        'wall-time ratio per-account / batched': { value: fmt(r.ratioWallTime) },
        'router round trips per-account / batched': {
          value: `${r.roundTrips.perAccount} / ${r.roundTrips.batched} = ${r.ratioRoundTrips}`,
        },
        'connections per-account / batched': {
          value: `${r.connections.perAccount} / ${r.connections.batched}`,
        },
      });
      return r;
    }
    case 'growth': {
      const r = await growthScenario({
        sizes: String(values.sizes).split(',').map(Number),
        latencyMs: fleet.latencyMs,
        runs: Math.min(runs, 3),
      });
      console.log(`\n3. growth: 2,500 accounts per router, ${r.latencyMs} ms per reply`);
      console.table(
        Object.fromEntries(
          r.points.map((p) => [
            `${p.accounts} accounts (${p.routers} routers)`,
            {
              'wall ms': fmt(p.wallMs),
              'µs/account': p.usPerAccount,
              'ratio to limit': fmt(p.ratioToLimit),
              'peak RSS MB': p.peakRssMb,
              'heap growth MB': p.heapGrowthMb,
              'heap B/account': p.heapBytesPerAccount,
            },
          ]),
        ),
      );
      return r;
    }
    case 'graphql': {
      const r = await graphqlScenario({
        seconds: num('gql-seconds'),
        connections: num('gql-connections'),
        rate: num('gql-rate'),
        cpuProfDir: values['server-cpu-prof'],
        dbSocket: values['db-socket'],
      });
      console.log(
        `\n4. GraphQL under load (autocannon in its own process, ${r.connections} connections, ${r.rate} requests/s offered, ${r.seconds} s, database over ${r.databaseTransport})`,
      );
      console.table(r.table);
      console.table({
        [`usage: p99 ≤ 20 ms at ${r.rate} req/s, p50 ≤ 3× the SQL alone, no errors`]: {
          value: `p99 ${r.usage.load.p99} ms, p50 ${r.usage.ratioToSql}× (${r.usage.load.requestsPerSecond} req/s)`,
          met: yes(r.usage.met),
        },
        'usage, for reference: p50 over the same SQL behind a bare HTTP server': {
          value: `${r.usage.ratioToBareHttp}× (${r.usage.load.p50} / ${r.usage.bareHttp.p50} ms)`,
          met: '',
        },
        'account list: p50 ≤ 1.2× the same SQL and router reads alone': {
          value: `${r.list.ratioToDirect}×`,
          met: yes(r.list.met),
        },
      });
      return r;
    }
    case 'ingest': {
      const r = await ingestScenario({ accounts: num('ingest-accounts'), runs });
      console.log(`\n5. ingest: one router, ${r.accounts} accounts, no latency`);
      console.table({
        'samples/s, whole collection': {
          value: fmt(r.samplesPerSecond),
          target: '≥ 5000',
          met: yes(r.samplesPerSecond.median >= 5000),
        },
        'samples/s, write transaction alone': {
          value: fmt(r.writePhaseSamplesPerSecond),
          target: '',
          met: '',
        },
        'collection wall time (ms)': { value: fmt(r.wallMs), target: '', met: '' },
      });
      console.log('   phases (ms):', r.phasesMs);
      return r;
    }
    case 'events': {
      const r = await eventsScenario({ perMinute: num('events-per-minute'), seconds: num('events-seconds') });
      console.log(
        `\nevents: ${r.events} traffic.credited events (real topUpTraffic mutations) at ${r.perMinuteOffered}/min over ${r.offeredSeconds} s, two server processes delivering, one receiver`,
      );
      console.table({
        'delivered (of offered)': {
          value: `${r.delivered} / ${r.events}`,
          target: 'all',
          met: yes(r.delivered === r.events),
        },
        'delay p50 / p95 (ms)': { value: `${r.p50Ms} / ${r.p95Ms}`, target: '', met: '' },
        'delay p99 (ms)': { value: r.p99Ms, target: '≤ 2000', met: yes(r.met) },
        'delay max (ms)': { value: r.maxMs, target: '', met: '' },
        'duplicate deliveries': { value: r.duplicates, target: '', met: '' },
      });
      console.log(`   1,000 events/min delivered with p99 delay ≤ 2 s: ${r.met ? 'met' : 'not met'}`);
      return r;
    }
    case 'router': {
      const r = await routerScenario();
      console.log(`\nrouter read path (${r.latencyMsPerReply} ms per reply)`);
      console.table({
        'live status, 1,000 accounts, 1 router, batched': {
          commands: r.live.batched.commands,
          ms: `${r.live.batched.medianMs} (${r.live.batched.minMs}–${r.live.batched.maxMs})`,
        },
        'live status, 1,000 accounts, one at a time': {
          commands: r.live.oneByOne.commands,
          ms: r.live.oneByOne.wallMs,
        },
        'counters, 10,000 accounts, 10 routers, batched': {
          commands: r.counters.commandsPerRouter.map((n) => `${n}/router`).join(' '),
          ms: `${r.counters.medianMs} (${r.counters.minMs}–${r.counters.maxMs})`,
        },
      });
      return r;
    }
  }
}

async function main() {
  const machine = await machineInfo();
  console.log(
    `machine: ${machine.cpus} × ${machine.cpuModel}, ${machine.memoryGb} GB, node ${machine.node}, MariaDB ${machine.mariadb}, load ${machine.loadAverage.join(' ')}`,
  );
  for (const name of chosen) {
    const result = await run(name);
    const { loadAverage } = await machineInfo();
    console.log(`wrote ${writeResults(name, result, { ...machine, loadAverageAfter: loadAverage })}`);
  }
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
