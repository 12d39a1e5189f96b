import net from 'node:net';
import { expect } from 'chai';
import { ErrorCode } from '../../src/errors/error-code';
import { RouterGateway, RouterSessionPool } from '../../src/router';
import { type SimulatedRouter, startSimulatedRouter } from '../simulator/simulated-router';
import { createTestPki } from '../simulator/test-pki';
import { eventually, expectRouterError, sleep, targetFor } from './router-fixtures';

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('router adapter: TLS pinning', () => {
  let sim: SimulatedRouter;
  let pool: RouterSessionPool;
  let gateway: RouterGateway;

  before(async () => {
    sim = await startSimulatedRouter({ tls: true });
  });
  after(() => sim.close());
  beforeEach(() => {
    pool = new RouterSessionPool();
    gateway = new RouterGateway(pool);
  });
  afterEach(() => pool.closeAll());

  it('accepts the router when its certificate chains to the pinned CA (connecting by IP)', async () => {
    expect(await gateway.identity(targetFor(sim))).to.equal('MikroTik');
  });

  it('refuses a router whose certificate does not chain to the pinned CA', async () => {
    const other = createTestPki({ commonName: 'someone-else' });
    sim.clearCommandLog();
    const { error } = await expectRouterError(
      gateway.identity(targetFor(sim, { caPem: other.caPem })),
      ErrorCode.ROUTER_TLS_FAILED,
    );
    expect(sim.commandLog).to.have.length(0);
    expect(error.message).to.not.contain(sim.credentials.password);
  });

  it('accepts the pinned SHA-256 fingerprint of the router certificate, in any notation', async () => {
    const fingerprint = sim.fingerprintSha256!.replace(/:/g, '').toLowerCase();
    expect(await gateway.identity(targetFor(sim, { caPem: null, fingerprintSha256: fingerprint }))).to.equal(
      'MikroTik',
    );
  });

  it('accepts a pinned fingerprint of a self-signed router certificate', async () => {
    const selfSigned = await startSimulatedRouter({
      tls: true,
      pki: createTestPki({ selfSignedLeaf: true }),
    });
    try {
      const target = targetFor(selfSigned, { caPem: null, fingerprintSha256: selfSigned.fingerprintSha256 });
      expect(await gateway.identity(target)).to.equal('MikroTik');
    } finally {
      await selfSigned.close();
    }
  });

  it('refuses a wrong fingerprint before sending the login', async () => {
    sim.clearCommandLog();
    await expectRouterError(
      gateway.identity(targetFor(sim, { caPem: null, fingerprintSha256: 'AB'.repeat(32) })),
      ErrorCode.ROUTER_TLS_FAILED,
    );
    expect(sim.commandLog).to.have.length(0);
  });

  it('refuses a CA-pinned router whose certificate is not the pinned fingerprint', async () => {
    await expectRouterError(
      gateway.identity(targetFor(sim, { fingerprintSha256: 'CD'.repeat(32) })),
      ErrorCode.ROUTER_TLS_FAILED,
    );
  });

  it('refuses a self-signed router certificate when nothing is pinned (no verification bypass)', async () => {
    await expectRouterError(
      gateway.identity(targetFor(sim, { caPem: null, fingerprintSha256: null })),
      ErrorCode.ROUTER_TLS_FAILED,
    );
  });
});

describe('router adapter: default ports', () => {
  it('dials api-ssl on 8729 when a TLS router has no port (routeros-api alone would dial 8728)', async () => {
    const sim = await startSimulatedRouter({ listeners: [{ tls: true, port: 8729 }] });
    const pool = new RouterSessionPool();
    try {
      const gateway = new RouterGateway(pool);
      expect(await gateway.identity(targetFor(sim, { port: 0 }))).to.equal('MikroTik');
    } finally {
      await pool.closeAll();
      await sim.close();
    }
  });
});

