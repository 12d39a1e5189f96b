import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { startStack, type Stack } from '../helpers/stack';
import {
  makeClockFile,
  startServer,
  stepClock,
  waitForHealthy,
  type TestServer,
} from '../helpers/test-server';
import type { SimulatedRouter } from '../simulator/simulated-router';
import { Accounts, COLLECT, expectNoErrors, sleep } from './fault-fixtures';

const MB = 1_000_000;
const MINUTE = 60_000;

interface RouterRun {
  routerId: string;
  ok: boolean;
  rebooted: boolean;
  error: string | null;
}

/**
 * Issue "billing correctness", class 1: a router restart is judged without any server process's
 * wall clock. The server processes here run with a preloaded clock that the test steps (as NTP or a
 * resumed VM does) — by ±45 s and ±10 minutes, and two processes whose clocks are 20 minutes apart
 * collect in turn. No byte may be billed twice, and a real reboot must still be seen every time,
 * also when the new uptime is already longer than the last one read.
 */
describe('faults: stepped and skewed server clocks never bill a byte twice, and never hide a reboot', function () {
  this.timeout(120_000);
  let stack: Stack;
  let sim: SimulatedRouter;
  let serverId: number;
  let accounts: Accounts;
  let clockA: string;
  let clockB: string;
  let second: TestServer;

  const collect = async (server: TestServer = stack.server): Promise<RouterRun> => {
    const r = await accounts.call(COLLECT, {}, server);
    expectNoErrors(r);
    const run = r.data!.collectTraffic.routers[0] as RouterRun;
    expect(run.ok, run.error ?? '').to.equal(true);
    return run;
  };
  const billed = async (serviceId: number) => 100_000n * 1_000_000_000n - (await accounts.balance(serviceId));

  before(async () => {
    clockA = makeClockFile(0);
    clockB = makeClockFile(0);
    stack = await startStack({ MVPN_TEST_CLOCK_FILE: clockA });
    ({ sim, serverId } = await stack.addRouter({
      assignedips: Array.from({ length: 10 }, (_, i) => `10.77.0.${i + 2}`),
    }));
    const client = await stack.whmcs.client();
    const productId = await stack.whmcs.product({ settings: { trafficMonthlyGb: '100000' } });
    accounts = new Accounts(stack, client, productId, 77_000);
    second = await startServer({ ...stack.env, MVPN_TEST_CLOCK_FILE: clockB });
    await waitForHealthy(second);
  });
  after(async () => {
    await second?.stop();
    await stack?.stop();
    for (const file of [clockA, clockB])
      if (file) fs.rmSync(path.dirname(file), { recursive: true, force: true });
  });

  it('a server clock stepped by ±45 s and ±10 min between collections bills exactly what went through', async () => {
    sim.state.bootTime = Date.now() - 30_000; // a router up for only 30 s: no margin to hide behind
    const a = await accounts.create(serverId, 'clock1');
    await collect();
    let pushed = 0n;
    const steps = [45_000, 0, -45_000, 0, 10 * MINUTE, 0, -10 * MINUTE, 0];
    for (const offset of steps) {
      sim.pushTraffic(a.address, 150 * MB, 51 * MB);
      pushed += 201n * 1_000_000n;
      await stepClock(stack.server, clockA, offset);
      const run = await collect();
      expect(run.rebooted, `clock at ${offset / 1000} s`).to.equal(false);
      expect(await billed(a.serviceId), `clock at ${offset / 1000} s`).to.equal(pushed);
    }
    console.log(
      `      [figure] ${steps.length} collections with the server clock stepped ${steps.map((s) => `${s / 1000}s`).join(', ')}: billed ${pushed} B for ${pushed} B pushed, 0 false reboots`,
    );
  });

  it('samples and days carry the database clock, not the stepped process clock', async () => {
    await stepClock(stack.server, clockA, 10 * MINUTE);
    const a = await accounts.create(serverId, 'clock2');
    sim.pushTraffic(a.address, 5 * MB, 0);
    await collect();
    const [row] = await stack.db.query(
      `SELECT TIMESTAMPDIFF(SECOND, s.at, UTC_TIMESTAMP()) AS age FROM mod_mikrotikvpn_traffic_samples s
         JOIN mod_mikrotikvpn_accounts a ON a.id = s.account_id WHERE a.service_id = ? ORDER BY s.id DESC LIMIT 1`,
      [a.serviceId],
    );
    expect(Math.abs(Number(row.age))).to.be.below(30);
    await stepClock(stack.server, clockA, 0);
  });

  it('two processes whose clocks are 20 minutes apart, collecting in turn, bill each byte once', async () => {
    sim.state.bootTime = Date.now() - 3_600_000;
    const a = await accounts.create(serverId, 'skew1');
    await stepClock(stack.server, clockA, -10 * MINUTE);
    await stepClock(second, clockB, 10 * MINUTE);
    await collect();
    let pushed = 0n;
    for (let turn = 0; turn < 8; turn++) {
      sim.pushTraffic(a.address, 100 * MB, 1 * MB);
      pushed += 101n * 1_000_000n;
      const run = await collect(turn % 2 ? stack.server : second);
      expect(run.rebooted, `turn ${turn}`).to.equal(false);
      expect(await billed(a.serviceId), `turn ${turn}`).to.equal(pushed);
    }
    console.log(
      `      [figure] 8 collections alternating between processes at −10 min and +10 min: billed ${pushed} B for ${pushed} B pushed, 0 false reboots`,
    );
    await stepClock(stack.server, clockA, 0);
    await stepClock(second, clockB, 0);
  });

  it('a real reboot is still seen under a stepped clock: uptime lower, or already longer than the last read', async () => {
    const a = await accounts.create(serverId, 'boot1');
    // Lower uptime after the reboot, while the reading process's clock stepped back 10 minutes.
    sim.state.bootTime = Date.now() - 3_600_000;
    await collect(second);
    sim.pushTraffic(a.address, 200 * MB, 0);
    await collect(second);
    sim.reboot();
    sim.pushTraffic(a.address, 300 * MB, 0);
    await stepClock(stack.server, clockA, -10 * MINUTE);
    const lower = await collect();
    expect(lower.rebooted).to.equal(true);
    expect(await billed(a.serviceId)).to.equal(500n * 1_000_000n);

    // A router read 6 s after its boot reboots and is read again 8 s later: its uptime is longer
    // than the one read before, only the time between the reads (database clock) tells.
    sim.reboot();
    await sleep(6_000);
    await stepClock(stack.server, clockA, 10 * MINUTE);
    sim.pushTraffic(a.address, 1 * MB, 0);
    await collect();
    const before = await billed(a.serviceId);
    sim.reboot();
    await sleep(8_000);
    sim.pushTraffic(a.address, 50 * MB, 0); // more than the queue showed before the reboot
    await stepClock(second, clockB, -10 * MINUTE);
    const longer = await collect(second);
    expect(longer.rebooted).to.equal(true);
    expect(await billed(a.serviceId)).to.equal(before + 50n * 1_000_000n);
    // And nothing afterwards mistakes the same boot for another one.
    sim.pushTraffic(a.address, 1 * MB, 0);
    await stepClock(stack.server, clockA, 0);
    expect((await collect()).rebooted).to.equal(false);
    expect(await billed(a.serviceId)).to.equal(before + 51n * 1_000_000n);
    await stepClock(second, clockB, 0);
  });
});
