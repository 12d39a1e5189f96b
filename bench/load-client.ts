import http from 'node:http';
import { round } from './bench-kit';

/**
 * The load generator of the GraphQL scenario, run as its own process (forked by graphql.bench.ts)
 * so that its CPU is not the server's: one GraphQL operation at an evenly spaced offered rate on a
 * bounded number of connections, or closed loop with autocannon. Every response time is kept, so
 * p50/p95/p99 are exact.
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

function report(result: { requests: number; non2xx: number; errors: number }, times: number[]): never {
  times.sort((a, b) => a - b);
  process.stdout.write(
    `${JSON.stringify({
      requests: result.requests,
      requestsPerSecond: round(times.length / input.seconds, 1),
      non2xx: result.non2xx,
      errors: result.errors,
      p50: round(percentile(times, 50), 2),
      p95: round(percentile(times, 95), 2),
      p99: round(percentile(times, 99), 2),
      max: round(times[times.length - 1] ?? 0, 2),
    })}\n`,
  );
  process.exit(0);
}

/**
 * An offered rate: one request every 1/rate seconds, evenly spaced, on at most `connections`
 * keep-alive connections. autocannon's rate limit lets each connection send its share of a second
 * back to back at the start of the second, so its "300 requests/s" arrived as bursts of 300 and the
 * latency measured the burst's queue. Each time is taken from the moment the request was due, not
 * from when a connection became free (no coordinated omission: a stalled server shows as latency).
 */
function offeredRate(): void {
  const agent = new http.Agent({ keepAlive: true, maxSockets: input.connections });
  const url = new URL(`${input.url}/graphql`);
  const body = Buffer.from(input.body);
  const times: number[] = [];
  const result = { requests: 0, non2xx: 0, errors: 0 };
  const period = 1000 / input.rate;
  const total = Math.round(input.rate * input.seconds);
  const start = performance.now();
  let sent = 0;
  let done = 0;
  const send = (due: number) => {
    const request = http.request(
      {
        agent,
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'content-length': body.length,
          authorization: `Bearer ${input.token}`,
        },
      },
      (response) => {
        response.on('data', () => undefined);
        response.on('end', () => {
          times.push(performance.now() - due);
          result.requests++;
          if ((response.statusCode ?? 0) >= 300) result.non2xx++;
          if (++done === total) report(result, times);
        });
      },
    );
    request.on('error', () => {
      result.errors++;
      if (++done === total) report(result, times);
    });
    request.end(body);
  };
  const tick = () => {
    const now = performance.now();
    while (sent < total && start + sent * period <= now) send(start + sent++ * period);
    if (sent < total) setTimeout(tick, Math.max(0, start + sent * period - performance.now()));
  };
  tick();
}

/** Closed loop (no rate): autocannon, every connection sending its next request at once. */
function closedLoop(): void {
  const times: number[] = [];
  const instance = autocannon(
    {
      url: `${input.url}/graphql`,
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${input.token}` },
      body: input.body,
      connections: input.connections,
      duration: input.seconds,
    },
    (error, result) => {
      if (error) throw error;
      report(
        { requests: result.requests.total, non2xx: result.non2xx, errors: result.errors + result.timeouts },
        times,
      );
    },
  );
  instance.on('response', (_client: unknown, _status: number, _bytes: number, responseTime: number) =>
    times.push(responseTime),
  );
}

if (input.rate > 0) offeredRate();
else closedLoop();