describe('router adapter: faults become typed errors within the timeout', () => {
  let sim: SimulatedRouter;
  let pool: RouterSessionPool;
  let gateway: RouterGateway;

  beforeEach(async () => {
    sim = await startSimulatedRouter({ accounts: 3 });
    pool = new RouterSessionPool({ defaultTimeoutMs: 500 });
    gateway = new RouterGateway(pool);
  });
  afterEach(async () => {
    await pool.closeAll();
    await sim.close();
  });

  it('a closed port is ROUTER_UNREACHABLE', async () => {
    const target = targetFor(sim, { port: await freePort(), timeoutMs: 500 });
    const { elapsedMs } = await expectRouterError(gateway.identity(target), ErrorCode.ROUTER_UNREACHABLE);
    expect(elapsedMs).to.be.below(500);
  });

  it('a router that resets new connections is ROUTER_UNREACHABLE', async () => {
    sim.faults.refuse = true;
    await expectRouterError(
      gateway.identity(targetFor(sim, { timeoutMs: 500 })),
      ErrorCode.ROUTER_UNREACHABLE,
    );
  });

  it('a TLS router that resets new connections is ROUTER_UNREACHABLE, not a TLS failure', async () => {
    const tlsSim = await startSimulatedRouter({ tls: true, faults: { refuse: true } });
    try {
      await expectRouterError(
        gateway.identity(targetFor(tlsSim, { timeoutMs: 500 })),
        ErrorCode.ROUTER_UNREACHABLE,
      );
    } finally {
      await tlsSim.close();
    }
  });

  it('a frozen router is ROUTER_TIMEOUT on connect, and the socket is not left open', async () => {
    sim.faults.freeze = true;
    const { elapsedMs } = await expectRouterError(
      gateway.identity(targetFor(sim, { timeoutMs: 300 })),
      ErrorCode.ROUTER_TIMEOUT,
    );
    expect(elapsedMs).to.be.within(250, 1000);
    await eventually(() => sim.connectionCount === 0);
  });

  it('a router that freezes after login is ROUTER_TIMEOUT per command, then the session is reopened', async () => {
    const target = targetFor(sim, { timeoutMs: 300 });
    await gateway.identity(target);
    sim.faults.freeze = true;
    const { elapsedMs } = await expectRouterError(gateway.identity(target), ErrorCode.ROUTER_TIMEOUT);
    expect(elapsedMs).to.be.within(250, 1000);
    sim.faults.freeze = false;
    await eventually(() => sim.connectionCount === 0);
    expect(await gateway.identity(target)).to.equal('MikroTik');
  });

  it('a reply slower than the timeout is ROUTER_TIMEOUT', async () => {
    const target = targetFor(sim, { timeoutMs: 200 });
    await gateway.identity(target);
    sim.faults.latencyMs = 1000;
    await expectRouterError(gateway.listActiveSessions(target), ErrorCode.ROUTER_TIMEOUT);
  });

  it('a connection dropped mid-reply settles every pending command as ROUTER_UNREACHABLE', async () => {
    // routeros-api alone leaves these promises pending forever.
    const target = targetFor(sim, { timeoutMs: 5000 });
    await gateway.identity(target);
    sim.faults.dropMidReply = true;
    const started = Date.now();
    const results = await Promise.allSettled([
      gateway.listPppSecrets(target),
      gateway.readQueueCounters(target),
      gateway.listActiveSessions(target),
    ]);
    expect(Date.now() - started).to.be.below(2000);
    for (const result of results) {
      expect(result.status).to.equal('rejected');
      expect((result as PromiseRejectedResult).reason.code).to.equal(ErrorCode.ROUTER_UNREACHABLE);
    }
    sim.faults.dropMidReply = false;
    expect(await gateway.identity(target)).to.equal('MikroTik');
  });

  it('!fatal settles the pending command instead of hanging', async () => {
    const target = targetFor(sim, { timeoutMs: 5000 });
    await gateway.identity(target);
    sim.faults.fatalReason = 'session terminated on request';
    const { elapsedMs } = await expectRouterError(gateway.identity(target), ErrorCode.ROUTER_UNREACHABLE);
    expect(elapsedMs).to.be.below(1000);
    expect(await gateway.identity(target)).to.equal('MikroTik');
  });

  for (const message of ['invalid user name or password (7)', 'cannot log in']) {
    it(`a login refused as "${message}" is ROUTER_AUTH_FAILED too (RouterOS versions word it differently)`, async () => {
      sim.faults.loginFailureMessage = message;
      try {
        await expectRouterError(
          gateway.identity(targetFor(sim, { password: 'wrong' })),
          ErrorCode.ROUTER_AUTH_FAILED,
        );
      } finally {
        sim.faults.loginFailureMessage = 'invalid user name or password (6)';
      }
    });
  }

  it('a queue without byte counters is ROUTER_ERROR, never read as zero traffic', async () => {
    const target = targetFor(sim);
    await gateway.addSimpleQueue(target, {
      name: 'vpn-nobytes',
      address: '10.77.0.9',
      maxLimit: { downloadBps: 0, uploadBps: 0 },
    });
    // Like a router that leaves a property out of its reply.
    sim.faults.failOn.push({ path: '/queue/simple/print', kind: 'omit-bytes' });
    const { error } = await expectRouterError(gateway.readQueueCounters(target), ErrorCode.ROUTER_ERROR);
    expect(error.message).to.contain('without valid byte counters');
    await sim.state.deleteQueue(sim.state.findQueue('vpn-nobytes')!);
  });

  it('a wrong password is ROUTER_AUTH_FAILED and the message never holds the password', async () => {
    const target = targetFor(sim, { password: 'Hunter2-secret' });
    const { error } = await expectRouterError(gateway.identity(target), ErrorCode.ROUTER_AUTH_FAILED);
    expect(error.message).to.not.contain('Hunter2-secret');
    expect(JSON.stringify(error.extensions)).to.not.contain('Hunter2-secret');
  });

  it('a reset while the session is idle raises no unhandled error and the next call reconnects', async () => {
    // routeros-api emits 'error' on the API object here; unhandled, it would crash the process.
    const target = targetFor(sim);
    await gateway.identity(target);
    sim.dropConnections();
    await eventually(() => pool.openSessionCount === 0);
    await sleep(50);
    expect(await gateway.identity(target)).to.equal('MikroTik');
    expect(sim.connectionsAccepted).to.equal(2);
  });

  for (const mode of ['final-zero', 'random', 'per-byte'] as const) {
    it(`delivers replies split into TCP chunks (${mode})`, async () => {
      // final-zero is the routeros-api Receiver bug fixed by patches/routeros-api+1.0.2.patch.
      const target = targetFor(sim, { timeoutMs: 5000 });
      await gateway.identity(target);
      sim.faults.splitChunks = mode;
      sim.connect('vpn00002');
      const [sessions, counters] = await Promise.all([
        gateway.listActiveSessions(target),
        gateway.readQueueCounters(target),
      ]);
      expect(sessions.map((session) => session.name)).to.deep.equal(['vpn00002']);
      expect(counters).to.have.length(3);
      expect(await gateway.identity(target)).to.equal('MikroTik');
    });
  }
});

describe('router adapter: command latency', () => {
  it('sends each command in one TCP write, so Nagle does not add a delayed-ACK wait per command', async () => {
    // Unpatched routeros-api writes word by word and each command waits ~40 ms for the router's ACK.
    const sim = await startSimulatedRouter();
    const pool = new RouterSessionPool();
    const gateway = new RouterGateway(pool);
    try {
      const target = targetFor(sim);
      await gateway.identity(target);
      const started = Date.now();
      for (let i = 0; i < 30; i++) await gateway.sessionsOf(target, `user${i}`);
      expect(Date.now() - started).to.be.below(600);
    } finally {
      await pool.closeAll();
      await sim.close();
    }
  });
});
