import { expect } from 'chai';
import { startStack, type Stack } from '../helpers/stack';
import { codeOf, gql } from '../helpers/test-server';
import type { SimulatedRouter } from '../simulator/simulated-router';

const CREATE = `mutation($input: CreateVpnAccountInput!) { createVpnAccount(input: $input) { status } }`;
const FIRST_PASSWORD = 'First-Pa55word!';
const NEW_PASSWORD = 'Second-Pa55word?';

describe('every lifecycle mutation records an event (account, action, actor, result)', function () {
  let stack: Stack;
  let sim: SimulatedRouter;
  let serverId: number;
  let productId: number;
  let otherProductId: number;
  let client: number;

  const call = (query: string, variables: Record<string, unknown> = {}) =>
    gql(stack.server.url, query, variables, stack.admin);

  before(async () => {
    stack = await startStack();
    ({ sim, serverId } = await stack.addRouter({ assignedips: ['10.60.0.2', '10.60.0.3'] }));
    client = await stack.whmcs.client();
    productId = await stack.whmcs.product({
      settings: { commentPrefix: 'EV', downloadMbps: '10', uploadMbps: '2', trafficMonthlyGb: '5' },
    });
    otherProductId = await stack.whmcs.product({
      settings: { commentPrefix: 'EV', downloadMbps: '50', uploadMbps: '10', trafficMonthlyGb: '20' },
    });
  });
  after(() => stack?.stop());

  it('suspend, unsuspend, changePackage, changePassword, reset and terminate each leave one row; no password anywhere', async () => {
    const serviceId = await stack.whmcs.service({
      id: 7001,
      userid: client,
      packageid: productId,
      server: serverId,
    });
    const ok = async (query: string, variables: Record<string, unknown>) => {
      const r = await call(query, variables);
      expect(r.errors, JSON.stringify(r.errors)).to.equal(undefined);
    };
    await ok(CREATE, {
      input: {
        serviceId,
        serverId,
        productId,
        username: 'events1',
        password: FIRST_PASSWORD,
        billingCycle: 'Monthly',
      },
    });
    const s = serviceId;
    await ok(`mutation($s: Int!) { suspendVpnAccount(serviceId: $s, reason: "Overdue") { status } }`, { s });
    await ok(`mutation($s: Int!) { unsuspendVpnAccount(serviceId: $s) { status } }`, { s });
    await ok(`mutation($s: Int!, $p: Int!) { changeVpnPackage(serviceId: $s, productId: $p) { status } }`, {
      s,
      p: otherProductId,
    });
    // A password change the router refuses is recorded as FAILED, still without the password.
    sim.faults.failOn.push({ path: '/ppp/secret/set', kind: 'trap', message: 'failure: simulated' });
    const refused = await call(
      `mutation($s: Int!, $pw: String!) { changeVpnPassword(serviceId: $s, password: $pw) { status } }`,
      { s, pw: NEW_PASSWORD },
    );
    expect(codeOf(refused)).to.equal('ROUTER_ERROR');
    await ok(
      `mutation($s: Int!, $pw: String!) { changeVpnPassword(serviceId: $s, password: $pw) { status } }`,
      {
        s,
        pw: NEW_PASSWORD,
      },
    );
    expect(sim.state.findSecret('events1')!.password).to.equal(NEW_PASSWORD);
    await ok(`mutation($s: Int!) { resetVpnConnection(serviceId: $s) { status } }`, { s });
    await ok(`mutation($s: Int!) { terminateVpnAccount(serviceId: $s) { status } }`, { s });

    const [account] = await stack.db.query('SELECT id FROM mod_mikrotikvpn_accounts WHERE service_id = ?', [
      s,
    ]);
    const rows: { action: string; actor: string; result: string; account_id: number }[] =
      await stack.db.query(
        'SELECT action, actor, result, account_id FROM mod_mikrotikvpn_events WHERE service_id = ? ORDER BY id',
        [s],
      );
    expect(rows.map((r) => `${r.action} ${r.result}`)).to.deep.equal([
      'account.create OK',
      'account.suspend OK',
      'account.unsuspend OK',
      'account.change-package OK',
      'account.change-password FAILED',
      'account.change-password OK',
      'account.reset-connection OK',
      'account.terminate OK',
    ]);
    for (const row of rows) {
      // The API key the test calls with is named "bridge".
      expect(row.actor).to.equal('apikey:bridge');
      expect(Number(row.account_id)).to.equal(Number(account.id));
    }
    // No password in any column of any event, of this service or any other.
    const everything = JSON.stringify(await stack.db.query('SELECT * FROM mod_mikrotikvpn_events'));
    expect(everything).to.not.include(FIRST_PASSWORD);
    expect(everything).to.not.include(NEW_PASSWORD);
  });
});
