import { readFileSync } from 'node:fs';

/**
 * Where a GraphQL request's CPU goes, from a V8 CPU profile of the server (`npm run bench --
 * graphql --server-cpu-prof DIR`; `server-<pid>-1.cpuprofile` is the usage load alone):
 *
 *   node dist/bench/profile-summary.js DIR/server-<pid>-1.cpuprofile <requests>
 *
 * Each sample is given to the innermost part of the request its stack passes through (walking up
 * from the sampled function), then divided by the number of requests of that phase (its req/s ×
 * seconds). The parts are the ones docs/performance.md §4b reports.
 */
const PARTS: [string, RegExp][] = [
  ['account read (SQL built, rows hydrated)', /^(findByServiceId|findOne) /],
  ['usage rows (days)', /^days .*traffic\.service/],
  ['query limits (depth, aliases, cost)', /^didResolveOperation .*limits\.plugin/],
  ['client-token check (signature, standing SQL)', /^authenticate .*create-context/],
  ['logging', /node_modules\/pino\//],
  ['MySQL client (send, parse replies)', /node_modules\/mysql2\//],
  ['GraphQL execution (fields, scalars, type-graphql)', /node_modules\/(graphql\/execution|type-graphql)\//],
  [
    'Apollo request pipeline',
    /@apollo\/server\/dist\/cjs\/(requestPipeline|runHttpQuery|ApolloServer|incrementalDeliveryPolyfill|utils)/,
  ],
  [
    'HTTP (express, body, headers, response)',
    /node_modules\/(express|body-parser|router|raw-body|finalhandler|on-finished)\/|context\/request-id|\/src\/app\.js|node:_http/,
  ],
];

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string };
  children?: number[];
}

function main(): void {
  const [file, requestsArg] = process.argv.slice(2);
  const requests = Number(requestsArg);
  if (!file || !(requests > 0)) {
    console.error('usage: node dist/bench/profile-summary.js <file.cpuprofile> <requests>');
    process.exit(2);
  }
  const profile = JSON.parse(readFileSync(file, 'utf8')) as {
    nodes: ProfileNode[];
    samples: number[];
    timeDeltas: number[];
  };
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const selfUs = new Map<number, number>();
  profile.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const label = (n: ProfileNode) => `${n.callFrame.functionName} ${n.callFrame.url}`;
  const totals = new Map<string, number>();
  let all = 0;
  for (const [id, us] of selfUs) {
    all += us;
    const leaf = byId.get(id)!.callFrame.functionName;
    let part = leaf === '(idle)' ? 'idle' : leaf === '(garbage collector)' ? 'garbage collection' : undefined;
    for (let at: number | undefined = id; !part && at !== undefined; at = parent.get(at)) {
      const text = label(byId.get(at)!);
      part = PARTS.find(([, pattern]) => pattern.test(text))?.[0];
    }
    part ??= 'other';
    totals.set(part, (totals.get(part) ?? 0) + us);
  }
  for (const [part, us] of [...totals].sort((a, b) => b[1] - a[1])) {
    console.log(
      `${part.padEnd(52)} ${(us / requests).toFixed(0).padStart(6)} µs/request ${((100 * us) / all).toFixed(1).padStart(5)} %`,
    );
  }
  console.log(`busy CPU per request: ${((all - (totals.get('idle') ?? 0)) / requests).toFixed(0)} µs`);
}

main();
