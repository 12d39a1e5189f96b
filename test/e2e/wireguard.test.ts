import { expect } from 'chai';
import { startStack, type Stack } from '../helpers/stack';
import { codeOf, gql } from '../helpers/test-server';
import fs from 'node:fs';
import { createApiKey, runCli } from '../helpers/cli';
import { generateKeyLine } from '../../src/auth/secret-box';
import type { SimulatedRouter } from '../simulator/simulated-router';
import { publicKeyOf } from '../../src/services/wireguard/wireguard-keys';

/**
 * WireGuard accounts end to end: the server process, MariaDB and a simulated RouterOS 7 router over
 * TLS. The same billing as PPP (the queue on the account's /32), enforcement by disabling the peer,
 * the customer's wg-quick file, and what an admin can do to peers on the router.
 */

const GB = 1_000_000_000;
const ACCOUNT = `serviceId username status statusReason address protocol routerProblem
  traffic { balanceBytes }
  wireguard { interface publicKey endpoint online lastHandshake currentEndpoint downloadBytes uploadBytes live }
  connection { online service callerId address }`;
const CREATE = `mutation($input: CreateVpnAccountInput!) { createVpnAccount(input: $input) { ${ACCOUNT} } }`;
const GET = `query($s: Int!) { vpnAccount(serviceId: $s) { ${ACCOUNT} } }`;
const CONFIG = `query($s: Int!) { vpnAccount(serviceId: $s) { wireGuardConfig { fileName text qrSvg } } }`;
const COLLECT = `mutation { collectTraffic { accountsCollected limited } }`;
const RECONCILE = `mutation { reconcile { repaired actions { serviceId kind detail } } }`;
const TOPUP = `mutation($i: TopUpTrafficInput!) { topUpTraffic(input: $i) { balanceAfterBytes } }`;
const op = (name: string, extra = '') =>
  `mutation($s: Int!${extra ? `, ${extra}` : ''}) { ${name}(serviceId: $s${extra ? `, ${extra.replace(/\$(\w+):.*/, '$1: $$$1')}` : ''}) { ${ACCOUNT} } }`;

/** Parses a wg-quick file into its two sections. */
function parseConf(text: string): { Interface: Record<string, string>; Peer: Record<string, string> } {
  const out: Record<string, Record<string, string>> = {};
  let section = '';
  for (const line of text.split('\n')) {
    const header = /^\[(\w+)\]$/.exec(line.trim());
    if (header) {
      section = header[1];
      out[section] = {};
    } else if (line.includes('=')) {
      const at = line.indexOf('=');
      out[section][line.slice(0, at).trim()] = line.slice(at + 1).trim();
    }
  }
  return out as ReturnType<typeof parseConf>;
}

