import 'reflect-metadata';
import { parseArgs } from 'node:util';
import type { DataSource } from 'typeorm';
import { createTestDatabase } from '../test/helpers/test-db';
import { WhmcsFixtures } from '../test/helpers/whmcs-fixtures';
import { seededAddress } from '../test/simulator/seed-accounts';
import { loadConfig } from '../src/config/app-config';
import { generateKeyLine } from '../src/auth/secret-box';
import { createServices } from '../src/app-services';
import { systemContext } from '../src/context/request-context';
import { createLoaders } from '../src/loaders/create-loaders';
import { RouterGateway, RouterSessionPool, type RouterTarget } from '../src/router';
import { askSimHost, median, round, startSimHost, writeResults } from './bench-kit';

/**
 * `npm run bench:collect [-- --routers R --accounts N --latency-ms L --runs K]`: one full collection
 * (every account with new traffic) against simulated routers in a separate process, measured
 * against (a) the physical limit in the same run — each router's minimum exchange (connect, login,
 * one counters print) in parallel plus one bulk insert of the same rows — and (b) a per-account
 * collector (connect, read one queue, write one row per account) on a sample, extrapolated.
 */

interface Scenario {
  routers: number;
  accounts: number;
  latencyMs: number;
}

async function questions(db: DataSource): Promise<number> {
  return Number((await db.query("SHOW GLOBAL STATUS LIKE 'Questions'"))[0].Value);
}

async function runScenario(s: Scenario, runs: number, sampleSize: number) {
  const total = s.routers * s.accounts;
  const tdb = await createTestDatabase();
  const db = tdb.dataSource;
  const { child, routers: simRouters } = await startSimHost(s);
  try {
    const env = {
      DATABASE_URL: tdb.url,
      ENCRYPTION_KEY: generateKeyLine('bench'),
      ROUTER_MAX_CONCURRENT: '32',
    };
    const config = loadConfig(env);
    const services = createServices(config, db);
    const whmcs = new WhmcsFixtures(db);
    const productId = await whmcs.product({ settings: { trafficMonthlyGb: '1000' } });
    const routerIds: number[] = [];
    for (const [r, sim] of simRouters.entries()) {
      const serverId = await whmcs.server({ name: `bench ${r}` });
      const result = await db.query(
        "INSERT INTO mod_mikrotikvpn_routers (server_id, name, host, port, tls, username, password_encrypted) VALUES (?, ?, '127.0.0.1', ?, 0, 'api', ?)",
        [serverId, `bench ${r}`, sim.port, services.secretBox.encrypt('bench')],
      );
      routerIds.push(result.insertId);
      for (let i = 0; i < s.accounts; i += 5000) {
        const rows: unknown[] = [];
        const n = Math.min(5000, s.accounts - i);
        for (let k = 0; k < n; k++) {
          const index = sim.firstIndex + i + k;
          rows.push(index, 1, productId, result.insertId, `vpn-${index}`, seededAddress(index));
        }
        await db.query(
          `INSERT INTO mod_mikrotikvpn_accounts (service_id, client_id, product_id, router_id, username, address, status, billing_cycle, balance_bytes, cycle_allowance_bytes)
           VALUES ${Array(n).fill("(?, ?, ?, ?, ?, ?, 'ACTIVE', 'Monthly', 1000000000000000, 1000000000000)").join(', ')}`,
          rows,
        );
      }
    }
    await db.query('CREATE TABLE bench_rows LIKE mod_mikrotikvpn_traffic_samples');

    const ctx = systemContext(services, 'bench', createLoaders(services));
    const measured: {
      wallMs: number;
      statements: number;
      commands: number[];
      connections: number[];
      peakRssMb: number;
      samples: number;
    }[] = [];
    let connectionsBefore = (await askSimHost<{ connections: number }[]>(child, 'stats')).map(
      (x) => x.connections,
    );
    for (let run = 0; run < runs; run++) {
      // Every run counts everything again: the accounts forget their last counters.
      await db.query(
        'UPDATE mod_mikrotikvpn_accounts SET last_download_counter = 0, last_upload_counter = 0, counter_queue_id = NULL',
      );
      await db.query('DELETE FROM mod_mikrotikvpn_traffic_samples');
      await db.query('DELETE FROM mod_mikrotikvpn_traffic_daily');
      await askSimHost(child, 'clear');
      let peak = process.memoryUsage().rss;
      const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 5);
      const q0 = await questions(db);
      const t0 = performance.now();
      const report = await services.collector.collect(ctx);
      const wallMs = performance.now() - t0;
      const q1 = await questions(db);
      clearInterval(sampler);
      if (report.routers.some((r) => !r.ok))
        throw new Error(JSON.stringify(report.routers.filter((r) => !r.ok)));
      const stats = await askSimHost<{ commands: number; connections: number }[]>(child, 'stats');
      measured.push({
        wallMs,
        statements: q1 - q0 - 1,
        commands: stats.map((x) => x.commands),
        connections: stats.map((x, i) => x.connections - connectionsBefore[i]),
        peakRssMb: peak / 1048576,
        samples: report.samplesWritten,
      });
      connectionsBefore = stats.map((x) => x.connections);
    }

    // Physical limit, same run: minimum router exchange for all routers in parallel + one bulk insert.
    const pool = new RouterSessionPool({ defaultTimeoutMs: 60_000 });
    const gateway = new RouterGateway(pool);
    const targets: RouterTarget[] = simRouters.map((sim, r) => ({
      id: `limit-${r}`,
      host: '127.0.0.1',
      port: sim.port,
      tls: false,
      username: 'api',
      password: 'bench',
    }));
    let t = performance.now();
    const counters = await Promise.all(targets.map((target) => gateway.readQueueCounters(target)));
    const routerExchangeMs = performance.now() - t;
    await pool.closeAll();
    const rows = counters.flat();
    t = performance.now();
    await db.transaction(async (m) => {
      for (let i = 0; i < rows.length; i += 5000) {
        const chunk = rows.slice(i, i + 5000);
        await m.query(
          `INSERT INTO bench_rows (account_id, batch_id, at, download_bytes, upload_bytes, balance_after_bytes, download_counter, upload_counter, queue_id)
           VALUES ${chunk.map(() => '(1, 1, NOW(3), ?, ?, 0, ?, ?, ?)').join(', ')}`,
          chunk.flatMap((c) => [
            c.downloadBytes.toString(),
            c.uploadBytes.toString(),
            c.downloadBytes.toString(),
            c.uploadBytes.toString(),
            c.id,
          ]),
        );
      }
    });
    const bulkInsertMs = performance.now() - t;
    const limitMs = routerExchangeMs + bulkInsertMs;

    // Per-account collector (what polling modules do), on a sample, extrapolated.
    const sample = Math.min(sampleSize, total);
    t = performance.now();
    for (let i = 0; i < sample; i++) {
      const r = i % s.routers;
      const index = simRouters[r].firstIndex + Math.floor(i / s.routers);
      const onePool = new RouterSessionPool({ defaultTimeoutMs: 60_000 });
      const rowsOne = await new RouterGateway(onePool).run(targets[r], [
        '/queue/simple/print',
        `?name=vpn-${index}`,
        '=.proplist=.id,name,bytes',
      ]);
      await onePool.closeAll();
      await db.query(
        'INSERT INTO bench_rows (account_id, batch_id, at, download_bytes, upload_bytes, balance_after_bytes, queue_id) VALUES (?, 2, NOW(3), 0, 0, 0, ?)',
        [index, rowsOne[0]?.['.id'] ?? ''],
      );
    }
    const perAccountMs = (performance.now() - t) / sample;
    await services.routerPool.closeAll();
    await services.locks.close();

    const wall = measured.map((m) => m.wallMs);
    const best = measured[measured.length - 1];
    return {
      scenario: { ...s, accounts: total },
      runs,
      collect: {
        medianMs: round(median(wall)),
        minMs: round(Math.min(...wall)),
        maxMs: round(Math.max(...wall)),
        samplesWritten: best.samples,
        commandsPerRouter: [...new Set(best.commands)],
        connectionsPerRouterFirstRun: Math.max(...measured[0].connections),
        connectionsPerRouterLaterRuns: Math.max(...best.connections),
        sqlStatements: median(measured.map((m) => m.statements)),
        sqlStatementsPerRouter: round(median(measured.map((m) => m.statements)) / s.routers, 2),
        peakRssMb: round(Math.max(...measured.map((m) => m.peakRssMb))),
        msPerThousandAccounts: round((median(wall) / total) * 1000, 2),
      },
      physicalLimit: {
        routerExchangeMs: round(routerExchangeMs),
        bulkInsertMs: round(bulkInsertMs),
        totalMs: round(limitMs),
      },
      ratioToPhysicalLimit: round(median(wall) / limitMs, 2),
      perAccount: {
        sampled: sample,
        msPerAccount: round(perAccountMs, 2),
        extrapolatedMs: round(perAccountMs * total),
        roundTripsPerAccount: 2,
      },
      ratioPerAccountToBatched: round((perAccountMs * total) / median(wall)),
      ratioRoundTrips: round((total * 2) / (s.routers * Math.max(...best.commands)), 1),
    };
  } finally {
    child.kill('SIGTERM');
    await tdb.drop();
  }
}

