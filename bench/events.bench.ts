import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { gql, startServer, waitForHealthy, type TestServer } from '../test/helpers/test-server';
import { createApiKey } from '../test/helpers/cli';
import { round } from './bench-kit';
import { startFleet } from './fleet';

/**
 * Scenario `events`: webhooks under a steady stream of real changes. Two server processes on one
 * MariaDB, both delivering with the default delivery clock (WEBHOOK_INTERVAL_MS=1000); traffic
 * top-ups (real mutations: ledger, balance, outbox, fan-out) offered at a fixed rate, alternating
 * between the processes; one receiver in this process answering 204. The delay of an event is from
 * the moment its mutation answered to the moment the receiver got it.
 */
export async function eventsScenario(o: { perMinute: number; seconds: number }) {
  const fleet = await startFleet({ routers: 1, accounts: 200, latencyMs: 0 });
  const servers: TestServer[] = [];
  const sentAt = new Map<string, number>();
  const delays: number[] = [];
  const ids = new Set<string>();
  let duplicates = 0;
  const receiver = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const id = String(req.headers['webhook-id']);
      if (ids.has(id)) duplicates++;
      ids.add(id);
      arrivals.set(id, performance.now());
      res.writeHead(204).end();
    });
  });
  const arrivals = new Map<string, number>();
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  try {
    const env = {
      DATABASE_URL: fleet.tdb.url,
      ENCRYPTION_KEY: fleet.env.ENCRYPTION_KEY,
      COLLECT_INTERVAL_SECONDS: '0',
      RECONCILE_INTERVAL_SECONDS: '0',
      NODE_ENV: 'production',
      WEBHOOK_ALLOWED_TARGETS: '127.0.0.1',
    };
    for (let i = 0; i < 2; i++) {
      const s = await startServer(env);
      await waitForHealthy(s);
      servers.push(s);
    }
    const admin = await createApiKey(fleet.tdb.url, 'bench', 'admin');
    const port = (receiver.address() as AddressInfo).port;
    const created = await gql(
      servers[0].url,
      `mutation($u: String!) { createWebhookEndpoint(input: { url: $u }) { endpoint { id } } }`,
      { u: `http://127.0.0.1:${port}/bench` },
      admin,
    );
    if (created.errors) throw new Error(JSON.stringify(created.errors));
    const first = fleet.simRouters[0].firstIndex;
    const total = Math.round((o.perMinute * o.seconds) / 60);
    const gapMs = 60_000 / o.perMinute;
    const started = performance.now();
    const sends: Promise<void>[] = [];
    for (let n = 0; n < total; n++) {
      const due = started + n * gapMs;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      const server = servers[n % 2];
      sends.push(
        (async () => {
          const r = await gql(
            server.url,
            `mutation($s: Int!, $k: String!) { topUpTraffic(input: { serviceId: $s, bytes: "1000000", idempotencyKey: $k }) { id } }`,
            { s: first + (n % 200), k: `bench-${n}` },
            admin,
          );
          if (r.errors) throw new Error(JSON.stringify(r.errors));
          const [row] = await fleet.db.query(
            `SELECT o.id FROM mod_mikrotikvpn_outbox o WHERE o.type = 'traffic.credited' AND JSON_VALUE(o.payload, '$.topUpId') = ?`,
            [String(r.data!.topUpTraffic.id)],
          );
          sentAt.set(String(row.id), performance.now());
        })(),
      );
    }
    await Promise.all(sends);
    const offeredSeconds = (performance.now() - started) / 1000;
    const until = performance.now() + 30_000;
    while (arrivals.size < total && performance.now() < until) await new Promise((r) => setTimeout(r, 100));
    for (const [id, sent] of sentAt) {
      const got = arrivals.get(id);
      // An arrival before the id was looked up (a fast delivery) counts as no delay.
      if (got !== undefined) delays.push(Math.max(0, got - sent));
    }
    delays.sort((a, b) => a - b);
    const p = (q: number) =>
      round(delays[Math.min(delays.length - 1, Math.floor(q * delays.length))] ?? NaN, 0);
    return {
      perMinuteOffered: o.perMinute,
      events: total,
      offeredSeconds: round(offeredSeconds, 1),
      delivered: delays.length,
      duplicates,
      p50Ms: p(0.5),
      p95Ms: p(0.95),
      p99Ms: p(0.99),
      maxMs: round(delays[delays.length - 1] ?? NaN, 0),
      met: delays.length === total && p(0.99) <= 2000,
    };
  } finally {
    for (const s of servers) await s.stop();
    await new Promise((r) => receiver.close(r));
    await fleet.stop();
  }
}
