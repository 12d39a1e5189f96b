import { expect } from 'chai';
import { RouterOSAPI } from 'routeros-api';
import { RawApiClient } from './raw-api-client';
import { type SimulatedRouter, type SimulatedRouterOptions, startSimulatedRouter } from './simulated-router';
import { seededPublicKey } from './seed-accounts';
import { generateWireGuardKeyPair, isWireGuardKey, wireGuardPublicKey } from './wireguard-model';

// A key pair printed by a real router in the help.mikrotik.com WireGuard example (Office1).
const MANUAL_PRIVATE_KEY = 'yKt9NJ4e5qlaSgh48WnPCDCEkDmq+VsBTt/DDEBWfEo=';
const MANUAL_PUBLIC_KEY = 'u7gYAg5tkioJDcm3hyS7pm79eADKPs/ZUGON6/fF3iI=';

type Row = Record<string, string>;

/** `/interface/wireguard` and `/interface/wireguard/peers`, over the wire with the real routeros-api client. */
describe('simulated router: WireGuard (RouterOS 7)', () => {
  let sim: SimulatedRouter;
  let api: RouterOSAPI;
  const clients: RouterOSAPI[] = [];

  async function connect(router: SimulatedRouter): Promise<RouterOSAPI> {
    const client = new RouterOSAPI({
      host: '127.0.0.1',
      port: router.port,
      user: 'admin',
      password: 'admin',
      timeout: 5,
    });
    client.on('error', () => undefined);
    await client.connect();
    clients.push(client);
    return client;
  }

  async function start(options: SimulatedRouterOptions = {}): Promise<void> {
    sim = await startSimulatedRouter(options);
    api = await connect(sim);
  }

  const write = (words: string[], client = api) => client.write(words) as Promise<Row[]>;

  /** The `!trap` message a command gets (routeros-api keeps the first one). */
  async function trap(words: string[], client = api): Promise<string> {
    try {
      await client.write(words);
    } catch (error) {
      return (error as Error).message;
    }
    throw new Error(`${words[0]} was not refused`);
  }

  /** Adds `wg-vpn` (the manual's key) and a peer for `10.64.0.1`; returns the peer's id and client keys. */
  async function addInterfaceAndPeer(): Promise<{ id: string; publicKey: string }> {
    await write(['/interface/wireguard/add', '=name=wg-vpn', `=private-key=${MANUAL_PRIVATE_KEY}`]);
    const { publicKey } = generateWireGuardKeyPair();
    const [added] = await write([
      '/interface/wireguard/peers/add',
      '=interface=wg-vpn',
      `=public-key=${publicKey}`,
      '=allowed-address=10.64.0.1',
      '=comment=acct-1',
    ]);
    return { id: added.ret, publicKey };
  }

  afterEach(async () => {
    // A router that rebooted already dropped these sockets; don't wait for a goodbye from it.
    for (const client of clients.splice(0)) {
      await Promise.race([client.close().catch(() => undefined), new Promise((r) => setTimeout(r, 200))]);
    }
    await sim.close();
  });

  describe('on 7.16.2 (the default)', () => {
    beforeEach(() => start());

    it('adds an interface with the documented defaults and derives public-key from private-key', async () => {
      const [added] = await write([
        '/interface/wireguard/add',
        '=name=wg-vpn',
        `=private-key=${MANUAL_PRIVATE_KEY}`,
      ]);
      expect(added.ret).to.match(/^\*[0-9A-F]+$/);
      await write(['/interface/wireguard/add', '=listen-port=51820', '=comment=second']);
      const rows = await write(['/interface/wireguard/print']);
      expect(rows[0]).to.deep.equal({
        '.id': added.ret,
        name: 'wg-vpn',
        mtu: '1420',
        'listen-port': '13231',
        'private-key': MANUAL_PRIVATE_KEY,
        'public-key': MANUAL_PUBLIC_KEY,
        running: 'true',
        disabled: 'false',
      });
      // No private-key given: one is generated, and public-key is its X25519 public key.
      expect(rows[1]).to.include({ name: 'wireguard1', 'listen-port': '51820', comment: 'second' });
      expect(rows[1]['private-key']).to.match(/^[A-Za-z0-9+/]{43}=$/);
      expect(rows[1]['public-key']).to.equal(wireGuardPublicKey(rows[1]['private-key']));
      expect(await trap(['/interface/wireguard/add', '=name=wg-vpn'])).to.equal(
        'failure: already have interface with such name',
      );
      expect(await trap(['/interface/wireguard/set', '=numbers=wg-vpn', '=public-key=x'])).to.equal(
        'unknown parameter public-key',
      );
      await write(['/interface/wireguard/disable', '=numbers=wg-vpn']);
      const [disabled] = await write([
        '/interface/wireguard/print',
        '?name=wg-vpn',
        '=.proplist=running,disabled',
      ]);
      expect(disabled).to.deep.equal({ running: 'false', disabled: 'true' });
    });

    it('adds a peer and prints it with .proplist, queries and count-only', async () => {
      const { id, publicKey } = await addInterfaceAndPeer();
      const [full] = await write(['/interface/wireguard/peers/print', `?.id=${id}`]);
      expect(full).to.deep.equal({
        '.id': id,
        interface: 'wg-vpn',
        name: 'peer1',
        'public-key': publicKey,
        'private-key': '',
        'endpoint-address': '',
        'endpoint-port': '0',
        'allowed-address': '10.64.0.1/32',
        'preshared-key': '',
        'persistent-keepalive': '0s',
        'client-address': '',
        'client-dns': '',
        'client-endpoint': '',
        'client-keepalive': '0s',
        'client-listen-port': '0',
        rx: '0',
        tx: '0',
        comment: 'acct-1',
        dynamic: 'false',
        disabled: 'false',
      });
      const other = generateWireGuardKeyPair();
      await write([
        '/interface/wireguard/peers/add',
        '=interface=wg-vpn',
        `=public-key=${other.publicKey}`,
        `=preshared-key=${generateWireGuardKeyPair().publicKey}`,
        '=allowed-address=10.64.0.2/32,fd00:64::2/128',
        '=persistent-keepalive=25',
        '=endpoint-address=vpn.example.net',
        '=endpoint-port=51820',
        '=name=acct-2',
        '=client-address=10.64.0.2/32',
        '=client-dns=10.64.0.254',
        '=client-endpoint=vpn.example.net:13231',
        '=client-keepalive=1m',
        '=client-listen-port=51820',
      ]);
      const rows = await write([
        '/interface/wireguard/peers/print',
        `?public-key=${other.publicKey}`,
        '=.proplist=name,allowed-address,persistent-keepalive,endpoint-port,client-keepalive,rx',
      ]);
      expect(rows).to.deep.equal([
        {
          name: 'acct-2',
          'allowed-address': '10.64.0.2/32,fd00:64::2/128',
          'persistent-keepalive': '25s',
          'endpoint-port': '51820',
          'client-keepalive': '1m',
          rx: '0',
        },
      ]);
      expect(await write(['/interface/wireguard/peers/print', '=count-only='])).to.deep.equal([{ ret: '2' }]);
      expect(
        await write([
          '/interface/wireguard/peers/print',
          '?interface=wg-vpn',
          '?disabled=false',
          '=count-only=',
        ]),
      ).to.deep.equal([{ ret: '2' }]);
      expect(await write(['/interface/wireguard/peers/print', '?interface=wg-other'])).to.deep.equal([]);
    });

    it('refuses a public key another peer of the router has, on add and on set', async () => {
      const { publicKey } = await addInterfaceAndPeer();
      await write(['/interface/wireguard/add', '=name=wg-other']);
      // One key per device, even on another interface.
      expect(
        await trap([
          '/interface/wireguard/peers/add',
          '=interface=wg-other',
          `=public-key=${publicKey}`,
          '=allowed-address=10.99.0.1/32',
        ]),
      ).to.equal('failure: entry already exists');
      const [second] = await write([
        '/interface/wireguard/peers/add',
        '=interface=wg-vpn',
        `=public-key=${generateWireGuardKeyPair().publicKey}`,
        '=allowed-address=10.64.0.2/32',
      ]);
      expect(
        await trap(['/interface/wireguard/peers/set', `=.id=${second.ret}`, `=public-key=${publicKey}`]),
      ).to.equal('failure: entry already exists');
      expect(sim.state.wgPeers.size).to.equal(2);
    });

    it('refuses allowed-address overlapping another peer of the same interface', async () => {
      await addInterfaceAndPeer();
      const add = (iface: string, allowed: string) =>
        trap([
          '/interface/wireguard/peers/add',
          `=interface=${iface}`,
          `=public-key=${generateWireGuardKeyPair().publicKey}`,
          `=allowed-address=${allowed}`,
        ]);
      const overlap = 'failure: allowed-address overlaps with existing peer';
      expect(await add('wg-vpn', '10.64.0.1/32')).to.equal(overlap);
      expect(await add('wg-vpn', '10.64.0.0/24')).to.equal(overlap);
      expect(await add('wg-vpn', '10.64.0.9/32,10.64.0.1')).to.equal(overlap);
      // Another interface has its own address space.
      await write(['/interface/wireguard/add', '=name=wg-other']);
      const [ok] = await write([
        '/interface/wireguard/peers/add',
        '=interface=wg-other',
        `=public-key=${generateWireGuardKeyPair().publicKey}`,
        '=allowed-address=10.64.0.0/24',
      ]);
      expect(await trap(['/interface/wireguard/peers/set', `=.id=${ok.ret}`, '=interface=wg-vpn'])).to.equal(
        overlap,
      );
    });

    it('refuses malformed keys and addresses, and an interface that does not exist', async () => {
      await addInterfaceAndPeer();
      const peer = (...extra: string[]) =>
        trap([
          '/interface/wireguard/peers/add',
          '=interface=wg-vpn',
          `=public-key=${generateWireGuardKeyPair().publicKey}`,
          '=allowed-address=10.64.1.1/32',
          ...extra,
        ]);
      expect(await peer('=public-key=not-a-key')).to.equal('invalid value for argument public-key');
      // 43 characters: one short of a 32-byte key.
      expect(await peer(`=public-key=${MANUAL_PUBLIC_KEY.slice(1)}`)).to.equal(
        'invalid value for argument public-key',
      );
      expect(await peer('=preshared-key=abc=')).to.equal('invalid value for argument preshared-key');
      expect(await peer('=allowed-address=10.64.1.300/32')).to.equal(
        'invalid value for argument allowed-address',
      );
      expect(await peer('=allowed-address=10.64.1.0/33')).to.equal(
        'invalid value for argument allowed-address',
      );
      expect(await peer('=persistent-keepalive=forever')).to.equal(
        'invalid value for argument persistent-keepalive',
      );
      expect(await peer('=interface=wg-nope')).to.equal('input does not match any value of interface');
      expect(await peer('=rx=5')).to.equal('unknown parameter rx');
      expect(
        await trap(['/interface/wireguard/peers/add', '=interface=wg-vpn', '=allowed-address=10.64.1.1/32']),
      ).to.equal('missing value(s) of argument(s) public-key');
      expect(
        await trap([
          '/interface/wireguard/peers/add',
          '=interface=wg-vpn',
          `=public-key=${generateWireGuardKeyPair().publicKey}`,
        ]),
      ).to.equal('missing value(s) of argument(s) allowed-address');
      expect(await trap(['/interface/wireguard/peers/remove', '=.id=*FFFF'])).to.equal('no such item (4)');
      expect(sim.state.wgPeers.size).to.equal(1);
    });

    it('enables, disables, sets and removes by .id and numbers lists; a rename of the interface shows in its peers', async () => {
      const { id } = await addInterfaceAndPeer();
      const secondKey = generateWireGuardKeyPair().publicKey;
      const [second] = await write([
        '/interface/wireguard/peers/add',
        '=interface=wg-vpn',
        `=public-key=${secondKey}`,
        '=allowed-address=10.64.0.2',
      ]);
      await write(['/interface/wireguard/peers/disable', `=numbers=${id},${second.ret}`]);
      expect([...sim.state.wgPeers.values()].map((peer) => peer.disabled)).to.deep.equal([true, true]);
      await write(['/interface/wireguard/peers/enable', `=.id=${second.ret}`]);
      await write([
        '/interface/wireguard/peers/set',
        `=numbers=${id}`,
        '=comment=moved',
        '=allowed-address=10.64.0.5',
      ]);
      expect(sim.state.wgPeers.get(id)).to.include({ comment: 'moved', disabled: true });
      expect(sim.state.wgPeers.get(id)!.allowedAddress).to.deep.equal(['10.64.0.5/32']);
      expect(await trap(['/interface/wireguard/peers/set', '=numbers=peer1', '=comment=x'])).to.equal(
        'invalid internal item number',
      );
      await write(['/interface/wireguard/set', '=numbers=wg-vpn', '=name=wg-customers']);
      const peers = await write(['/interface/wireguard/peers/print', '=.proplist=interface']);
      expect(peers).to.deep.equal([{ interface: 'wg-customers' }, { interface: 'wg-customers' }]);
      await write(['/interface/wireguard/peers/remove', `=.id=${id}`]);
      expect(sim.state.wgPeers.size).to.equal(1);
      // Our choice: removing the interface removes its peers.
      await write(['/interface/wireguard/remove', '=numbers=wg-customers']);
      expect(sim.state.wgPeers.size).to.equal(0);
      expect(sim.state.findPeerByPublicKey(secondKey)).to.equal(undefined);
    });

    it('shows last-handshake only after the first handshake, then as a duration since it', async () => {
      const { id, publicKey } = await addInterfaceAndPeer();
      const before = await write(['/interface/wireguard/peers/print', `?.id=${id}`]);
      expect(before[0]).to.not.have.property('last-handshake');
      expect(before[0]).to.not.have.property('current-endpoint-address');
      expect(
        await write(['/interface/wireguard/peers/print', '?last-handshake', '=count-only=']),
      ).to.deep.equal([{ ret: '0' }]);

      expect(
        sim.state.wireGuardHandshake(publicKey, { endpointAddress: '198.51.100.23', endpointPort: 40112 }),
      ).to.be.true;
      const [now] = await write([
        '/interface/wireguard/peers/print',
        `?.id=${id}`,
        '=.proplist=last-handshake,current-endpoint-address,current-endpoint-port',
      ]);
      expect(now).to.deep.equal({
        'last-handshake': '0s',
        'current-endpoint-address': '198.51.100.23',
        'current-endpoint-port': '40112',
      });
      sim.state.findPeerByPublicKey(publicKey)!.lastHandshakeAt! -= 105_000;
      const [later] = await write([
        '/interface/wireguard/peers/print',
        `?.id=${id}`,
        '=.proplist=last-handshake',
      ]);
      expect(later).to.deep.equal({ 'last-handshake': '1m45s' });
      // An unknown key handshakes with nothing.
      expect(sim.state.wireGuardHandshake(generateWireGuardKeyPair().publicKey)).to.be.false;
    });

    it('counts tunnel traffic on the peer (rx = upload, tx = download) and on the queue of its /32', async () => {
      const { id, publicKey } = await addInterfaceAndPeer();
      await write(['/queue/simple/add', '=name=acct-1', '=target=10.64.0.1/32', '=max-limit=10M/50M']);
      // No handshake yet: nothing passes, nothing is counted.
      expect(sim.state.pushPeerTraffic(publicKey, 5000, 1000)).to.deep.equal({
        passed: false,
        queueName: null,
      });

      expect(sim.state.wireGuardHandshake(publicKey)).to.be.true;
      expect(sim.state.pushPeerTraffic(publicKey, 5000, 1000)).to.deep.equal({
        passed: true,
        queueName: 'acct-1',
      });
      expect(sim.state.pushPeerTraffic(publicKey, 5000n, 1000n).passed).to.be.true;
      const [peer] = await write([
        '/interface/wireguard/peers/print',
        `?.id=${id}`,
        '=.proplist=rx,tx,current-endpoint-address,current-endpoint-port',
      ]);
      expect(peer).to.deep.equal({
        rx: '2000',
        tx: '10000',
        'current-endpoint-address': '203.0.113.50',
        'current-endpoint-port': '51820',
      });
      const [queue] = await write(['/queue/simple/print', '?name=acct-1', '=.proplist=bytes']);
      expect(queue).to.deep.equal({ bytes: '2000/10000' });

      // 180 s without a handshake: the session is dead and carries nothing until the next one.
      sim.state.findPeerByPublicKey(publicKey)!.lastHandshakeAt! -= 181_000;
      expect(sim.state.pushPeerTraffic(publicKey, 5000, 1000).passed).to.be.false;
      expect(sim.state.findPeerByPublicKey(publicKey)!.rx).to.equal(2000n);
      // Within 180 s, traffic keeps the session alive (the client's rekey every 120 s).
      sim.state.wireGuardHandshake(publicKey);
      sim.state.findPeerByPublicKey(publicKey)!.lastHandshakeAt! -= 170_000;
      expect(sim.state.pushPeerTraffic(publicKey, 1, 1).passed).to.be.true;
      const [refreshed] = await write([
        '/interface/wireguard/peers/print',
        `?.id=${id}`,
        '=.proplist=last-handshake',
      ]);
      expect(refreshed).to.deep.equal({ 'last-handshake': '0s' });
    });

    it('passes nothing through a disabled peer or interface; disabling ends the tunnel, rx/tx stay', async () => {
      const { id, publicKey } = await addInterfaceAndPeer();
      await write(['/queue/simple/add', '=name=acct-1', '=target=10.64.0.1/32']);
      sim.state.wireGuardHandshake(publicKey);
      sim.state.pushPeerTraffic(publicKey, 3000, 300);

      await write(['/interface/wireguard/peers/disable', `=.id=${id}`]);
      expect(sim.state.pushPeerTraffic(publicKey, 5000, 1000)).to.deep.equal({
        passed: false,
        queueName: null,
      });
      expect(sim.state.wireGuardHandshake(publicKey)).to.be.false;
      const [disabled] = await write(['/interface/wireguard/peers/print', `?.id=${id}`]);
      expect(disabled).to.include({ rx: '300', tx: '3000', disabled: 'true' });
      expect(disabled).to.not.have.property('last-handshake');
      expect(disabled).to.not.have.property('current-endpoint-address');
      const [queue] = await write(['/queue/simple/print', '?name=acct-1', '=.proplist=bytes']);
      expect(queue).to.deep.equal({ bytes: '300/3000' });

      // Enabled again, the client must handshake before traffic flows.
      await write(['/interface/wireguard/peers/enable', `=.id=${id}`]);
      expect(sim.state.pushPeerTraffic(publicKey, 5000, 1000).passed).to.be.false;
      expect(sim.state.wireGuardHandshake(publicKey)).to.be.true;
      expect(sim.state.pushPeerTraffic(publicKey, 5000, 1000).passed).to.be.true;

      // A disabled interface stops all its peers the same way.
      await write(['/interface/wireguard/disable', '=numbers=wg-vpn']);
      expect(sim.state.pushPeerTraffic(publicKey, 5000, 1000).passed).to.be.false;
      expect(sim.state.wireGuardHandshake(publicKey)).to.be.false;
      expect(sim.state.findPeerByPublicKey(publicKey)!.lastHandshakeAt).to.equal(null);
      expect(sim.state.findPeerByPublicKey(publicKey)).to.include({ rx: 1300n, tx: 8000n });
    });

    it('forgets rx, tx, last-handshake and the current endpoint at reboot', async () => {
      const { id, publicKey } = await addInterfaceAndPeer();
      await write(['/queue/simple/add', '=name=acct-1', '=target=10.64.0.1/32']);
      sim.state.wireGuardHandshake(publicKey);
      sim.state.pushPeerTraffic(publicKey, 5000, 1000);
      sim.reboot();
      const after = await connect(sim);
      const [peer] = await write(['/interface/wireguard/peers/print', `?.id=${id}`], after);
      expect(peer).to.include({
        rx: '0',
        tx: '0',
        'public-key': publicKey,
        'allowed-address': '10.64.0.1/32',
      });
      expect(peer).to.not.have.property('last-handshake');
      expect(peer).to.not.have.property('current-endpoint-address');
      const [queue] = await write(['/queue/simple/print', '?name=acct-1', '=.proplist=bytes'], after);
      expect(queue).to.deep.equal({ bytes: '0/0' });
      // The configuration survives; only the runtime state is gone.
      expect(sim.state.pushPeerTraffic(publicKey, 1, 1).passed).to.be.false;
      expect(sim.state.wireGuardHandshake(publicKey)).to.be.true;
    });

    it('has addWireGuardInterface for what an admin sets up on the router', async () => {
      const row = sim.state.addWireGuardInterface('wg-vpn', { listenPort: 51820, mtu: 1380 });
      expect(sim.state.findWgInterface('wg-vpn')).to.equal(row);
      expect(row.publicKey).to.equal(wireGuardPublicKey(row.privateKey));
      const [printed] = await write([
        '/interface/wireguard/print',
        '?name=wg-vpn',
        '=.proplist=listen-port,mtu,public-key,running',
      ]);
      expect(printed).to.deep.equal({
        'listen-port': '51820',
        mtu: '1380',
        'public-key': row.publicKey,
        running: 'true',
      });
      expect(() => sim.state.addWireGuardInterface('wg-vpn')).to.throw(/already exists/);
      expect(sim.state.addWireGuardInterface('wg-off', { disabled: true }).disabled).to.be.true;
    });
  });

  it('seeds a share of the accounts as WireGuard peers with the same queue', async () => {
    await start({ accounts: 4, seed: { wireGuardShare: 0.5, connectedShare: 0.5 } });
    expect(sim.accounts.map((account) => account.kind)).to.deep.equal([
      'ppp',
      'ppp',
      'wireguard',
      'wireguard',
    ]);
    const wg = sim.accounts[2];
    expect(wg.publicKey).to.equal(seededPublicKey('vpn00003'));
    expect(isWireGuardKey(wg.publicKey!)).to.be.true;
    expect(sim.state.findSecret('vpn00003')).to.equal(undefined);
    expect(sim.state.findActive('vpn00001')).to.not.equal(undefined);
    const peers = await write([
      '/interface/wireguard/peers/print',
      '=.proplist=interface,name,allowed-address,public-key',
    ]);
    expect(peers).to.deep.equal([
      {
        interface: 'wg-vpn',
        name: 'vpn00003',
        'allowed-address': '10.64.0.3/32',
        'public-key': wg.publicKey,
      },
      {
        interface: 'wg-vpn',
        name: 'vpn00004',
        'allowed-address': '10.64.0.4/32',
        'public-key': seededPublicKey('vpn00004'),
      },
    ]);
    // Position 2 (vpn00003) is a "connected" one: it has had a handshake, so traffic passes.
    expect(sim.state.pushPeerTraffic(wg.publicKey!, 5000, 1000)).to.deep.equal({
      passed: true,
      queueName: 'vpn00003',
    });
    expect(sim.state.pushPeerTraffic(seededPublicKey('vpn00004'), 5000, 1000).passed).to.be.false;
    // The API keeps refusing what RouterOS would: the seeded key is taken, the /32 is in use.
    expect(
      await trap([
        '/interface/wireguard/peers/add',
        '=interface=wg-vpn',
        `=public-key=${generateWireGuardKeyPair().publicKey}`,
        '=allowed-address=10.64.0.4/32',
      ]),
    ).to.equal('failure: allowed-address overlaps with existing peer');
  });

  it('has no WireGuard menus on RouterOS 6', async () => {
    await start({ version: '6.49.17' });
    expect(await trap(['/interface/wireguard/print'])).to.equal('no such command or directory (wireguard)');
    expect(await trap(['/interface/wireguard/peers/add', '=interface=wg-vpn'])).to.equal(
      'no such command or directory (wireguard)',
    );
    const raw = await RawApiClient.login(sim.port);
    expect(await raw.command(['/interface/wireguard/peers/print'])).to.deep.equal([
      ['!trap', '=message=no such command or directory (wireguard)'],
      ['!trap', '=message=no such command prefix'],
      ['!done'],
    ]);
    raw.close();
    expect(() => sim.state.addWireGuardInterface('wg-vpn')).to.throw(/no WireGuard/);
  });

  it('follows the version: no peer name before 7.15, no mandatory allowed-address before 7.12.2', async () => {
    await start({ version: '7.11.3' });
    await write(['/interface/wireguard/add', '=name=wg-vpn']);
    const { publicKey } = generateWireGuardKeyPair();
    await write(['/interface/wireguard/peers/add', '=interface=wg-vpn', `=public-key=${publicKey}`]);
    const [peer] = await write(['/interface/wireguard/peers/print']);
    expect(peer).to.include({ 'allowed-address': '', interface: 'wg-vpn' });
    expect(peer).to.not.have.property('name');
    expect(peer).to.not.have.property('client-address');
    expect(await trap(['/interface/wireguard/peers/set', `=.id=${peer['.id']}`, '=name=x'])).to.equal(
      'unknown parameter name',
    );
  });
});
