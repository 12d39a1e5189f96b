import { expect } from 'chai';
import { ErrorCode } from '../../src/errors/error-code';
import { type RouterTarget, RouterGateway, RouterSessionPool, RouterTrapError } from '../../src/router';
import { type SimulatedRouter, startSimulatedRouter } from '../simulator/simulated-router';
import { expectRouterError, targetFor } from './router-fixtures';

// RouterOS 7.18+ answers a print that matches nothing with `!empty`, which routeros-api 1.0.2 did not
// know; every operation runs against both behaviours.
const VARIANTS = [
  { transport: 'TCP', version: '7.16.2' },
  { transport: 'TLS', version: '7.16.2' },
  { transport: 'TLS', version: '7.18.1' },
] as const;

for (const { transport, version } of VARIANTS) {
  describe(`router gateway over ${transport}, RouterOS ${version}`, () => {
    let sim: SimulatedRouter;
    let pool: RouterSessionPool;
    let gateway: RouterGateway;
    let target: RouterTarget;

    beforeEach(async () => {
      sim = await startSimulatedRouter({
        tls: transport === 'TLS',
        accounts: 2,
        identity: 'edge-1',
        version,
      });
      pool = new RouterSessionPool();
      gateway = new RouterGateway(pool);
      target = targetFor(sim);
    });

    afterEach(async () => {
      await pool.closeAll();
      await sim.close();
    });

    it('reads identity, version and uptime', async () => {
      sim.state.bootTime = Date.now() - 90_061_000;
      expect(await gateway.identity(target)).to.equal('edge-1');
      const resource = await gateway.systemResource(target);
      expect(resource.version).to.equal(`${version} (stable)`);
      expect(resource.uptimeSeconds).to.be.within(90_061, 90_063);
      expect(resource.boardName).to.equal('CHR');
    });

    it('lists PPP profiles including the built-in ones', async () => {
      const profiles = await gateway.listPppProfiles(target);
      expect(profiles.map((profile) => [profile.id, profile.name, profile.isDefault])).to.deep.equal([
        ['*0', 'default', true],
        ['*FFFFFFFE', 'default-encryption', true],
      ]);
    });

    it('adds a PPP secret, then changes, disables, enables and removes it by id', async () => {
      const id = await gateway.addPppSecret(target, {
        name: 'alice',
        password: 'pa=ss,word',
        service: 'l2tp',
        profile: 'default-encryption',
        remoteAddress: '10.70.0.5',
        comment: 'whmcs:42',
      });
      expect(id).to.match(/^\*[0-9A-F]+$/);
      expect(sim.state.findSecret('alice')).to.include({
        password: 'pa=ss,word',
        service: 'l2tp',
        comment: 'whmcs:42',
      });
      expect(await gateway.findPppSecretById(target, id)).to.deep.include({ name: 'alice' });
      expect(
        await gateway.setPppSecretById(target, id, { password: 'new', remoteAddress: '10.70.0.6' }),
      ).to.equal(true);
      expect(await gateway.onItem(target, '/ppp/secret', id, 'disable')).to.equal(true);
      expect(sim.state.findSecret('alice')).to.include({
        password: 'new',
        remoteAddress: '10.70.0.6',
        disabled: true,
      });
      expect(await gateway.onItem(target, '/ppp/secret', id, 'enable')).to.equal(true);
      expect(sim.state.findSecret('alice')!.disabled).to.equal(false);
      const listed = (await gateway.listPppSecrets(target)).filter((s) => s.comment === 'whmcs:42');
      expect(listed).to.deep.equal([
        {
          id,
          name: 'alice',
          service: 'l2tp',
          profile: 'default-encryption',
          remoteAddress: '10.70.0.6',
          comment: 'whmcs:42',
          disabled: false,
          // Never logged in: RouterOS has no last session to tell of.
          lastDisconnectReason: null,
          lastCallerId: null,
        },
      ]);
      expect(await gateway.onItem(target, '/ppp/secret', id, 'remove')).to.equal(true);
      expect(await gateway.onItem(target, '/ppp/secret', id, 'remove')).to.equal(false);
      expect(await gateway.setPppSecretById(target, '*FFFF', { comment: 'x' })).to.equal(false);
      expect(await gateway.findPppSecret(target, 'alice')).to.equal(null);
    });

    it("surfaces RouterOS's own trap messages as ROUTER_ERROR", async () => {
      const duplicate = await expectRouterError(
        gateway.addPppSecret(target, { name: 'vpn00001', password: 'x' }),
        ErrorCode.ROUTER_ERROR,
      );
      expect(duplicate.error).to.be.instanceOf(RouterTrapError);
      expect((duplicate.error as RouterTrapError).routerMessage).to.equal(
        'failure: secret with the same name already exists',
      );
      const profile = await expectRouterError(
        gateway.addPppSecret(target, { name: 'bob', password: 'x', profile: 'gold' }),
        ErrorCode.ROUTER_ERROR,
      );
      expect(profile.error.message).to.contain('input does not match any value of profile');
      expect(profile.error.message).to.not.contain('=password=');
      const address = await expectRouterError(
        gateway.addPppSecret(target, { name: 'bob', password: 'x', remoteAddress: '10.0.0.999' }),
        ErrorCode.ROUTER_ERROR,
      );
      expect(address.error.message).to.contain('invalid value for argument remote-address');
      await expectRouterError(
        gateway.addSimpleQueue(target, {
          name: 'vpn00001',
          address: '10.1.1.1',
          maxLimit: { downloadBps: 1, uploadBps: 1 },
        }),
        ErrorCode.ROUTER_ERROR,
      );
    });

    it('adds, changes and removes a simple queue on <address>/32', async () => {
      const id = await gateway.addSimpleQueue(target, {
        name: 'svc-7',
        address: '10.70.0.7',
        maxLimit: { downloadBps: 20_000_000n, uploadBps: 5_000_000n },
        comment: 'whmcs:7',
      });
      expect(
        await gateway.setSimpleQueueById(target, id, {
          maxLimit: { downloadBps: 30_000_000, uploadBps: 6_000_000 },
        }),
      ).to.equal(true);
      const queue = (await gateway.findSimpleQueue(target, 'svc-7'))!;
      expect((await gateway.findSimpleQueue(target, 'renamed', id))!.name).to.equal('svc-7');
      expect(queue).to.deep.include({
        target: '10.70.0.7/32',
        maxLimit: { downloadBps: 30_000_000n, uploadBps: 6_000_000n },
        comment: 'whmcs:7',
        disabled: false,
        dynamic: false,
        downloadBytes: 0n,
      });
      expect(await gateway.onItem(target, '/queue/simple', id, 'remove')).to.equal(true);
      expect(sim.state.findQueue('svc-7')).to.equal(undefined);
    });

    it('lists active sessions and kicks one', async () => {
      sim.connect('vpn00001', { callerId: '198.51.100.20' });
      sim.state.findActive('vpn00001')!.connectedAt -= 125_000;
      const sessions = await gateway.listActiveSessions(target);
      expect(sessions).to.have.length(1);
      expect(sessions[0]).to.deep.include({
        name: 'vpn00001',
        callerId: '198.51.100.20',
        address: '10.64.0.1',
      });
      expect(sessions[0].uptimeSeconds).to.be.within(125, 127);
      expect(await gateway.sessionsOf(target, 'vpn00002')).to.deep.equal([]);
      expect(await gateway.kick(target, 'vpn00001')).to.equal(1);
      expect(await gateway.kick(target, 'vpn00001')).to.equal(0);
      expect(sim.state.findActive('vpn00001')).to.equal(undefined);
    });

    it('reads queue counters and max-limit as bigint in the customer perspective', async () => {
      sim.pushTraffic('vpn00002', 2n ** 60n, 12345);
      const queue = sim.state.findQueue('vpn00002')!;
      queue.maxLimit = [10_000_000n, 50_000_000n]; // RouterOS order: upload/download
      const counters = await gateway.readQueueCounters(target);
      expect(counters.find((row) => row.name === 'vpn00002')).to.deep.equal({
        id: queue.id,
        name: 'vpn00002',
        target: '10.64.0.2/32',
        downloadBytes: 2n ** 60n,
        uploadBytes: 12345n,
        maxLimit: { downloadBps: 50_000_000n, uploadBps: 10_000_000n },
      });
    });

    it('passes numeric-looking names and passwords through as strings', async () => {
      // routeros-api's RouterOSClient would turn these into numbers (dropping the leading zeros).
      sim.users.set('0815', '000123');
      const numericTarget = { ...target, id: `${target.id}-numeric`, username: '0815', password: '000123' };
      await gateway.addPppSecret(numericTarget, { name: '007', password: '0042', comment: '1e3' });
      expect(sim.state.findSecret('007')).to.include({ password: '0042', comment: '1e3' });
      const [secret] = (await gateway.listPppSecrets(numericTarget)).filter((row) => row.name === '007');
      expect(secret.name).to.equal('007');
      expect(secret.comment).to.equal('1e3');
    });
  });
}
