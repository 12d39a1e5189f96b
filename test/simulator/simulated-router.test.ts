import type { TlsOptions } from 'node:tls';
import { expect } from 'chai';
import { RouterOSAPI } from 'routeros-api';
import { RawApiClient, attributesOf } from './raw-api-client';
import { type SimulatedRouter, startSimulatedRouter } from './simulated-router';

describe('simulated router (wire level)', () => {
  let sim: SimulatedRouter;
  let client: RawApiClient;

  beforeEach(async () => {
    sim = await startSimulatedRouter({ accounts: 3 });
    client = await RawApiClient.login(sim.port);
  });

  afterEach(async () => {
    client.close();
    await sim.close();
  });

  it('echoes .tag on every reply sentence, right after the reply word', async () => {
    const reply = await client.command(['/ppp/secret/print', '.tag=t1']);
    expect(reply).to.have.length(4);
    for (const sentence of reply) expect(sentence[1]).to.equal('.tag=t1');
  });

  it('refuses commands before login with !fatal and a bare reason, then closes', async () => {
    const fresh = await RawApiClient.connect(sim.port);
    const reply = await fresh.command(['/ppp/secret/print', '.tag=a']);
    expect(reply).to.deep.equal([['!fatal', 'not logged in']]);
    await fresh.waitClosed();
  });

  it('answers a wrong password with the 6.43+ trap followed by !done', async () => {
    const fresh = await RawApiClient.connect(sim.port);
    const reply = await fresh.command(['/login', '=name=admin', '=password=nope']);
    expect(reply).to.deep.equal([['!trap', '=message=invalid user name or password (6)'], ['!done']]);
    fresh.close();
  });

  it('supports the legacy challenge login', async () => {
    const { createHash } = await import('node:crypto');
    const fresh = await RawApiClient.connect(sim.port);
    const [challengeReply] = await fresh.command(['/login']);
    const challenge = Buffer.from(attributesOf(challengeReply).ret, 'hex');
    const md5 = createHash('md5')
      .update(Buffer.concat([Buffer.from([0]), Buffer.from('admin'), challenge]))
      .digest('hex');
    expect(await fresh.command(['/login', '=name=admin', `=response=00${md5}`])).to.deep.equal([['!done']]);
    fresh.close();
  });

  it('answers an unknown menu with two traps and one !done', async () => {
    const reply = await client.command(['/system/routerboard/print']);
    expect(reply).to.deep.equal([
      ['!trap', '=message=no such command or directory (routerboard)'],
      ['!trap', '=message=no such command prefix'],
      ['!done'],
    ]);
    expect(await client.command(['/ppp/secret/frobnicate'])).to.deep.equal([
      ['!trap', '=category=0', '=message=no such command'],
      ['!done'],
    ]);
  });

  it('adds with =ret=*ID, counts with count-only and returns bare !re for unmatched .proplist', async () => {
    const [added] = await client.command(['/ppp/secret/add', '=name=bob', '=password=x']);
    expect(added[0]).to.equal('!done');
    expect(attributesOf(added).ret).to.match(/^\*[0-9A-F]+$/);
    expect(await client.command(['/ppp/secret/print', '=count-only='])).to.deep.equal([['!done', '=ret=4']]);
    const bare = await client.command(['/ppp/secret/print', '?name=bob', '=.proplist=nonexistent']);
    expect(bare).to.deep.equal([['!re'], ['!done']]);
  });

  it('omits an empty comment and prints booleans as true/false', async () => {
    await client.command(['/ppp/secret/add', '=name=nocomment', '=password=x']);
    const [row] = await client.command(['/ppp/secret/print', '?name=nocomment']);
    const fields = attributesOf(row);
    expect(fields).to.not.have.property('comment');
    expect(fields.disabled).to.equal('false');
    expect(fields['caller-id']).to.equal('');
  });

  it('answers an empty print with !empty from 7.18 on, and plain !done before', async () => {
    expect(await client.command(['/ppp/active/print', '.tag=e'])).to.deep.equal([['!done', '.tag=e']]);
    const newer = await startSimulatedRouter({ version: '7.18.1' });
    const other = await RawApiClient.login(newer.port);
    expect(await other.command(['/ppp/active/print', '.tag=5'])).to.deep.equal([
      ['!empty', '.tag=5'],
      ['!done', '.tag=5'],
    ]);
    newer.faults.emptyReplies = false;
    expect(await other.command(['/ppp/active/print'])).to.deep.equal([['!done']]);
    other.close();
    await newer.close();
  });

  it("uses RouterOS's error messages", async () => {
    const trap = async (words: string[]) => attributesOf((await client.command(words))[0]).message;
    expect(await trap(['/ppp/secret/add', '=name=vpn00001'])).to.equal(
      'failure: secret with the same name already exists',
    );
    expect(await trap(['/ppp/secret/add', '=name=x', '=profile=gold'])).to.equal(
      'input does not match any value of profile',
    );
    expect(await trap(['/ppp/secret/add', '=name=y', '=remote-address=10.0.0.300'])).to.equal(
      'invalid value for argument remote-address',
    );
    expect(await trap(['/ppp/secret/add', '=password=x'])).to.equal('missing value(s) of argument(s) name');
    expect(await trap(['/ppp/secret/remove', '=.id=*FFFF'])).to.equal('no such item (4)');
    expect(await trap(['/ppp/secret/remove', '=.id=*zz'])).to.equal('invalid internal item number');
    expect(await trap(['/queue/simple/add', '=name=vpn00002', '=target=10.1.1.1'])).to.equal(
      'failure: already have such name',
    );
    expect(
      await trap(['/queue/simple/add', '=target=10.1.1.1', '=max-limit=1M/1M', '=limit-at=2M/0']),
    ).to.equal('failure: upload-max-limit less than upload-limit');
  });

  it('sets, disables and removes by .id, by numbers lists and by name', async () => {
    const ids = sim.accounts.map((account) => sim.state.findSecret(account.name)!.id);
    await client.command(['/ppp/secret/disable', `=numbers=${ids[0]},${ids[1]}`]);
    expect(sim.state.findSecret('vpn00001')!.disabled).to.equal(true);
    expect(sim.state.findSecret('vpn00002')!.disabled).to.equal(true);
    await client.command(['/ppp/secret/set', '=numbers=vpn00003', '=comment=renamed', '=name=vpn-x']);
    expect(sim.state.findSecret('vpn-x')!.comment).to.equal('renamed');
    await client.command(['/ppp/secret/remove', `=.id=${ids[0]}`]);
    expect(sim.state.findSecret('vpn00001')).to.equal(undefined);
  });

  it('stores max-limit as upload/download and prints limits in plain bits', async () => {
    await client.command(['/queue/simple/add', '=name=q', '=target=10.9.9.9', '=max-limit=5M/10M']);
    const [row] = await client.command([
      '/queue/simple/print',
      '?name=q',
      '=.proplist=target,max-limit,bytes',
    ]);
    expect(attributesOf(row)).to.deep.equal({
      target: '10.9.9.9/32',
      'max-limit': '5000000/10000000',
      bytes: '0/0',
    });
  });

  it('answers the # keepalive and /cancel of a delayed command', async () => {
    expect(await client.command(['#', '.tag=k'])).to.deep.equal([['!done', '.tag=k']]);
    sim.faults.latencyMs = 300;
    client.send(['/ppp/secret/print', '.tag=slow']);
    while (sim.commandsFor('/ppp/secret/print').length === 0)
      await new Promise((resolve) => setTimeout(resolve, 5));
    sim.faults.latencyMs = 0;
    client.send(['/cancel', '=tag=slow', '.tag=c']);
    const replies = [await client.next(), await client.next(), await client.next()];
    expect(replies).to.deep.include(['!trap', '.tag=slow', '=category=2', '=message=interrupted']);
    expect(replies).to.deep.include(['!done', '.tag=slow']);
    expect(replies).to.deep.include(['!done', '.tag=c']);
  });

  it('models PPP sessions: disabled secrets cannot connect, uptime in RouterOS format', async () => {
    sim.state.findSecret('vpn00002')!.disabled = true;
    expect(() => sim.connect('vpn00002')).to.throw(/disabled/);
    sim.connect('vpn00001', { callerId: '203.0.113.9' });
    sim.state.findActive('vpn00001')!.connectedAt -= (44 * 60 + 55) * 1000;
    const [row] = await client.command(['/ppp/active/print', '?name=vpn00001']);
    const fields = attributesOf(row);
    expect(fields).to.include({
      name: 'vpn00001',
      'caller-id': '203.0.113.9',
      address: '10.64.0.1',
      uptime: '44m55s',
    });
    expect(fields['.id']).to.match(/^\*[0-9A-F]+$/);
    expect(fields['session-id']).to.match(/^0x[0-9A-F]+$/);
    expect(sim.disconnect('vpn00001')).to.equal(true);
    expect(sim.state.findSecret('vpn00001')!.lastDisconnectReason).to.equal('peer-request');
  });

  it('counts traffic by target address across reconnects, and resets on reboot', async () => {
    sim.connect('vpn00001');
    expect(sim.pushTraffic('10.64.0.1', 5000, 1000).queueName).to.equal('vpn00001');
    sim.disconnect('vpn00001');
    sim.connect('vpn00001');
    sim.pushTraffic('vpn00001', 5000, 1000);
    const [row] = await client.command(['/queue/simple/print', '?name=vpn00001', '=.proplist=bytes']);
    expect(attributesOf(row).bytes).to.equal('2000/10000');
    sim.state.bootTime -= 3_600_000;
    sim.reboot();
    await client.waitClosed();
    const after = await RawApiClient.login(sim.port);
    const [queue] = await after.command(['/queue/simple/print', '?name=vpn00001', '=.proplist=bytes']);
    expect(attributesOf(queue).bytes).to.equal('0/0');
    const [resource] = await after.command(['/system/resource/print']);
    expect(attributesOf(resource).uptime).to.match(/^\d+s$/);
    expect(sim.state.findActive('vpn00001')).to.equal(undefined);
    after.close();
  });

  it('logs every command with its connection id', async () => {
    await client.command(['/system/identity/print', '.tag=x']);
    const entries = sim.commandsFor('/system/identity/print');
    expect(entries).to.have.length(1);
    expect(entries[0].tag).to.equal('x');
    expect(entries[0].connectionId).to.equal(sim.commandsFor('/login')[0].connectionId);
    expect(sim.connectionCount).to.equal(1);
  });

  it('answers a 5,000-queue print quickly', async () => {
    const big = await startSimulatedRouter({ accounts: 5000 });
    const other = await RawApiClient.login(big.port);
    const started = Date.now();
    const reply = await other.command(['/queue/simple/print', '=.proplist=name,bytes']);
    expect(reply).to.have.length(5001);
    expect(Date.now() - started).to.be.below(1500);
    other.close();
    await big.close();
  });
});

describe('simulated router (driven by routeros-api)', () => {
  for (const useTls of [false, true]) {
    it(`serves the real client over ${useTls ? 'TLS' : 'TCP'}`, async () => {
      const sim = await startSimulatedRouter({ tls: useTls, accounts: 2, users: { api: 's3cret' } });
      const api = new RouterOSAPI({
        host: '127.0.0.1',
        port: sim.port,
        user: 'api',
        password: 's3cret',
        timeout: 5,
        tls: useTls ? ({ ca: sim.caPem!, checkServerIdentity: () => undefined } as TlsOptions) : undefined,
      });
      api.on('error', () => undefined);
      await api.connect();
      const rows = await api.write(['/ppp/secret/print', '=.proplist=name,remote-address']);
      expect(rows).to.deep.equal([
        { name: 'vpn00001', 'remote-address': '10.64.0.1' },
        { name: 'vpn00002', 'remote-address': '10.64.0.2' },
      ]);
      await api.close();
      await sim.close();
    });
  }
});
