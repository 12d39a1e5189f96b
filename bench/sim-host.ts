import { parseArgs } from 'node:util';
import { startSimulatedRouter, type SimulatedRouter } from '../test/simulator/simulated-router';

/**
 * Simulated routers for the benchmarks, in their own process so the collector's memory is measured
 * alone. Router r holds accounts `vpn-<index>` for indexes `base + r * accounts ...`, each with
 * traffic on its queue. Prints one JSON line: [{ port, username, password, firstIndex }].
 */
async function main() {
  const { values } = parseArgs({
    options: {
      routers: { type: 'string', default: '1' },
      accounts: { type: 'string', default: '100' },
      'latency-ms': { type: 'string', default: '0' },
      base: { type: 'string', default: '100000' },
      'connected-share': { type: 'string', default: '0' },
      'wireguard-share': { type: 'string', default: '0' },
    },
  });
  const routers = Number(values.routers);
  const accounts = Number(values.accounts);
  const base = Number(values.base);
  const sims: SimulatedRouter[] = [];
  for (let r = 0; r < routers; r++) {
    sims.push(
      await startSimulatedRouter({
        users: { api: 'bench' },
        latencyMs: Number(values['latency-ms']),
        accounts,
        seed: {
          namePrefix: 'vpn-',
          firstIndex: base + r * accounts,
          withTraffic: true,
          connectedShare: Number(values['connected-share']),
          wireGuardShare: Number(values['wireguard-share']),
        },
      }),
    );
  }
  const stop = async () => {
    await Promise.all(sims.map((s) => s.close()));
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop());
  process.once('SIGINT', () => void stop());
  process.on('message', (message: { cmd: string }) => {
    // Commands and connections each router saw, so the bench can count round trips.
    if (message.cmd === 'stats') {
      process.send!(
        sims.map((s) => ({
          commands: s.commandLog.filter((c) => c.path !== '/login').length,
          logins: s.commandLog.filter((c) => c.path === '/login').length,
          connections: s.connectionsAccepted,
        })),
      );
    } else if (message.cmd === 'traffic') {
      // An interval's traffic on every queue: the next collection has a delta for every account.
      for (const [r, s] of sims.entries())
        for (let i = 0; i < accounts; i++)
          s.pushTraffic(`vpn-${base + r * accounts + i}`, 1_000_000, 100_000);
      process.send!('traffic');
    } else if (message.cmd === 'clear') {
      for (const s of sims) s.clearCommandLog();
      process.send!('cleared');
    }
  });
  console.log(
    JSON.stringify(
      sims.map((s, r) => ({
        port: s.port,
        username: 'api',
        password: 'bench',
        firstIndex: base + r * accounts,
      })),
    ),
  );
}

void main();
