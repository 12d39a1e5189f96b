import { expect } from 'chai';
import mysql from 'mysql2/promise';
import { startStack, type Stack } from '../helpers/stack';
import { gql } from '../helpers/test-server';
import { testServerConfig } from '../helpers/test-db';

describe('collector: routers collected in parallel never wait on each other', function () {
  let stack: Stack;
  const routerIds: string[] = [];
  let other: mysql.Connection;

  before(async () => {
    stack = await startStack();
    const client = await stack.whmcs.client();
    const productId = await stack.whmcs.product({ settings: { trafficMonthlyGb: '100' } });
    for (let r = 0; r < 2; r++) {
      const { sim, serverId, routerId } = await stack.addRouter({
        assignedips: Array.from({ length: 10 }, (_, i) => `10.7${r}.0.${i + 2}`),
      });
      routerIds.push(routerId);
      for (let k = 0; k < 5; k++) {
        const serviceId = await stack.whmcs.service({
          userid: client,
          packageid: productId,
          server: serverId,
        });
        const created = await gql(
          stack.server.url,
          `mutation($i: CreateVpnAccountInput!) { createVpnAccount(input: $i) { address } }`,
          {
            i: {
              serviceId,
              serverId,
              productId,
              username: `par${r}${k}`,
              password: 'Passw0rd!',
              billingCycle: 'Monthly',
            },
          },
          stack.admin,
        );
        if (created.errors) throw new Error(JSON.stringify(created.errors));
        sim.pushTraffic(created.data!.createVpnAccount.address, 1_000_000, 100_000);
      }
    }
    other = await mysql.createConnection({ ...testServerConfig(), database: stack.tdb.config.database });
  });

  after(async () => {
    await other?.end();
    await stack?.stop();
  });

  // The collection's debit once read other routers' samples, and the hourly prune (which runs on a
  // process's first collection) waited on any uncommitted batch for InnoDB's 50 s lock wait.
  it("collects one router, and prunes, while another router's batch is still uncommitted", async () => {
    // Another collector holds an open batch for router 2's accounts (its rows are locked until it commits).
    await other.query('SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED');
    await other.query('START TRANSACTION');
    await other.query(
      `INSERT INTO mod_mikrotikvpn_traffic_samples (account_id, batch_id, at, download_bytes, upload_bytes, balance_after_bytes)
       SELECT id, 1, NOW(3), 1, 1, 0 FROM mod_mikrotikvpn_accounts WHERE router_id = ?`,
      [Number(routerIds[1])],
    );
    try {
      const started = Date.now();
      const r = await gql(
        stack.server.url,
        `mutation($r: ID!) { collectTraffic(routerId: $r) { routers { ok samples errorCode } } }`,
        { r: routerIds[0] },
        stack.admin,
      );
      expect(r.errors).to.equal(undefined);
      expect(r.data!.collectTraffic.routers).to.deep.equal([{ ok: true, samples: 5, errorCode: null }]);
      // InnoDB's lock wait is 50 s: a collection that waited on the other batch would take that long.
      expect(Date.now() - started).to.be.below(20_000);
    } finally {
      await other.query('ROLLBACK');
    }
  });
});
