import { expect } from 'chai';
import { startStack, type Stack } from '../helpers/stack';
import { RouterAdmin } from '../helpers/router-admin';
import { runCli } from '../helpers/cli';
import { codeOf } from '../helpers/test-server';
import { settingIndex } from '../../src/product/product-settings';
import type { SimulatedRouter } from '../simulator/simulated-router';
import { Accounts, GB, expectNoErrors } from './fault-fixtures';

const ACCOUNT = `query($s: Int!) { vpnAccount(serviceId: $s) { status statusReason routerProblem } }`;
const RECONCILE = `mutation { reconcile { actions { serviceId kind detail } } }`;
const ADJUST = `mutation($i: TopUpTrafficInput!) { topUpTraffic(input: $i) { balanceAfterBytes } }`;

/**
 * Issue "billing correctness", class 4: cutting a customer off never depends on product settings.
 * A product change to another comment prefix, a prefix edited in WHMCS, a PPP profile renamed or
 * deleted on the router: the used-up or suspended customer is still cut off (the disable sends only
 * the secret's id), what could not be applied is reported (account, reconcile, doctor) and retried,
 * and a paying customer is never cut off by it either.
 */
describe('faults: enforcement survives product changes, edited prefixes and profiles changed on the router', function () {
  this.timeout(120_000);
  let stack: Stack;
  let sim: SimulatedRouter;
  let serverId: number;
  let admin: RouterAdmin;
  let client: number;
  let next = 79_000;

  const call = (query: string, variables: Record<string, unknown> = {}) =>
    new Accounts(stack, client, 0, 0).call(query, variables);
  const account = async (s: number) => (await call(ACCOUNT, { s })).data!.vpnAccount;
  const create = async (productId: number, username: string) => {
    const accounts = new Accounts(stack, client, productId, next);
    next += 10;
    return accounts.create(serverId, username);
  };
  const useUp = (s: number, key: string) =>
    call(ADJUST, {
      i: {
        serviceId: s,
        bytes: -1000 * GB,
        kind: 'ADJUSTMENT',
        idempotencyKey: key,
        description: 'test: used up',
      },
    });
  const setProductSetting = (productId: number, key: string, value: string) =>
    stack.db.query(`UPDATE tblproducts SET configoption${settingIndex(key)} = ? WHERE id = ?`, [
      value,
      productId,
    ]);

  before(async () => {
    stack = await startStack();
    ({ sim, serverId } = await stack.addRouter({
      assignedips: Array.from({ length: 20 }, (_, i) => `10.79.0.${i + 2}`),
    }));
    admin = new RouterAdmin(sim);
    await admin.run(['/ppp/profile/add', '=name=gold']);
    await admin.run(['/ppp/profile/add', '=name=silver']);
    client = await stack.whmcs.client();
  });
  after(async () => {
    await admin?.close();
    await stack?.stop();
  });

  it('Change Package to a product with another prefix re-labels our objects and still cuts the account off', async () => {
    const a = await stack.whmcs.product({ settings: { commentPrefix: 'AAA', trafficMonthlyGb: '10' } });
    const b = await stack.whmcs.product({
      settings: { commentPrefix: 'BBB', trafficMonthlyGb: '10', profile: 'silver', downloadMbps: '20' },
    });
    const acc = await create(a, 'pfx1');
    sim.connect('pfx1');
    const r = await call(
      `mutation($s: Int!, $p: Int!) { changeVpnPackage(serviceId: $s, productId: $p) { status } }`,
      {
        s: acc.serviceId,
        p: b,
      },
    );
    expectNoErrors(r);
    const secret = sim.state.findSecret('pfx1')!;
    const queue = sim.state.findQueue(`vpn-${acc.serviceId}`)!;
    expect({ comment: secret.comment, profile: secret.profile }).to.deep.equal({
      comment: `BBB${acc.serviceId}`,
      profile: 'silver',
    });
    expect(queue.comment).to.equal(`BBB${acc.serviceId}`);
    expect(queue.maxLimit[1]).to.equal(20_000_000n);
    expectNoErrors(await useUp(acc.serviceId, 'pfx1-out'));
    expect((await account(acc.serviceId)).status).to.equal('LIMITED');
    expect(sim.state.findSecret('pfx1')!.disabled).to.equal(true);
    expect(sim.state.findActive('pfx1')).to.equal(undefined);
  });

  it('a prefix edited in WHMCS: suspend still cuts off; reconcile re-labels secret and queue and says so', async () => {
    const p = await stack.whmcs.product({ settings: { commentPrefix: 'OLD', trafficMonthlyGb: '10' } });
    const acc = await create(p, 'pfx2');
    sim.connect('pfx2');
    await setProductSetting(p, 'commentPrefix', 'NEW');
    const s = await call(`mutation($s: Int!) { suspendVpnAccount(serviceId: $s) { status } }`, {
      s: acc.serviceId,
    });
    expect(s.data?.suspendVpnAccount.status, JSON.stringify(s.errors)).to.equal('SUSPENDED');
    expect(sim.state.findSecret('pfx2')!.disabled).to.equal(true);
    expect(sim.state.findActive('pfx2')).to.equal(undefined);
    // The suspend already re-labelled them; an edit while nothing runs reaches them by reconcile.
    await setProductSetting(p, 'commentPrefix', 'NEWER');
    const report = await call(RECONCILE);
    expectNoErrors(report);
    const mine = report.data!.reconcile.actions.filter(
      (x: { serviceId: number }) => x.serviceId === acc.serviceId,
    );
    expect(mine.map((x: { kind: string }) => x.kind)).to.include.members(['SECRET_UPDATED', 'QUEUE_UPDATED']);
    expect(mine.map((x: { detail: string }) => x.detail).join(' ')).to.match(/comment NEW\d+ → NEWER\d+/);
    expect(sim.state.findSecret('pfx2')!.comment).to.equal(`NEWER${acc.serviceId}`);
    expect(sim.state.findQueue(`vpn-${acc.serviceId}`)!.comment).to.equal(`NEWER${acc.serviceId}`);
  });

  it('product settings edited in WHMCS (profile, service, speed) reach existing accounts by the next reconcile', async () => {
    const p = await stack.whmcs.product({
      settings: { trafficMonthlyGb: '10', downloadMbps: '5', uploadMbps: '1' },
    });
    const acc = await create(p, 'edit1');
    await setProductSetting(p, 'profile', 'gold');
    await setProductSetting(p, 'service', 'sstp');
    await setProductSetting(p, 'downloadMbps', '50');
    const report = await call(RECONCILE);
    const details = report
      .data!.reconcile.actions.filter((x: { serviceId: number }) => x.serviceId === acc.serviceId)
      .map((x: { detail: string }) => x.detail)
      .join(' | ');
    expect(details)
      .to.match(/profile default → gold/)
      .and.match(/service any → sstp/)
      .and.match(/max-limit/);
    const secret = sim.state.findSecret('edit1')!;
    expect({ profile: secret.profile, service: secret.service }).to.deep.equal({
      profile: 'gold',
      service: 'sstp',
    });
    expect(sim.state.findQueue(`vpn-${acc.serviceId}`)!.maxLimit).to.deep.equal([1_000_000n, 50_000_000n]);
  });

  for (const change of ['renamed', 'deleted'] as const) {
    it(`a PPP profile ${change} on the router: the used-up customer is cut off, the problem reported and retried`, async () => {
      const name = `bronze-${change}`;
      await admin.run(['/ppp/profile/add', `=name=${name}`]);
      // Renamed: the product names the profile the secret had; deleted: the product is switched to
      // a profile that the admin then removes from the router.
      const p = await stack.whmcs.product({
        settings: { trafficMonthlyGb: '10', profile: change === 'renamed' ? name : 'default' },
      });
      const user = `prof-${change}`;
      const acc = await create(p, user);
      sim.connect(user);
      const id = await admin.idOf('/ppp/profile', name);
      if (change === 'renamed') await admin.run(['/ppp/profile/set', `=.id=${id}`, `=name=${name}-x`]);
      else {
        await admin.run(['/ppp/profile/remove', `=.id=${id}`]);
        await setProductSetting(p, 'profile', name);
      }
      await setProductSetting(p, 'service', 'l2tp');
      expectNoErrors(await useUp(acc.serviceId, `${user}-out`));
      const limited = await account(acc.serviceId);
      expect(limited.status).to.equal('LIMITED');
      expect(limited.routerProblem).to.match(new RegExp(`profile|${name}`));
      // The other field of the same update went through on its own.
      expect(sim.state.findSecret(user)!.service).to.equal('l2tp');
      expect(sim.state.findSecret(user)!.disabled).to.equal(true);
      expect(sim.state.findActive(user)).to.equal(undefined);
      const report = await call(RECONCILE);
      const kinds = report
        .data!.reconcile.actions.filter((x: { serviceId: number }) => x.serviceId === acc.serviceId)
        .map((x: { kind: string }) => x.kind);
      expect(kinds).to.include('APPLY_FAILED');
      // A paying customer is not cut off by it either: a top-up enables the secret again.
      expectNoErrors(
        await call(ADJUST, {
          i: { serviceId: acc.serviceId, bytes: 2000 * GB, kind: 'ADDON', idempotencyKey: `${user}-back` },
        }),
      );
      expect((await account(acc.serviceId)).status).to.equal('ACTIVE');
      expect(sim.state.findSecret(user)!.disabled).to.equal(false);
      // doctor names it; once the profile exists again, reconcile applies it and the problem clears.
      const doc = await runCli(['doctor', '--whmcs-time-zone', 'UTC'], stack.env);
      expect(doc.stdout).to.match(new RegExp(`service ${acc.serviceId}.*did not take`));
      await admin.run(['/ppp/profile/add', `=name=${name}`]);
      await call(RECONCILE);
      expect((await account(acc.serviceId)).routerProblem).to.equal(null);
      expect(sim.state.findSecret(user)!.service).to.equal('l2tp');
    });
  }

  it('suspend of an account whose secret was deleted by hand while online still ends the session', async () => {
    const p = await stack.whmcs.product({ settings: { trafficMonthlyGb: '10' } });
    const acc = await create(p, 'gone1');
    sim.connect('gone1');
    await admin.run(['/ppp/secret/remove', `=.id=${await admin.idOf('/ppp/secret', 'gone1')}`]);
    const s = await call(`mutation($s: Int!) { suspendVpnAccount(serviceId: $s) { status } }`, {
      s: acc.serviceId,
    });
    expect(s.data?.suspendVpnAccount.status, JSON.stringify(s.errors)).to.equal('SUSPENDED');
    expect(sim.state.findActive('gone1')).to.equal(undefined);
    expect(sim.state.findSecret('gone1')!.disabled).to.equal(true);
  });

  it('a foreign secret with the account’s name is left alone and the action refused with CONFLICT', async () => {
    const p = await stack.whmcs.product({ settings: { trafficMonthlyGb: '10' } });
    const acc = await create(p, 'mine1');
    const id = await admin.idOf('/ppp/secret', 'mine1');
    await admin.run(['/ppp/secret/remove', `=.id=${id}`]);
    await admin.run(['/ppp/secret/add', '=name=mine1', '=password=x', '=comment=someone-else']);
    const s = await call(`mutation($s: Int!) { suspendVpnAccount(serviceId: $s) { status } }`, {
      s: acc.serviceId,
    });
    expect(codeOf(s)).to.equal('CONFLICT');
    expect(sim.state.findSecret('mine1')!.comment).to.equal('someone-else');
    expect(sim.state.findSecret('mine1')!.disabled).to.equal(false);
  });
});
