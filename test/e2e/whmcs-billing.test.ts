import { expect } from 'chai';
import { startStack, type Stack } from '../helpers/stack';
import { codeOf, gql } from '../helpers/test-server';
import type { SimulatedRouter } from '../simulator/simulated-router';

const GB = 1_000_000_000;
const CREDIT = `mutation($a: Int!, $e: AddonEvent!) { creditHostingAddon(hostingAddonId: $a, event: $e) {
  __typename ... on TrafficTopUp { kind reason bytes invoiceId description balanceAfterBytes } ... on ErrorResult { errorCode message } } }`;
const TERMINATE = `mutation($s: Int!) { terminateVpnService(serviceId: $s) {
  __typename ... on VpnAccount { status } ... on ErrorResult { errorCode message } } }`;

/**
 * The billing rules that lived in the WHMCS module now live in the server: which invoice paid a
 * renewal, what a traffic addon is worth (GB × quantity) and its once-per-payment key, a free user
 * name for a service without one, and "nothing to terminate" as a result the module branches on.
 */
describe('WHMCS billing read by the server: invoices, traffic addons, user names, terminate results', function () {
  let stack: Stack;
  let sim: SimulatedRouter;
  let serverId: number;
  let client: number;
  let product: number;
  let next = 83_000;

  const call = (query: string, variables: Record<string, unknown> = {}) =>
    gql(stack.server.url, query, variables, stack.admin);
  const create = async (username: string | null = null) => {
    const serviceId = await stack.whmcs.service({
      id: ++next,
      userid: client,
      packageid: product,
      server: serverId,
    });
    const r = await call(
      `mutation($i: CreateVpnAccountInput!) { createVpnAccount(input: $i) { username traffic { balanceBytes } } }`,
      {
        i: {
          serviceId,
          serverId,
          productId: product,
          username,
          password: 'Passw0rd!',
          billingCycle: 'Monthly',
        },
      },
    );
    expect(r.errors, JSON.stringify(r.errors)).to.equal(undefined);
    return { serviceId, username: r.data!.createVpnAccount.username as string };
  };

  before(async () => {
    stack = await startStack();
    ({ sim, serverId } = await stack.addRouter({
      assignedips: Array.from({ length: 20 }, (_, i) => `10.83.0.${i + 2}`),
    }));
    client = await stack.whmcs.client();
    product = await stack.whmcs.product({ settings: { trafficMonthlyGb: '10' } });
  });
  after(() => stack?.stop());

  it('a renewal without an invoice id is credited with the service’s latest paid invoice', async () => {
    const a = await create();
    await stack.whmcs.paidInvoice({
      userid: client,
      items: [{ type: 'Hosting', relid: a.serviceId }],
      paidAt: '2026-11-01 09:00:00',
    });
    const latest = await stack.whmcs.paidInvoice({
      userid: client,
      items: [{ type: 'Hosting', relid: a.serviceId }],
      paidAt: '2026-12-01 09:00:00',
    });
    await stack.db.query("UPDATE tblhosting SET nextduedate = '2027-01-01' WHERE id = ?", [a.serviceId]);
    const r = await call(`mutation($s: Int!) { renewVpnAccount(serviceId: $s) { invoiceId bytes } }`, {
      s: a.serviceId,
    });
    expect(r.data!.renewVpnAccount, JSON.stringify(r.errors)).to.deep.equal({
      invoiceId: latest,
      bytes: 10 * GB,
    });
  });

  it('a traffic addon credits GB × quantity once per paying invoice, named by the addon', async () => {
    const a = await create();
    const addon = await stack.whmcs.addon({ name: 'Traffic 25 GB', packages: [product], gb: 25 });
    const held = await stack.whmcs.hostingAddon({
      serviceId: a.serviceId,
      addonId: addon,
      userid: client,
      name: '',
      qty: 3,
    });
    const invoice = await stack.whmcs.paidInvoice({
      userid: client,
      items: [{ type: 'Addon', relid: held }],
    });
    for (const event of ['ACTIVATION', 'ACTIVATION', 'RENEWAL']) {
      // CreateAccount and the AddonActivation hook for one payment, and a late renewal call for it.
      const r = await call(CREDIT, { a: held, e: event });
      expect(r.data!.creditHostingAddon, JSON.stringify(r.errors)).to.deep.include({
        __typename: 'TrafficTopUp',
        kind: 'ADDON',
        reason: 'ADDON',
        bytes: 75 * GB,
        invoiceId: invoice,
        description: 'Traffic 25 GB × 3',
        balanceAfterBytes: 85 * GB,
      });
    }
    // The next paid invoice is the next credit.
    const renewal = await stack.whmcs.paidInvoice({
      userid: client,
      items: [{ type: 'Addon', relid: held }],
      paidAt: '2026-12-01 10:00:00',
    });
    const r = await call(CREDIT, { a: held, e: 'RENEWAL' });
    expect(r.data!.creditHostingAddon).to.deep.include({ invoiceId: renewal, balanceAfterBytes: 160 * GB });
  });

  it('an addon of another module answers NotATrafficAddon; a broken GB setting is refused by name', async () => {
    const a = await create();
    const addon = await stack.whmcs.addon({ name: 'Backup', packages: [product], gb: 1 });
    await stack.db.query("UPDATE tbladdons SET module = 'other' WHERE id = ?", [addon]);
    const held = await stack.whmcs.hostingAddon({
      serviceId: a.serviceId,
      addonId: addon,
      userid: client,
      name: '',
    });
    const r = await call(CREDIT, { a: held, e: 'ACTIVATION' });
    expect(r.data!.creditHostingAddon).to.deep.include({
      __typename: 'NotATrafficAddon',
      errorCode: 'VALIDATION',
    });
    const broken = await stack.whmcs.addon({ name: 'Traffic ??', packages: [product], gb: 1 });
    await stack.db.query(
      "UPDATE tblmodule_configuration SET value = '2,5' WHERE entity_type = 'addon' AND entity_id = ?",
      [broken],
    );
    const heldBroken = await stack.whmcs.hostingAddon({
      serviceId: a.serviceId,
      addonId: broken,
      userid: client,
      name: '',
    });
    const bad = await call(CREDIT, { a: heldBroken, e: 'ACTIVATION' });
    expect(codeOf(bad)).to.equal('VALIDATION');
    expect(bad.errors![0].message).to.include('trafficGb');
    expect(codeOf(await call(CREDIT, { a: 999_999, e: 'ACTIVATION' }))).to.equal('NOT_FOUND');
  });

  it('a service without a username gets one the server picks: free in WHMCS and on the router', async () => {
    await stack.db.query("UPDATE tblhosting SET username = 'vpnkeep1' WHERE id = ?", [next]);
    const a = await create(null);
    expect(a.username).to.match(/^vpn[a-z2-9]{6}$/);
    expect(sim.state.findSecret(a.username)).to.not.equal(undefined);
    // Asking again returns the same account and name.
    const again = await call(
      `mutation($i: CreateVpnAccountInput!) { createVpnAccount(input: $i) { username } }`,
      {
        i: {
          serviceId: a.serviceId,
          serverId,
          productId: product,
          password: 'Passw0rd!',
          billingCycle: 'Monthly',
        },
      },
    );
    expect(again.data!.createVpnAccount.username).to.equal(a.username);
  });

  it('terminateVpnService: the account, or NothingToTerminate for a service that never had one', async () => {
    const a = await create();
    const done = await call(TERMINATE, { s: a.serviceId });
    expect(done.data!.terminateVpnService).to.deep.equal({ __typename: 'VpnAccount', status: 'TERMINATED' });
    const never = await stack.whmcs.service({
      id: ++next,
      userid: client,
      packageid: product,
      server: serverId,
    });
    const none = await call(TERMINATE, { s: never });
    expect(none.data!.terminateVpnService).to.deep.include({
      __typename: 'NothingToTerminate',
      errorCode: 'NOT_FOUND',
    });
  });
});
