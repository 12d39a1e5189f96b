import { expect } from 'chai';
import mysql from 'mysql2/promise';
import { startStack, type Stack } from '../helpers/stack';
import { gql } from '../helpers/test-server';
import { CREATE_VPN_ACCOUNT, createAccountVariables } from '../helpers/accounts';
import type { SimulatedRouter } from '../simulator/simulated-router';

/**
 * A termination whose last transaction InnoDB picks as a deadlock victim (server process, MariaDB,
 * simulated router). Another transaction on the same database holds the router's row, as a creation
 * does while it takes an address, and then asks for the account's row while the termination waits
 * for the router's: a real deadlock, built on purpose. The termination's work is already done on the
 * router; its caller (WHMCS's Terminate) must get the terminated account, not an internal error.
 */
describe('faults: a lifecycle transaction chosen as a deadlock victim is run again', function () {
  this.timeout(60_000);
  let stack: Stack;
  let sim: SimulatedRouter;
  let other: mysql.Connection;

  before(async () => {
    stack = await startStack();
    let serverId: number;
    ({ sim, serverId } = await stack.addRouter({ assignedips: ['10.97.0.2', '10.97.0.3'] }));
    const client = await stack.whmcs.client();
    const productId = await stack.whmcs.product({ settings: { trafficMonthlyGb: '10' } });
    const serviceId = await stack.whmcs.service({ userid: client, packageid: productId, server: serverId });
    const created = await gql(
      stack.server.url,
      CREATE_VPN_ACCOUNT,
      createAccountVariables({ serviceId, serverId, productId, username: 'victim' }),
      stack.admin,
    );
    expect(created.errors).to.equal(undefined);
    other = await mysql.createConnection(stack.tdb.url);
    // A scratch table: the other transaction writes to it, so that InnoDB, which rolls back the
    // transaction that did less, picks the termination as its victim.
    await other.query('CREATE TABLE scratch_rows (id INT PRIMARY KEY, v VARCHAR(200))');
  });
  after(async () => {
    await other?.end();
    await stack?.stop();
  });

  it('Terminate answers with the terminated account, and nothing is left on the router', async () => {
    const [[account]] = (await other.query(
      "SELECT id, router_id, service_id FROM mod_mikrotikvpn_accounts WHERE username = 'victim'",
    )) as unknown as [{ id: number; router_id: number; service_id: number }[]];

    // The router answers slowly, so that the lock is taken between the termination's final read of
    // the queue (its own transaction, which writes the router's row too) and its last transaction.
    sim.faults.latencyMs = 300;
    sim.clearCommandLog();
    const terminated = gql(
      stack.server.url,
      `mutation($s: Int!) { terminateVpnAccount(serviceId: $s) { status } }`,
      { s: account.service_id },
      stack.admin,
    );
    const removing = Date.now() + 20_000;
    while (!sim.commandLog.some((c) => c.path === '/ppp/secret/remove')) {
      if (Date.now() > removing) throw new Error('the termination never removed the secret');
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    await other.query('START TRANSACTION');
    await other.query(
      'INSERT INTO scratch_rows VALUES ' +
        Array.from({ length: 500 }, (_, i) => `(${i}, REPEAT('x', 200))`).join(','),
    );
    await other.query('SELECT id FROM mod_mikrotikvpn_routers WHERE id = ? FOR UPDATE', [account.router_id]);
    sim.faults.latencyMs = 0;
    // Wait until the termination's last transaction waits for the router's row (the foreign key check
    // of its status change), holding the account's row.
    const until = Date.now() + 20_000;
    for (;;) {
      const [waiting] = (await other.query(
        `SELECT COUNT(*) AS n FROM information_schema.INNODB_TRX
          WHERE trx_state = 'LOCK WAIT' AND trx_query LIKE '%UPDATE%mod_mikrotikvpn_accounts%TERMINATED%'`,
      )) as unknown as [{ n: number }[]];
      if (Number(waiting[0].n) > 0) break;
      if (Date.now() > until) throw new Error('the termination never waited for the router row');
      // INNODB_TRX is a cache that InnoDB refreshes only after 0.1 s without a reader.
      await new Promise((resolve) => setTimeout(resolve, 150));
    }
    // Now the other transaction asks for the account's row: a cycle, and InnoDB breaks it.
    await other.query('SELECT id FROM mod_mikrotikvpn_accounts WHERE id = ? FOR UPDATE', [account.id]);
    const [deadlock] = (await other.query('SHOW ENGINE INNODB STATUS')) as unknown as [{ Status: string }[]];
    expect(deadlock[0].Status).to.match(/LATEST DETECTED DEADLOCK[\s\S]*TERMINATED/);
    await other.query('ROLLBACK');

    const answer = await terminated;
    expect(answer.errors, JSON.stringify(answer.errors)).to.equal(undefined);
    expect(answer.data!.terminateVpnAccount.status).to.equal('TERMINATED');
    const [[row]] = (await other.query(
      'SELECT status, pending_action FROM mod_mikrotikvpn_accounts WHERE id = ?',
      [account.id],
    )) as unknown as [{ status: string; pending_action: string | null }[]];
    expect(row).to.deep.equal({ status: 'TERMINATED', pending_action: null });
    expect([...sim.state.secrets.values()].map((s) => s.name)).to.not.include('victim');
    // One termination event, not two (the retried transaction's work counts once).
    const [events] = (await other.query(
      "SELECT COUNT(*) AS n FROM mod_mikrotikvpn_outbox WHERE type = 'account.terminated' AND account_id = ?",
      [account.id],
    )) as unknown as [{ n: number }[]];
    expect(Number(events[0].n)).to.equal(1);
  });
});
