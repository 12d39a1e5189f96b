import { expect } from 'chai';
import { startStack, type Stack } from '../helpers/stack';
import { startServer, waitForHealthy, type GqlResult, type TestServer } from '../helpers/test-server';
import type { SimulatedRouter } from '../simulator/simulated-router';
import { Accounts, COLLECT, FULL, GB, faultSeed, seededRandom } from './fault-fixtures';

const TOPUP = `mutation($i: TopUpTrafficInput!) { topUpTraffic(input: $i) { id } }`;
const RENEW = `mutation($s: Int!, $k: String!, $inv: Int) { renewVpnAccount(serviceId: $s, cycleKey: $k, invoiceId: $inv) { id } }`;
const ALLOWANCE_GB = 1000;

/** Runs the jobs with at most `width` in flight. */
async function pool<T>(jobs: (() => Promise<T>)[], width: number): Promise<T[]> {
  const results: T[] = new Array(jobs.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < jobs.length) {
        const i = next++;
        results[i] = await jobs[i]();
      }
    }),
  );
  return results;
}

/**
 * Item 5 of issue #9: every payment hook (a bought top-up, a paid renewal) delivered three times in
 * parallel, to two server processes, while debits (admin adjustments, and collected traffic) hit the
 * same accounts concurrently. Every balance ends where the serial sum puts it.
 */
describe('faults: payment hooks delivered three times in parallel, with concurrent debits', function () {
  this.timeout(FULL ? 900_000 : 180_000);
  const topUps = FULL ? 1000 : 100;
  const accountCount = FULL ? 10 : 4;
  const debitsPerAccount = FULL ? 100 : 25;
  const seed = faultSeed();
  const random = seededRandom(seed);
  let stack: Stack;
  let second: TestServer;
  let sim: SimulatedRouter;
  let accounts: Accounts;
  const list: { serviceId: number; address: string }[] = [];

  before(async () => {
    stack = await startStack();
    let serverId: number;
    ({ sim, serverId } = await stack.addRouter({
      assignedips: Array.from({ length: 20 }, (_, i) => `10.98.0.${i + 2}`),
    }));
    const client = await stack.whmcs.client();
    const productId = await stack.whmcs.product({ settings: { trafficMonthlyGb: String(ALLOWANCE_GB) } });
    accounts = new Accounts(stack, client, productId, 70_000);
    for (let i = 0; i < accountCount; i++) list.push(await accounts.create(serverId, `pay${i}`));
    second = await startServer(stack.env);
    await waitForHealthy(second);
  });
  after(async () => {
    await second?.stop();
    await stack?.stop();
  });

  it(`${topUps} hooks × 3 deliveries and ${debitsPerAccount} debits per account: balances equal the serial result`, async () => {
    await accounts.call(COLLECT);
    const expected = new Map<number, bigint>();
    for (const a of list) expected.set(a.serviceId, await accounts.balance(a.serviceId));
    const credits = new Map<number, number>(list.map((a) => [a.serviceId, 0]));
    const servers = [stack.server, second];
    const jobs: (() => Promise<GqlResult>)[] = [];

    for (let t = 0; t < topUps; t++) {
      const a = list[t % list.length];
      credits.set(a.serviceId, credits.get(a.serviceId)! + 1);
      // One in ten is an invoice paid for the next cycle, the rest bought traffic.
      const renewal = t % 10 === 9;
      const bytes = BigInt(1_000_000 + t * 7);
      expected.set(a.serviceId, expected.get(a.serviceId)! + (renewal ? BigInt(ALLOWANCE_GB * GB) : bytes));
      const deliver = (server: TestServer) =>
        renewal
          ? accounts.call(RENEW, { s: a.serviceId, k: `due:${t}`, inv: 10_000 + t }, server)
          : accounts.call(
              TOPUP,
              {
                i: {
                  serviceId: a.serviceId,
                  bytes: String(bytes),
                  idempotencyKey: `addon:${t}`,
                  invoiceId: 10_000 + t,
                },
              },
              server,
            );
      // The three copies of one hook leave at the same instant, to both processes (WHMCS firing a
      // hook 2–3 times in a row); each must answer without error.
      jobs.push(async () => {
        const copies = await Promise.all([0, 1, 2].map((copy) => deliver(servers[copy % 2])));
        return copies.find((r) => r.errors) ?? copies[0];
      });
    }
    for (const a of list) {
      for (let d = 0; d < debitsPerAccount; d++) {
        const bytes = BigInt(500_000 + d);
        expected.set(a.serviceId, expected.get(a.serviceId)! - bytes);
        credits.set(a.serviceId, credits.get(a.serviceId)! + 1);
        jobs.push(() =>
          accounts.call(
            TOPUP,
            {
              i: {
                serviceId: a.serviceId,
                bytes: String(-bytes),
                kind: 'ADJUSTMENT',
                description: 'admin debit',
                idempotencyKey: `debit:${a.serviceId}:${d}`,
              },
            },
            servers[d % 2],
          ),
        );
      }
    }
    // Traffic flows and is collected in between, by both processes.
    for (let c = 0; c < 20; c++) {
      jobs.push(async () => {
        for (const a of list) {
          sim.pushTraffic(a.address, 3_000_001, 200_003);
          expected.set(a.serviceId, expected.get(a.serviceId)! - 3_200_004n);
        }
        return accounts.call(COLLECT, {}, servers[c % 2]);
      });
    }
    // Shuffled (seeded), so copies of one hook and the debits race each other.
    for (let i = jobs.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [jobs[i], jobs[j]] = [jobs[j], jobs[i]];
    }
    const started = Date.now();
    const results = await pool(jobs, 48);
    const elapsed = Date.now() - started;
    const failures = results.filter((r) => r.errors);
    expect(failures.slice(0, 3), JSON.stringify(failures.slice(0, 3))).to.deep.equal([]);
    await accounts.call(COLLECT); // whatever a skipped collection left

    let doubleCredits = 0;
    let wrongBalances = 0;
    for (const a of list) {
      const [{ n, distinct_keys: keys }] = await stack.db.query(
        `SELECT COUNT(*) AS n, COUNT(DISTINCT t.idempotency_key) AS distinct_keys
           FROM mod_mikrotikvpn_traffic_topups t JOIN mod_mikrotikvpn_accounts a ON a.id = t.account_id
          WHERE a.service_id = ? AND (t.idempotency_key LIKE 'addon:%' OR t.idempotency_key LIKE 'cycle:%due:%' OR t.idempotency_key LIKE 'adjustment:debit:%')`,
        [a.serviceId],
      );
      doubleCredits += Number(n) - Number(keys);
      expect(Number(keys)).to.equal(credits.get(a.serviceId));
      if ((await accounts.balance(a.serviceId)) !== expected.get(a.serviceId)) wrongBalances++;
    }
    console.log(
      `      [figure] seed ${seed}: ${topUps} payment hooks × 3 parallel deliveries to 2 processes + ` +
        `${debitsPerAccount * list.length} concurrent debits + 20 collections (${topUps * 3 + debitsPerAccount * list.length + 20} requests, 48 jobs in flight, ${elapsed} ms): ` +
        `double credits ${doubleCredits}, balances off the serial result ${wrongBalances} of ${list.length}`,
    );
    expect(doubleCredits).to.equal(0);
    for (const a of list) expect(await accounts.balance(a.serviceId)).to.equal(expected.get(a.serviceId));
  });
});
