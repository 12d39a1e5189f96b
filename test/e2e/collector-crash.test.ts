import { expect } from 'chai';
import mysql from 'mysql2/promise';
import { startStack, type Stack } from '../helpers/stack';
import { gql, startServer, waitForHealthy, type TestServer } from '../helpers/test-server';
import { testServerConfig } from '../helpers/test-db';
import type { SimulatedRouter } from '../simulator/simulated-router';

const GB = 1_000_000_000;
const COLLECT = `mutation { collectTraffic { routers { ok skipped samples } } }`;

describe('collector: crashes and several server processes never lose or double-count a byte', function () {
  let stack: Stack;
  let sim: SimulatedRouter;
  let serverId: number;
  let productId: number;
  let client: number;
  let next = 9000;

  const call = (server: TestServer, query: string, variables: Record<string, unknown> = {}) =>
    gql(server.url, query, variables, stack.admin);
  const balance = async (serviceId: number) =>
    Number(
      (
        await stack.db.query(
          "SELECT balance_bytes FROM mod_mikrotikvpn_accounts WHERE service_id = ? AND status <> 'TERMINATED'",
          [serviceId],
        )
      )[0].balance_bytes,
    );
  const newAccount = async (username: string) => {
    const serviceId = await stack.whmcs.service({
      id: ++next,
      userid: client,
      packageid: productId,
      server: serverId,
    });
    const r = await call(
      stack.server,
      `mutation($i: CreateVpnAccountInput!) { createVpnAccount(input: $i) { address } }`,
      {
        i: { serviceId, serverId, productId, username, password: 'Passw0rd!', billingCycle: 'Monthly' },
      },
    );
    if (r.errors) throw new Error(JSON.stringify(r.errors));
    return { serviceId, address: r.data!.createVpnAccount.address as string };
  };
  const restart = async () => {
    stack.server = await startServer(stack.env);
    await waitForHealthy(stack.server);
  };

  before(async () => {
    stack = await startStack();
    ({ sim, serverId } = await stack.addRouter({
      assignedips: Array.from({ length: 30 }, (_, i) => `10.60.0.${i + 2}`),
    }));
    sim.state.bootTime = Date.now() - 3_600_000;
    client = await stack.whmcs.client();
    productId = await stack.whmcs.product({ settings: { trafficMonthlyGb: '100' } });
  });
  after(() => stack?.stop());

  it('a kill between the router read and the commit writes nothing; the next run counts it once', async () => {
    const a = await newAccount('k1');
    await call(stack.server, COLLECT);
    sim.pushTraffic(a.address, 2 * GB, 1 * GB);

    // Hold the account's row so the collector blocks inside its transaction, after reading the router.
    const blocker = await mysql.createConnection({
      ...testServerConfig(),
      database: stack.tdb.config.database,
    });
    await blocker.query('START TRANSACTION');
    await blocker.query(
      "SELECT id FROM mod_mikrotikvpn_accounts WHERE service_id = ? AND status <> 'TERMINATED' FOR UPDATE",
      [a.serviceId],
    );
    sim.clearCommandLog();
    const inFlight = call(stack.server, COLLECT).catch(() => null);
    for (let i = 0; i < 100 && sim.commandsFor('/queue/simple/print').length === 0; i++)
      await new Promise((r) => setTimeout(r, 20));
    expect(sim.commandsFor('/queue/simple/print'), 'the router was read').to.have.length(1);
    await new Promise((r) => setTimeout(r, 200)); // now waiting on the lock, mid-transaction
    await stack.server.stop('SIGKILL');
    await inFlight;
    await blocker.query('ROLLBACK');
    await blocker.end();

    expect(await balance(a.serviceId)).to.equal(100 * GB);
    const [{ n }] = await stack.db.query(
      'SELECT COUNT(*) AS n FROM mod_mikrotikvpn_traffic_samples s JOIN mod_mikrotikvpn_accounts a ON a.id = s.account_id WHERE a.service_id = ? AND s.download_bytes > 0',
      [a.serviceId],
    );
    expect(Number(n)).to.equal(0);

    await restart();
    const after = await call(stack.server, COLLECT);
    expect(await balance(a.serviceId), JSON.stringify(after)).to.equal(97 * GB);
  });

  it('a kill right after the commit counts nothing twice', async () => {
    const a = await newAccount('k2');
    await call(stack.server, COLLECT);
    sim.pushTraffic(a.address, 5 * GB, 0);
    await call(stack.server, COLLECT);
    await stack.server.stop('SIGKILL');
    await restart();
    await call(stack.server, COLLECT); // nothing new
    sim.pushTraffic(a.address, 1 * GB, 0);
    await call(stack.server, COLLECT);
    expect(await balance(a.serviceId)).to.equal(94 * GB);
  });

  it('two server processes collecting the same router at once debit exactly the traffic pushed', async () => {
    const second = await startServer(stack.env);
    await waitForHealthy(second);
    try {
      const accounts = await Promise.all([newAccount('p1'), newAccount('p2'), newAccount('p3')]);
      await call(stack.server, COLLECT);
      const start = await Promise.all(accounts.map((a) => balance(a.serviceId)));
      sim.faults.latencyMs = 30; // long enough for the runs to overlap
      let pushed = 0;
      let skipped = 0;
      for (let round = 0; round < 8; round++) {
        for (const a of accounts) sim.pushTraffic(a.address, 123_456_789 + round, 987_654 + round);
        pushed += 123_456_789 + round + 987_654 + round;
        const [r1, r2] = await Promise.all([call(stack.server, COLLECT), call(second, COLLECT)]);
        skipped += [r1, r2].filter((r) => r.data!.collectTraffic.routers[0].skipped).length;
      }
      sim.faults.latencyMs = 0;
      await call(second, COLLECT); // whatever a skipped last round left
      const end = await Promise.all(accounts.map((a) => balance(a.serviceId)));
      accounts.forEach((_, i) => expect(start[i] - end[i]).to.equal(pushed));
      expect(skipped, 'the other process stepped aside at least once').to.be.greaterThan(0);
    } finally {
      await second.stop();
    }
  });
});
