import fs from 'node:fs';
import { expect } from 'chai';
import { scopedLockName } from '../../src/db/named-lock';
import { startStack, type Stack } from '../helpers/stack';
import { startServer, waitForHealthy, type TestServer } from '../helpers/test-server';
import type { SimulatedRouter } from '../simulator/simulated-router';
import { Accounts, FULL, sleep, waitFor } from './fault-fixtures';

const INTERVAL_SECONDS = 1;
const LATENCY_MS = 250;

/** The process owning the TCP connection whose local port is `port` (from /proc: no tools needed). */
function pidOwningLocalPort(port: number, pids: number[]): number | null {
  const inodes = new Set<string>();
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    if (!fs.existsSync(file)) continue;
    for (const line of fs.readFileSync(file, 'utf8').split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols.length > 9 && parseInt(cols[1].split(':')[1], 16) === port) inodes.add(cols[9]);
    }
  }
  for (const pid of pids) {
    for (const fd of fs.readdirSync(`/proc/${pid}/fd`)) {
      const link = (() => {
        try {
          return fs.readlinkSync(`/proc/${pid}/fd/${fd}`);
        } catch {
          return '';
        }
      })();
      const inode = /^socket:\[(\d+)\]$/.exec(link)?.[1];
      if (inode && inodes.has(inode)) return pid;
    }
  }
  return null;
}

/**
 * Item 4 of issue #9: three server processes on one database, each with its own collection clock.
 * Never two collectors on one router at once; when the lock holder is killed, another process takes
 * over within two intervals; and no byte is lost or counted twice on the way.
 */
describe('faults: three server processes on one database', function () {
  this.timeout(FULL ? 600_000 : 120_000);
  const kills = FULL ? 6 : 1;
  let stack: Stack;
  let sim: SimulatedRouter;
  let routerId: string;
  let accounts: Accounts;
  const servers: TestServer[] = [];
  const list: { serviceId: number; address: string }[] = [];

  before(async () => {
    stack = await startStack({ COLLECT_INTERVAL_SECONDS: String(INTERVAL_SECONDS) });
    let serverId: number;
    ({ sim, serverId, routerId } = await stack.addRouter({
      assignedips: Array.from({ length: 10 }, (_, i) => `10.97.0.${i + 2}`),
    }));
    const client = await stack.whmcs.client();
    const productId = await stack.whmcs.product({ settings: { trafficMonthlyGb: '100000' } });
    accounts = new Accounts(stack, client, productId, 60_000);
    for (let i = 0; i < 4; i++) list.push(await accounts.create(serverId, `three${i}`));
    servers.push(stack.server, await startServer(stack.env), await startServer(stack.env));
    await Promise.all(servers.map((s) => waitForHealthy(s)));
  });
  after(async () => {
    await Promise.all(servers.slice(1).map((s) => s.stop()));
    await stack?.stop();
  });

  it(`one collector per router at a time; ${kills} kill(s) of the lock holder, taken over within two intervals`, async () => {
    const lockName = scopedLockName(stack.tdb.config.database, `collect:${routerId}`);
    const holder = async (): Promise<number | null> => {
      const [{ id }] = await stack.db.query('SELECT IS_USED_LOCK(?) AS id', [lockName]);
      return id === null ? null : Number(id);
    };
    const lastSeen = async () =>
      Number(
        (
          await stack.db.query(
            'SELECT UNIX_TIMESTAMP(last_seen_at) * 1000 AS t FROM mod_mikrotikvpn_routers WHERE id = ?',
            [routerId],
          )
        )[0].t ?? 0,
      );
    await waitFor('first collection', async () => (await lastSeen()) > 0, 10_000);
    sim.faults.latencyMs = LATENCY_MS;

    // No traffic yet: the balances are settled whatever the collectors do.
    const start = new Map<number, bigint>();
    for (const a of list) start.set(a.serviceId, await accounts.balance(a.serviceId));
    let pushed = 0n;
    const flowing = setInterval(() => {
      for (const a of list) sim.pushTraffic(a.address, 1_000_003, 100_001);
      pushed += 1_100_004n * BigInt(list.length);
    }, 50);
    const takeovers: number[] = [];
    try {
      sim.clearCommandLog();
      for (let k = 0; k < kills; k++) {
        await sleep(1000);
        // Find the process holding the router's lock: MariaDB names the connection, /proc its process.
        let victim: TestServer | undefined;
        await waitFor(
          'a collector holding the lock',
          async () => {
            const id = await holder();
            if (id === null) return false;
            const rows = await stack.db.query(
              'SELECT HOST AS host FROM information_schema.PROCESSLIST WHERE ID = ?',
              [id],
            );
            if (!rows.length) return false;
            const port = Number(String(rows[0].host).split(':').pop());
            const pid = pidOwningLocalPort(
              port,
              servers.map((s) => s.process.pid!),
            );
            victim = servers.find((s) => s.process.pid === pid);
            return victim !== undefined;
          },
          20_000,
        );
        const seenBefore = await lastSeen();
        await victim!.stop('SIGKILL');
        const killedAt = Date.now();
        await waitFor('another process collected', async () => (await lastSeen()) > seenBefore, 30_000);
        takeovers.push(Date.now() - killedAt);
        servers[servers.indexOf(victim!)] = await startServer(stack.env);
        if (victim === stack.server) stack.server = servers[0];
      }
    } finally {
      clearInterval(flowing);
    }
    await sleep(2000 * INTERVAL_SECONDS + 4 * LATENCY_MS); // the last traffic gets collected
    let doubles = 0n;
    let lost = 0n;
    for (const a of list) {
      const debited = start.get(a.serviceId)! - (await accounts.balance(a.serviceId));
      if (debited > pushed / BigInt(list.length)) doubles += debited - pushed / BigInt(list.length);
      if (debited < pushed / BigInt(list.length)) lost += pushed / BigInt(list.length) - debited;
    }

    // Every print of the counters began after the previous one was answered: the runs never overlapped.
    const prints = sim.commandsFor('/queue/simple/print');
    let overlaps = 0;
    for (let i = 1; i < prints.length; i++) {
      if (
        prints[i].connectionId !== prints[i - 1].connectionId &&
        prints[i].at - prints[i - 1].at < LATENCY_MS - 5
      )
        overlaps++;
    }
    const connections = new Set(prints.map((p) => p.connectionId)).size;
    console.log(
      `      [figure] ${prints.length} collections by ${connections} router sessions of 3 processes; overlapping collectors: ${overlaps}; ` +
        `takeover after a SIGKILL of the lock holder: ${takeovers.join(', ')} ms (interval ${INTERVAL_SECONDS} s); ` +
        `pushed ${pushed} B, lost ${lost} B, counted twice ${doubles} B`,
    );
    expect(overlaps).to.equal(0);
    expect(connections, 'more than one process collected').to.be.greaterThan(1);
    for (const t of takeovers) expect(t).to.be.below(2 * INTERVAL_SECONDS * 1000 + LATENCY_MS * 4 + 2000);
    expect({ lost, doubles }).to.deep.equal({ lost: 0n, doubles: 0n });
  });
});