async function main() {
  const { values } = parseArgs({
    options: {
      routers: { type: 'string' },
      accounts: { type: 'string' },
      'latency-ms': { type: 'string', default: '20' },
      runs: { type: 'string', default: '3' },
      sample: { type: 'string', default: '40' },
    },
  });
  const scenarios: Scenario[] = values.routers
    ? [
        {
          routers: Number(values.routers),
          accounts: Number(values.accounts ?? 1000),
          latencyMs: Number(values['latency-ms']),
        },
      ]
    : [
        { routers: 10, accounts: 1000, latencyMs: Number(values['latency-ms']) },
        { routers: 50, accounts: 2000, latencyMs: Number(values['latency-ms']) },
      ];
  const results = [];
  for (const s of scenarios) {
    const r = await runScenario(s, Number(values.runs), Number(values.sample));
    results.push(r);
    console.log(
      `${r.scenario.routers} routers x ${s.accounts} accounts @ ${s.latencyMs} ms: collect median ${r.collect.medianMs} ms ` +
        `(min ${r.collect.minMs}, max ${r.collect.maxMs}), ${r.collect.commandsPerRouter.join('/')} commands/router, ` +
        `${r.collect.connectionsPerRouterLaterRuns} new connections/router after the first run, ${r.collect.sqlStatementsPerRouter} SQL/router, ` +
        `peak RSS ${r.collect.peakRssMb} MB | limit ${r.physicalLimit.totalMs} ms (routers ${r.physicalLimit.routerExchangeMs} + insert ${r.physicalLimit.bulkInsertMs}) ` +
        `ratio ${r.ratioToPhysicalLimit} | per-account ${r.perAccount.msPerAccount} ms/account -> ${round(r.perAccount.extrapolatedMs / 1000)} s, ` +
        `${r.ratioPerAccountToBatched}x slower, ${r.ratioRoundTrips}x the round trips`,
    );
  }
  console.log(`wrote ${writeResults('collect', results)}`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
