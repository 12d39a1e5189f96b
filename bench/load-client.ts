import { round } from './bench-kit';

/**
 * The load generator of the GraphQL scenario, run as its own process (forked by graphql.bench.ts)
 * so that its CPU is not the server's: autocannon posting one GraphQL operation at a fixed
 * concurrency and offered rate. Every response time is kept, so p50/p95/p99 are exact.
 * Input (argv[2]): JSON { url, body, token, connections, rate, seconds }. Output: one JSON line.
 */

export interface LoadInput {
  url: string;
  body: string;
  token: string;
  connections: number;
  rate: number;
  seconds: number;
}

// autocannon ships no types; this is the part we use.
type Instance = NodeJS.EventEmitter & { stop(): void };
type Autocannon = (
  options: Record<string, unknown>,
  done: (
    error: Error | null,
    result: { requests: { total: number }; non2xx: number; errors: number; timeouts: number },
  ) => void,
) => Instance;
// eslint-disable-next-line @typescript-eslint/no-require-imports
const autocannon = require('autocannon') as Autocannon;

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

const input = JSON.parse(process.argv[2]) as LoadInput;
const times: number[] = [];
const instance = autocannon(
  {
    url: `${input.url}/graphql`,
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${input.token}` },
    body: input.body,
    connections: input.connections,
    overallRate: input.rate || undefined,
    duration: input.seconds,
  },
  (error, result) => {
    if (error) throw error;
    times.sort((a, b) => a - b);
    process.stdout.write(
      `${JSON.stringify({
        requests: result.requests.total,
        requestsPerSecond: round(times.length / input.seconds, 1),
        non2xx: result.non2xx,
        errors: result.errors + result.timeouts,
        p50: round(percentile(times, 50), 2),
        p95: round(percentile(times, 95), 2),
        p99: round(percentile(times, 99), 2),
        max: round(times[times.length - 1] ?? 0, 2),
      })}\n`,
    );
    process.exit(0);
  },
);
instance.on('response', (_client: unknown, _status: number, _bytes: number, responseTime: number) =>
  times.push(responseTime),
);
