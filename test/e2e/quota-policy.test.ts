import { expect } from 'chai';
import { startStack, type Stack } from '../helpers/stack';
import { codeOf, gql } from '../helpers/test-server';
import { createApiKey } from '../helpers/cli';
import { CREATE_VPN_ACCOUNT, createAccountVariables } from '../helpers/accounts';
import type { SimulatedRouter } from '../simulator/simulated-router';

const GB = 1_000_000_000;
const MBIT = 1_000_000n;
const COLLECT = `mutation { collectTraffic { limited routers { ok } } }`;
const ACCOUNT = `query($s: Int!) { vpnAccount(serviceId: $s) { status statusReason traffic { balanceBytes } } }`;
const POLICY = `query($p: Int!) { product(id: $p) { policy { onExhausted throttle { downloadBitsPerSecond uploadBitsPerSecond } throttledTemplate overageCeilingBytes } } }`;
const SET_POLICY = `mutation($i: ProductPolicyInput!) { setProductPolicy(input: $i) { id policy { onExhausted throttle { downloadBitsPerSecond uploadBitsPerSecond } throttledTemplate } } }`;
const TOPUP = `mutation($i: TopUpTrafficInput!) { topUpTraffic(input: $i) { balanceAfterBytes } }`;

describe('quota policy "slow down" (throttle) end to end, on the simulated router', function () {
  let stack: Stack;
  let sim: SimulatedRouter;
  let serverId: number;
  let productId: number;
  let client: number;
  let next = 8100;

  const call = (query: string, variables: Record<string, unknown> = {}) =>
    gql(stack.server.url, query, variables, stack.admin);
  const ok = async (query: string, variables: Record<string, unknown> = {}) => {
    const r = await call(query, variables);
    expect(r.errors, JSON.stringify(r.errors)).to.equal(undefined);
    return r.data!;
  };
  const account = async (s: number) => (await ok(ACCOUNT, { s })).vpnAccount;
  const collect = async () => (await ok(COLLECT)).collectTraffic;
  /** The queue's max-limit as the router holds it, in the customer's perspective. */
  const maxLimit = (serviceId: number) => {
    const [upload, download] = sim.state.findQueue(`vpn-${serviceId}`)!.maxLimit;
    return { download, upload };
  };
  const productSpeed = { download: 10n * MBIT, upload: 5n * MBIT };
  const throttleSpeed = { download: 1n * MBIT, upload: 500_000n };
  const throttle = {
    productId: 0,
    onExhausted: 'throttle',
    throttleDownloadMbps: '1',
    throttleUploadMbps: '0.5',
  };
  const newAccount = async (username: string) => {
    const serviceId = await stack.whmcs.service({
      id: ++next,
      userid: client,
      packageid: productId,
      server: serverId,
    });
    await ok(CREATE_VPN_ACCOUNT, createAccountVariables({ serviceId, serverId, productId, username }));
    const address = (
      await stack.db.query('SELECT address FROM mod_mikrotikvpn_accounts WHERE service_id = ?', [serviceId])
    )[0].address as string;
    return { serviceId, address };
  };
  /** An account of the throttling product, online, whose 1 GB allowance the next collection uses up. */
  const usedUp = async (username: string) => {
    const a = await newAccount(username);
    sim.connect(username);
    await collect();
    sim.pushTraffic(a.address, 1.2 * GB, 0.3 * GB);
    const report = await collect();
    return { ...a, report };
  };

  before(async () => {
    stack = await startStack();
    ({ sim, serverId } = await stack.addRouter({
      assignedips: Array.from({ length: 20 }, (_, i) => `10.60.0.${i + 2}`),
    }));
    sim.state.bootTime = Date.now() - 3_600_000;
    client = await stack.whmcs.client({ firstname: 'Ada', lastname: 'Lovelace' });
    productId = await stack.whmcs.product({
      name: 'VPN 1 GB slow after',
      settings: {
        trafficMonthlyGb: '1',
        downloadMbps: '10',
        uploadMbps: '5',
        lowTrafficThresholdGb: '0',
        limitedTemplate: 'VPN out',
      },
    });
    throttle.productId = productId;
  });
  after(() => stack?.stop());

  it('a product without a policy cuts off (the default), and bad input is refused naming the setting, storing nothing', async () => {
    expect((await ok(POLICY, { p: productId })).product.policy).to.deep.equal({
      onExhausted: 'cutoff',
      throttle: { downloadBitsPerSecond: 0, uploadBitsPerSecond: 0 },
      throttledTemplate: 'Mikrotik VPN Traffic Throttled',
      overageCeilingBytes: null,
    });
    const above = await call(SET_POLICY, { i: { ...throttle, throttleDownloadMbps: '20' } });
    expect(codeOf(above)).to.equal('VALIDATION');
    expect(above.errors![0].extensions!.setting).to.equal('throttleDownloadMbps');
    expect(above.errors![0].message).to.match(
      /Throttle download speed.*above the product's speed \(10 Mbit\/s\)/,
    );
    const upload = await call(SET_POLICY, { i: { ...throttle, throttleUploadMbps: '5.5' } });
    expect(upload.errors![0].extensions!.setting).to.equal('throttleUploadMbps');
    const zero = await call(SET_POLICY, { i: { ...throttle, throttleUploadMbps: '0' } });
    expect(zero.errors![0].extensions!.setting).to.equal('throttleUploadMbps');
    const choice = await call(SET_POLICY, { i: { ...throttle, onExhausted: 'slow' } });
    expect(codeOf(choice)).to.equal('VALIDATION');
    expect(choice.errors![0].extensions!.setting).to.equal('onExhausted');
    const comma = await call(SET_POLICY, { i: { ...throttle, throttleDownloadMbps: '0,5' } });
    expect(comma.errors![0].extensions!.setting).to.equal('throttleDownloadMbps');
    expect(await stack.db.query('SELECT * FROM mod_mikrotikvpn_product_policies')).to.deep.equal([]);
    // Only admin keys set policies.
    const read = await createApiKey(stack.tdb.url, 'reader', 'read');
    expect(codeOf(await gql(stack.server.url, SET_POLICY, { i: throttle }, read))).to.equal('FORBIDDEN');
    expect(await stack.db.query('SELECT * FROM mod_mikrotikvpn_product_policies')).to.deep.equal([]);
  });

  it('stores the policy (twice is the same) and the product shows it', async () => {
    for (let i = 0; i < 2; i++) {
      const set = (await ok(SET_POLICY, { i: { ...throttle, throttledTemplate: 'VPN slow' } }))
        .setProductPolicy;
      expect(set.policy).to.deep.equal({
        onExhausted: 'throttle',
        throttle: { downloadBitsPerSecond: 1_000_000, uploadBitsPerSecond: 500_000 },
        throttledTemplate: 'VPN slow',
      });
    }
    expect(await stack.db.query('SELECT COUNT(*) AS n FROM mod_mikrotikvpn_product_policies')).to.deep.equal([
      { n: '1' },
    ]);
  });

  it('throttles at zero in the collection that uses the balance up: online, queue max-limit at the throttle speed', async () => {
    const a = await newAccount('slow1');
    sim.connect('slow1');
    await collect();
    expect(maxLimit(a.serviceId)).to.deep.equal(productSpeed);
    sim.pushTraffic(a.address, 0.9 * GB, 0.1 * GB - 1); // one byte left: not yet
    await collect();
    expect((await account(a.serviceId)).status).to.equal('ACTIVE');
    sim.pushTraffic(a.address, 2, 0); // one byte beyond
    const report = await collect();
    expect(report.limited).to.deep.equal([a.serviceId]);
    const throttled = await account(a.serviceId);
    expect(throttled.status).to.equal('THROTTLED');
    expect(throttled.traffic.balanceBytes).to.equal(-1);
    expect(throttled.statusReason).to.match(/throttle speed/);
    expect(maxLimit(a.serviceId)).to.deep.equal(throttleSpeed);
    // The RouterOS queue writes upload/download: 500k up, 1M down.
    expect(sim.state.findQueue(`vpn-${a.serviceId}`)!.maxLimit).to.deep.equal([500_000n, 1_000_000n]);
    expect(sim.state.findSecret('slow1')!.disabled).to.equal(false);
    expect(sim.state.findActive('slow1')).to.not.equal(undefined);
    // Still metered byte for byte while slowed down; no second notice, no second event.
    sim.pushTraffic(a.address, 1000, 7);
    await collect();
    expect((await account(a.serviceId)).traffic.balanceBytes).to.equal(-1008);
    const notices = await stack.db.query(
      'SELECT kind, template FROM mod_mikrotikvpn_notifications WHERE service_id = ?',
      [a.serviceId],
    );
    expect(notices).to.deep.equal([{ kind: 'THROTTLED', template: 'VPN slow' }]);
    const events = await stack.db.query(
      "SELECT type, payload FROM mod_mikrotikvpn_outbox WHERE service_id = ? AND type LIKE 'account.%' ORDER BY id",
      [a.serviceId],
    );
    expect(events.map((e: { type: string }) => e.type)).to.deep.equal([
      'account.created',
      'account.throttled',
    ]);
    expect(JSON.parse(events[1].payload)).to.deep.include({ status: 'THROTTLED', previousStatus: 'ACTIVE' });
  });

  it('a top-up that brings the balance above zero restores the product speed at once', async () => {
    const a = await usedUp('slow2');
    expect((await account(a.serviceId)).status).to.equal('THROTTLED');
    // Not above zero yet: stays throttled.
    await ok(TOPUP, { i: { serviceId: a.serviceId, bytes: 0.2 * GB, idempotencyKey: 'slow2-a' } });
    expect((await account(a.serviceId)).status).to.equal('THROTTLED');
    expect(maxLimit(a.serviceId)).to.deep.equal(throttleSpeed);
    await ok(TOPUP, { i: { serviceId: a.serviceId, bytes: 5 * GB, idempotencyKey: 'slow2-b' } });
    expect((await account(a.serviceId)).status).to.equal('ACTIVE');
    expect(maxLimit(a.serviceId)).to.deep.equal(productSpeed);
    expect(sim.state.findActive('slow2')).to.not.equal(undefined);
    const types = await stack.db.query(
      "SELECT type FROM mod_mikrotikvpn_outbox WHERE service_id = ? AND type LIKE 'account.%' ORDER BY id",
      [a.serviceId],
    );
    expect(types.map((e: { type: string }) => e.type)).to.deep.equal([
      'account.created',
      'account.throttled',
      'account.restored',
    ]);
  });

  it('suspend cuts a throttled account off; unsuspend returns it to throttled while still used up', async () => {
    const a = await usedUp('slow3');
    const suspended = await ok(
      `mutation($s: Int!) { suspendVpnAccount(serviceId: $s, reason: "unpaid") { status } }`,
      { s: a.serviceId },
    );
    expect(suspended.suspendVpnAccount.status).to.equal('SUSPENDED');
    expect(sim.state.findSecret('slow3')!.disabled).to.equal(true);
    expect(sim.state.findActive('slow3')).to.equal(undefined);
    const back = await ok(`mutation($s: Int!) { unsuspendVpnAccount(serviceId: $s) { status } }`, {
      s: a.serviceId,
    });
    expect(back.unsuspendVpnAccount.status).to.equal('THROTTLED');
    expect(sim.state.findSecret('slow3')!.disabled).to.equal(false);
    expect(maxLimit(a.serviceId)).to.deep.equal(throttleSpeed);
  });

  it('a policy change applies at the next collection: throttled accounts are cut off, and back', async () => {
    const a = await usedUp('slow4');
    expect((await account(a.serviceId)).status).to.equal('THROTTLED');
    await ok(SET_POLICY, { i: { productId, onExhausted: 'cutoff' } });
    // Nothing happens until the collection.
    expect((await account(a.serviceId)).status).to.equal('THROTTLED');
    const report = await collect();
    expect(report.limited).to.include(a.serviceId);
    expect((await account(a.serviceId)).status).to.equal('LIMITED');
    expect(sim.state.findSecret('slow4')!.disabled).to.equal(true);
    expect(sim.state.findActive('slow4')).to.equal(undefined);
    expect(maxLimit(a.serviceId)).to.deep.equal(productSpeed);

    await ok(SET_POLICY, { i: { ...throttle, throttledTemplate: 'VPN slow' } });
    await collect();
    expect((await account(a.serviceId)).status).to.equal('THROTTLED');
    expect(sim.state.findSecret('slow4')!.disabled).to.equal(false);
    expect(maxLimit(a.serviceId)).to.deep.equal(throttleSpeed);
    // A new throttle speed of an account that stays throttled: the next collection writes it on
    // the queue, without reporting the account as newly limited or announcing it again.
    await ok(SET_POLICY, { i: { ...throttle, throttleDownloadMbps: '2' } });
    expect(maxLimit(a.serviceId), 'nothing before the collection').to.deep.equal(throttleSpeed);
    const again = await collect();
    expect(again.limited).to.not.include(a.serviceId);
    expect(maxLimit(a.serviceId)).to.deep.equal({ download: 2n * MBIT, upload: 500_000n });
    expect((await account(a.serviceId)).status).to.equal('THROTTLED');
    // An admin who raises the throttled queue's limit on the router: set back at the next collection.
    sim.state.findQueue(`vpn-${a.serviceId}`)!.maxLimit = [10n * MBIT, 10n * MBIT];
    await collect();
    expect(maxLimit(a.serviceId)).to.deep.equal({ download: 2n * MBIT, upload: 500_000n });
    const events = await stack.db.query(
      "SELECT type FROM mod_mikrotikvpn_outbox WHERE service_id = ? AND type LIKE 'account.%' ORDER BY id",
      [a.serviceId],
    );
    expect(
      events.map((e: { type: string }) => e.type).filter((t: string) => t === 'account.throttled'),
    ).to.have.length(2);
    // An account at the right speed is left alone: no router change in a plain collection.
    const sets = () => sim.commandsFor('/queue/simple/set').length;
    const setsBefore = sets();
    await collect();
    expect(sets()).to.equal(setsBefore);
  });
});