describe('WireGuard accounts end to end (server process + MariaDB + simulated RouterOS 7 over TLS)', function () {
  let stack: Stack;
  let sim: SimulatedRouter;
  let serverId: number;
  let productId: number;
  let pppProductId: number;
  let client: number;
  let nextService = 5000;

  const call = (query: string, variables: Record<string, unknown> = {}) =>
    gql(stack.server.url, query, variables, stack.admin);
  const ok = async (query: string, variables: Record<string, unknown> = {}) => {
    const r = await call(query, variables);
    expect(r.errors, JSON.stringify(r.errors)).to.equal(undefined);
    return r.data!;
  };
  const newService = (packageid = productId) =>
    stack.whmcs.service({ id: ++nextService, userid: client, packageid, server: serverId });
  const create = (serviceId: number, product = productId) =>
    call(CREATE, {
      input: {
        serviceId,
        serverId,
        productId: product,
        username: `wg${serviceId}`,
        password: 'x',
        billingCycle: 'Monthly',
      },
    });
  const peerOf = (publicKey: string) => sim.state.findPeerByPublicKey(publicKey);

  before(async () => {
    stack = await startStack();
    ({ sim, serverId } = await stack.addRouter({
      assignedips: Array.from({ length: 30 }, (_, i) => `10.66.0.${i + 2}`),
    }));
    sim.state.addWireGuardInterface('wg-vpn', { listenPort: 51820 });
    await stack.db.query('UPDATE tblservers SET hostname = ? WHERE id = ?', ['vpn.example.net', serverId]);
    client = await stack.whmcs.client();
    productId = await stack.whmcs.product({
      name: 'WireGuard 1 GB',
      settings: {
        commentPrefix: 'WG-',
        service: 'wireguard',
        wgInterface: 'wg-vpn',
        wgClient:
          'DNS = 1.1.1.1, 2606:4700:4700::1111\nAllowedIPs = 0.0.0.0/0, ::/0\nPersistentKeepalive = 25\nMTU = 1380',
        downloadMbps: '50',
        uploadMbps: '10',
        trafficMonthlyGb: '1',
      },
    });
    pppProductId = await stack.whmcs.product({
      name: 'PPP 1 GB',
      settings: { commentPrefix: 'WG-', service: 'l2tp', trafficMonthlyGb: '1' },
    });
  });
  after(() => stack?.stop());

  it('creates a peer and a queue on the router, and a wg-quick config whose keys match the peer', async () => {
    const serviceId = await newService();
    const r = await create(serviceId);
    expect(r.errors, JSON.stringify(r.errors)).to.equal(undefined);
    const account = r.data!.createVpnAccount;
    expect(account).to.deep.include({ status: 'ACTIVE', protocol: 'WIREGUARD', address: '10.66.0.2' });
    expect(sim.state.findSecret(`wg${serviceId}`), 'no PPP secret for a WireGuard account').to.equal(
      undefined,
    );
    const peer = peerOf(account.wireguard.publicKey)!;
    expect(peer).to.include({ interface: 'wg-vpn', comment: `WG-${serviceId}`, disabled: false });
    expect(peer.allowedAddress).to.deep.equal(['10.66.0.2/32']);
    const queue = sim.state.findQueue(`vpn-${serviceId}`)!;
    expect(queue.targets).to.deep.equal(['10.66.0.2/32']);
    expect(queue.maxLimit).to.deep.equal([10_000_000n, 50_000_000n]);

    const { wireGuardConfig } = (await ok(CONFIG, { s: serviceId })).vpnAccount;
    expect(wireGuardConfig.fileName).to.equal(`wg${serviceId}.conf`);
    const conf = parseConf(wireGuardConfig.text);
    expect(publicKeyOf(conf.Interface.PrivateKey)).to.equal(peer.publicKey);
    expect(conf.Interface).to.deep.include({
      Address: '10.66.0.2/32',
      DNS: '1.1.1.1, 2606:4700:4700::1111',
      MTU: '1380',
    });
    expect(conf.Peer).to.deep.equal({
      PublicKey: sim.state.findWgInterface('wg-vpn')!.publicKey,
      PresharedKey: peer.presharedKey,
      Endpoint: 'vpn.example.net:51820',
      AllowedIPs: '0.0.0.0/0, ::/0',
      PersistentKeepalive: '25',
    });
    expect(wireGuardConfig.qrSvg).to.match(/^<svg[^>]*viewBox/);
    expect(account.wireguard).to.deep.include({
      interface: 'wg-vpn',
      endpoint: 'vpn.example.net:51820',
      online: false,
      lastHandshake: null,
      live: true,
    });
  });

  it('bills traffic through the peer exactly, shows the handshake, and limits by disabling the peer in the same collection', async () => {
    const serviceId = await newService();
    const account = (await create(serviceId)).data!.createVpnAccount;
    const key = account.wireguard.publicKey;
    expect(
      sim.state.wireGuardHandshake(key, { endpointAddress: '198.51.100.20', endpointPort: 40000 }),
    ).to.equal(true);
    await ok(COLLECT); // baseline
    expect(sim.state.pushPeerTraffic(key, 300_000_000, 100_000_000)).to.deep.equal({
      passed: true,
      queueName: `vpn-${serviceId}`,
    });
    await ok(COLLECT);
    const after = (await ok(GET, { s: serviceId })).vpnAccount;
    expect(after.traffic.balanceBytes).to.equal(GB - 400_000_000);
    expect(after.wireguard).to.deep.include({
      online: true,
      currentEndpoint: '198.51.100.20:40000',
      downloadBytes: 300_000_000,
      uploadBytes: 100_000_000,
    });
    expect(after.connection).to.deep.equal({
      online: true,
      service: 'wireguard',
      callerId: '198.51.100.20:40000',
      address: account.address,
    });
    expect(Date.now() - Date.parse(after.wireguard.lastHandshake)).to.be.below(60_000);

    // Used up: the collection that finds it disables the peer; traffic stops at once.
    sim.state.pushPeerTraffic(key, 700_000_000, 1);
    const report = (await ok(COLLECT)).collectTraffic;
    expect(report.limited).to.deep.equal([serviceId]);
    expect(peerOf(key)!.disabled).to.equal(true);
    expect((await ok(GET, { s: serviceId })).vpnAccount).to.deep.include({ status: 'LIMITED' });
    expect(sim.state.pushPeerTraffic(key, 5_000, 5_000).passed).to.equal(false);

    // A top-up brings it back.
    await ok(TOPUP, { i: { serviceId, bytes: GB, idempotencyKey: `wg-topup-${serviceId}` } });
    expect(peerOf(key)!.disabled).to.equal(false);
    expect((await ok(GET, { s: serviceId })).vpnAccount.status).to.equal('ACTIVE');
    expect(sim.state.wireGuardHandshake(key)).to.equal(true);
    expect(sim.state.pushPeerTraffic(key, 1_000, 1_000).passed).to.equal(true);
  });

  it('suspend disables the peer, unsuspend enables it, reset makes the client handshake again', async () => {
    const serviceId = await newService();
    const key = (await create(serviceId)).data!.createVpnAccount.wireguard.publicKey;
    sim.state.wireGuardHandshake(key);
    await ok(op('suspendVpnAccount'), { s: serviceId });
    expect(peerOf(key)!.disabled).to.equal(true);
    expect(sim.state.wireGuardHandshake(key)).to.equal(false);
    await ok(op('unsuspendVpnAccount'), { s: serviceId });
    expect(peerOf(key)!.disabled).to.equal(false);
    expect(sim.state.wireGuardHandshake(key)).to.equal(true);
    await ok(op('resetVpnConnection'), { s: serviceId });
    expect(peerOf(key)!.disabled).to.equal(false);
    expect(peerOf(key)!.lastHandshakeAt, 'the endpoint and handshake are cleared').to.equal(null);
  });

  it('new keys (regenerateWireGuardKeys, and Change Password) replace the peer key: the old config stops working', async () => {
    const serviceId = await newService();
    const first = (await create(serviceId)).data!.createVpnAccount.wireguard.publicKey;
    const oldConf = parseConf((await ok(CONFIG, { s: serviceId })).vpnAccount.wireGuardConfig.text);
    const second = (await ok(op('regenerateWireGuardKeys'), { s: serviceId })).regenerateWireGuardKeys
      .wireguard.publicKey;
    expect(second).to.not.equal(first);
    expect(peerOf(first), 'the old key is gone from the router').to.equal(undefined);
    expect(sim.state.wireGuardHandshake(first)).to.equal(false);
    const newConf = parseConf((await ok(CONFIG, { s: serviceId })).vpnAccount.wireGuardConfig.text);
    expect(publicKeyOf(newConf.Interface.PrivateKey)).to.equal(second);
    expect(newConf.Peer.PresharedKey).to.not.equal(oldConf.Peer.PresharedKey);
    expect(peerOf(second)!.presharedKey).to.equal(newConf.Peer.PresharedKey);
    const third = (
      await ok(
        `mutation($s: Int!) { changeVpnPassword(serviceId: $s, password: "ignored") { wireguard { publicKey } } }`,
        { s: serviceId },
      )
    ).changeVpnPassword.wireguard.publicKey;
    expect(third).to.not.equal(second);
    expect(peerOf(third)).to.not.equal(undefined);
    expect(sim.state.wgPeers.size).to.be.greaterThan(0);
    // A PPP account has no keys to regenerate.
    const ppp = await newService(pppProductId);
    await ok(CREATE, {
      input: {
        serviceId: ppp,
        serverId,
        productId: pppProductId,
        username: `p${ppp}`,
        password: 'Passw0rd!',
        billingCycle: 'Monthly',
      },
    });
    const refused = await call(op('regenerateWireGuardKeys'), { s: ppp });
    expect(codeOf(refused)).to.equal('VALIDATION');
  });

  it('reconcile puts back a peer deleted, disabled or edited on the router, and never enables a limited one', async () => {
    const serviceId = await newService();
    const account = (await create(serviceId)).data!.createVpnAccount;
    const key = account.wireguard.publicKey;
    sim.state.deleteWgPeer(peerOf(key)!);
    let report = (await ok(RECONCILE)).reconcile;
    expect(
      report.actions
        .filter((a: { serviceId: number }) => a.serviceId === serviceId)
        .map((a: { kind: string }) => a.kind),
    ).to.include('PEER_CREATED');
    expect(peerOf(key)!.allowedAddress).to.deep.equal([`${account.address}/32`]);

    const peer = peerOf(key)!;
    peer.allowedAddress = ['10.99.99.99/32'];
    peer.comment = 'edited by hand';
    peer.disabled = true;
    report = (await ok(RECONCILE)).reconcile;
    const kinds = report.actions
      .filter((a: { serviceId: number }) => a.serviceId === serviceId)
      .map((a: { kind: string }) => a.kind);
    expect(kinds).to.include('PEER_UPDATED');
    expect(peerOf(key)).to.deep.include({ comment: `WG-${serviceId}`, disabled: false });
    expect(peerOf(key)!.allowedAddress).to.deep.equal([`${account.address}/32`]);

    // A peer with our prefix that no account owns (left by hand): reported, never touched.
    const strayKey = Buffer.alloc(32, 9).toString('base64');
    sim.state.insertWgPeer({
      ...peerOf(key)!,
      id: sim.state.wgPeers.allocateId(),
      name: 'stray',
      publicKey: strayKey,
      allowedAddress: ['10.66.0.250/32'],
      comment: 'WG-99999',
    });
    report = (await ok(RECONCILE)).reconcile;
    expect(report.actions.find((a: { kind: string }) => a.kind === 'FOREIGN_PEER')?.detail).to.match(
      /10\.66\.0\.250\/32 on wg-vpn \(comment "WG-99999"\) carries our prefix/,
    );
    expect(peerOf(strayKey)).to.include({ comment: 'WG-99999', disabled: false });
    sim.state.deleteWgPeer(peerOf(strayKey)!);

    // A limited account's peer enabled by hand is disabled again.
    await stack.db.query('UPDATE mod_mikrotikvpn_accounts SET balance_bytes = -1 WHERE service_id = ?', [
      serviceId,
    ]);
    await ok(RECONCILE);
    expect(peerOf(key)!.disabled).to.equal(true);
    peerOf(key)!.disabled = false;
    await ok(RECONCILE);
    expect(peerOf(key)!.disabled).to.equal(true);
  });

  it('Change Package moves an account between WireGuard and PPP: the old object goes, the new one comes, the queue stays', async () => {
    const serviceId = await newService();
    const account = (await create(serviceId)).data!.createVpnAccount;
    const key = account.wireguard.publicKey;
    const toPpp = (
      await ok(
        `mutation($s: Int!, $p: Int!) { changeVpnPackage(serviceId: $s, productId: $p) { ${ACCOUNT} } }`,
        { s: serviceId, p: pppProductId },
      )
    ).changeVpnPackage;
    expect(toPpp.protocol).to.equal('PPP');
    expect(peerOf(key), 'the peer is removed').to.equal(undefined);
    expect(sim.state.findSecret(`wg${serviceId}`)).to.include({
      remoteAddress: account.address,
      service: 'l2tp',
    });
    const back = (
      await ok(
        `mutation($s: Int!, $p: Int!) { changeVpnPackage(serviceId: $s, productId: $p) { ${ACCOUNT} } }`,
        { s: serviceId, p: productId },
      )
    ).changeVpnPackage;
    expect(back.protocol).to.equal('WIREGUARD');
    expect(sim.state.findSecret(`wg${serviceId}`), 'the secret is removed').to.equal(undefined);
    expect(peerOf(back.wireguard.publicKey)).to.include({ disabled: false, interface: 'wg-vpn' });
    expect(sim.state.findQueue(`vpn-${serviceId}`)!.targets).to.deep.equal([`${account.address}/32`]);
  });

  it('terminate cuts the peer off, bills its last traffic, removes peer and queue and frees the address', async () => {
    const serviceId = await newService();
    const account = (await create(serviceId)).data!.createVpnAccount;
    const key = account.wireguard.publicKey;
    sim.state.wireGuardHandshake(key);
    await ok(COLLECT);
    sim.state.pushPeerTraffic(key, 12_345, 678);
    await ok(`mutation($s: Int!) { terminateVpnAccount(serviceId: $s) { status } }`, { s: serviceId });
    expect(peerOf(key)).to.equal(undefined);
    expect(sim.state.findQueue(`vpn-${serviceId}`)).to.equal(undefined);
    const [row] = await stack.db.query(
      `SELECT a.status, a.live_address, COALESCE(SUM(s.download_bytes), 0) AS down, COALESCE(SUM(s.upload_bytes), 0) AS up
         FROM mod_mikrotikvpn_accounts a LEFT JOIN mod_mikrotikvpn_traffic_samples s ON s.account_id = a.id
        WHERE a.service_id = ? GROUP BY a.id`,
      [serviceId],
    );
    expect(row).to.deep.include({ status: 'TERMINATED', live_address: null, down: '12345', up: '678' });
  });

  it('reads the config only with an admin key or the account’s own client token', async () => {
    const serviceId = await newService();
    await create(serviceId);
    const reader = await createApiKey(stack.tdb.url, 'wg-reader', 'read');
    const asReader = await gql(stack.server.url, CONFIG, { s: serviceId }, reader);
    expect(codeOf(asReader)).to.equal('FORBIDDEN');
    const mint = `mutation($c: Int!, $s: [Int!]!) { mintClientToken(clientId: $c, serviceIds: $s) { token } }`;
    const own = (await ok(mint, { c: client, s: [serviceId] })).mintClientToken.token;
    const mine = await gql(stack.server.url, CONFIG, { s: serviceId }, own);
    expect(mine.errors).to.equal(undefined);
    expect(mine.data!.vpnAccount.wireGuardConfig.text).to.match(/^\[Interface\]\nPrivateKey = /);
    const other = (await ok(mint, { c: client, s: [serviceId - 1] })).mintClientToken.token;
    expect(codeOf(await gql(stack.server.url, CONFIG, { s: serviceId }, other))).to.equal('FORBIDDEN');
  });

  it('refuses bad settings and routers without WireGuard with typed errors, leaving nothing behind', async () => {
    const accounts = async () =>
      Number((await stack.db.query('SELECT COUNT(*) AS n FROM mod_mikrotikvpn_accounts'))[0].n);
    const peers = () => sim.state.wgPeers.size;
    const before = { accounts: await accounts(), peers: peers() };
    const product = (settings: Record<string, string>) =>
      stack.whmcs.product({
        name: 'WG bad',
        settings: { service: 'wireguard', trafficMonthlyGb: '1', ...settings },
      });
    const attempt = async (settings: Record<string, string>) => {
      const p = await product(settings);
      return create(await newService(p), p);
    };
    const missing = await attempt({ wgInterface: 'wg-nope' });
    expect(codeOf(missing)).to.equal('VALIDATION');
    expect(missing.errors![0].message).to.match(/wg-nope.*wgInterface|wgInterface.*wg-nope/);
    const endpoint = await attempt({ wgInterface: 'wg-vpn', wgClient: 'Endpoint = vpn.example.net' });
    expect(codeOf(endpoint)).to.equal('VALIDATION');
    expect(endpoint.errors![0].message).to.match(/wgClient \(Endpoint must be host:port\)/);
    const dns = await attempt({ wgInterface: 'wg-vpn', wgClient: 'DNS = my-dns-server' });
    expect(dns.errors![0].message).to.match(/wgClient \(DNS must be a list of addresses\)/);
    const unknown = await attempt({ wgInterface: 'wg-vpn', wgClient: 'PrivateKey = x' });
    expect(unknown.errors![0].message).to.match(/wgClient \(PrivateKey is not one of/);

    // A router without WireGuard (RouterOS 6): named in the error.
    const old = await stack.addRouter({ version: '6.49.17', assignedips: ['10.67.0.2'] });
    const p = await product({ wgInterface: '' });
    const s = await stack.whmcs.service({
      id: ++nextService,
      userid: client,
      packageid: p,
      server: old.serverId,
    });
    const noWg = await call(CREATE, {
      input: {
        serviceId: s,
        serverId: old.serverId,
        productId: p,
        username: `wg${s}`,
        password: 'x',
        billingCycle: 'Monthly',
      },
    });
    expect(codeOf(noWg)).to.equal('ROUTER_FEATURE_MISSING');
    expect(noWg.errors![0].message).to.match(/Router .* has no WireGuard interface/);
    expect(old.sim.state.queues.size).to.equal(0);

    // An address held by a peer that is not ours: CONFLICT, and neither queue nor account is left.
    const foreignAddress = '10.66.0.29';
    const foreignKey = Buffer.alloc(32, 7).toString('base64');
    await stack.db.query('UPDATE tblservers SET assignedips = ? WHERE id = ?', [foreignAddress, serverId]);
    // (what an admin would add by hand: a peer of their own on the address we would give out next)
    const template = sim.state.wgPeers.values().next().value!;
    sim.state.insertWgPeer({
      ...template,
      id: sim.state.wgPeers.allocateId(),
      name: 'foreign',
      publicKey: foreignKey,
      allowedAddress: [`${foreignAddress}/32`],
      comment: 'someone else',
      disabled: false,
    });
    const clash = await create(await newService());
    expect(codeOf(clash)).to.equal('CONFLICT');
    expect(sim.state.findPeerByPublicKey(foreignKey)).to.include({ comment: 'someone else' });
    expect(peers()).to.equal(before.peers + 1);
    expect(await accounts()).to.equal(before.accounts);
    await stack.db.query('UPDATE tblservers SET assignedips = ? WHERE id = ?', [
      Array.from({ length: 30 }, (_, i) => `10.66.0.${i + 2}`).join('\r\n'),
      serverId,
    ]);
  });

  it('Test Connection lists the WireGuard interfaces, and warns where WireGuard is sold but the router has none', async () => {
    const TEST = `mutation($i: RouterInput!) { testRouterConnection(input: $i) { ok warnings wireguardInterfaces { name listenPort running } } }`;
    const input = (router: SimulatedRouter, id: number) => ({
      i: { serverId: id, host: '127.0.0.1', port: router.port, username: 'api', caPem: router.caPem },
    });
    const good = (await ok(TEST, input(sim, serverId))).testRouterConnection;
    expect(good.wireguardInterfaces).to.deep.equal([{ name: 'wg-vpn', listenPort: 51820, running: true }]);
    expect(good.warnings.join(' ')).to.not.match(/WireGuard/);
    const bare = await stack.addRouter({ assignedips: ['10.68.0.2'] });
    const none = (await ok(TEST, input(bare.sim, bare.serverId))).testRouterConnection;
    expect(none.ok).to.equal(true);
    expect(none.wireguardInterfaces).to.deep.equal([]);
    expect(none.warnings.join(' ')).to.match(
      /No WireGuard interface on this router: the WireGuard products \(WireGuard 1 GB/,
    );
  });

  it('reads the live state of every WireGuard account of a router with one peers print per request', async () => {
    sim.clearCommandLog();
    const r = await ok(
      `{ vpnAccounts(first: 50) { nodes { protocol connection { online } wireguard { online lastHandshake } } } }`,
    );
    const wg = r.vpnAccounts.nodes.filter((a: { protocol: string }) => a.protocol === 'WIREGUARD');
    expect(wg.length).to.be.greaterThan(4);
    expect(sim.commandsFor('/interface/wireguard/peers/print')).to.have.length(1);
    expect(sim.commandsFor('/interface/wireguard/print')).to.have.length(1);
  });

  it('doctor names a WireGuard product whose client settings Create would refuse', async () => {
    const out = await runCli(['doctor', '--whmcs-time-zone', 'UTC'], stack.env);
    expect(out.stdout).to.match(
      /^warn {2}product \d+ "WG bad": malformed module settings: wgClient \(Endpoint must be host:port\) — fix: open the product in WHMCS/m,
    );
    expect(out.stdout).to.match(
      /^warn {2}product \d+ "WG bad": malformed module settings: wgClient \(DNS must be a list of addresses\)/m,
    );
  });

  it('rotate-key re-encrypts the WireGuard keys too, and the config reads the same afterwards', async () => {
    const serviceId = await newService();
    await create(serviceId);
    const before = (await ok(CONFIG, { s: serviceId })).vpnAccount.wireGuardConfig.text;
    fs.appendFileSync(stack.env.ENCRYPTION_KEY_FILE, `${generateKeyLine('wg2')}\n`);
    const out = await runCli(['rotate-key'], stack.env);
    expect(out.code, out.stdout + out.stderr).to.equal(0);
    const ids: { k: string }[] = await stack.db.query(
      `SELECT DISTINCT SUBSTRING_INDEX(wg_private_key, ':', 1) AS k FROM mod_mikrotikvpn_accounts WHERE wg_private_key IS NOT NULL
       UNION SELECT DISTINCT SUBSTRING_INDEX(wg_preshared_key, ':', 1) FROM mod_mikrotikvpn_accounts WHERE wg_preshared_key IS NOT NULL`,
    );
    expect(ids.map((r) => r.k)).to.deep.equal(['wg2']);
    expect((await ok(CONFIG, { s: serviceId })).vpnAccount.wireGuardConfig.text).to.equal(before);
  });

  it('keeps every private and preshared key out of the server log', async () => {
    const rows: { k: string }[] = await stack.db.query(
      'SELECT wg_private_key AS k FROM mod_mikrotikvpn_accounts WHERE wg_private_key IS NOT NULL UNION ALL SELECT wg_preshared_key FROM mod_mikrotikvpn_accounts WHERE wg_preshared_key IS NOT NULL',
    );
    expect(rows.length).to.be.greaterThan(4);
    const log = stack.server.output.join('\n');
    for (const peer of sim.state.wgPeers.values()) expect(log).to.not.include(peer.presharedKey);
    for (const { k } of rows) {
      expect(k, 'stored encrypted').to.match(/^[^:]+:[^:]+:[^:]+:[^:]+$/);
      expect(log).to.not.include(k.split(':')[3]);
    }
    const privates = await Promise.all(
      (
        await stack.db.query(
          "SELECT service_id FROM mod_mikrotikvpn_accounts WHERE status = 'ACTIVE' AND protocol = 'wireguard'",
        )
      )
        .slice(0, 3)
        .map(
          async (r: { service_id: number }) =>
            (await call(CONFIG, { s: r.service_id })).data?.vpnAccount?.wireGuardConfig?.text ?? '',
        ),
    );
    for (const text of privates.filter(Boolean))
      expect(log).to.not.include(parseConf(text).Interface.PrivateKey);
  });

  it('while the router cannot be read, the account still answers: no config, status without live fields', async () => {
    const serviceId = await newService();
    await create(serviceId);
    await sim.close();
    const r = await call(
      `query($s: Int!) { vpnAccount(serviceId: $s) { status traffic { balanceBytes } wireguard { publicKey online live } wireGuardConfig { text } } }`,
      { s: serviceId },
    );
    expect(r.errors, JSON.stringify(r.errors)).to.equal(undefined);
    expect(r.data!.vpnAccount).to.deep.include({ status: 'ACTIVE', wireGuardConfig: null });
    expect(r.data!.vpnAccount.wireguard).to.deep.include({ online: false, live: false });
  });
});
