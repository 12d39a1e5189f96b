import { randomBytes, randomInt } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
// Test equipment standing in for MikroTik routers: the RouterOS API simulator from test/simulator
// (compiled to dist/test/simulator), speaking the real wire protocol over TLS. The demo has no routers.
import type { SimulatedRouter } from '../../test/simulator/simulated-router';

/** The compiled simulator: in a clone after `npm run build`, not in the release package. */
export const SIMULATOR_JS = path.join(__dirname, '..', '..', 'test', 'simulator', 'simulated-router.js');

export function simulatorAvailable(): boolean {
  return fs.existsSync(SIMULATOR_JS);
}

export interface DemoRouter {
  sim: SimulatedRouter;
  username: string;
  password: string;
}

/** Starts `count` simulated RouterOS 7 routers with api-ssl on free loopback ports, each with its own API password. */
export async function startDemoRouters(count: number): Promise<DemoRouter[]> {
  // Loaded only here, so that the rest of the product never needs the test tree.
  const { startSimulatedRouter } = await import('../../test/simulator/simulated-router');
  const routers: DemoRouter[] = [];
  try {
    for (let i = 1; i <= count; i++) {
      const password = randomBytes(12).toString('base64url');
      const sim = await startSimulatedRouter({
        tls: true,
        identity: `demo-router-${i}`,
        version: '7.16.2',
        users: { api: password },
      });
      // What an admin does once per router before selling WireGuard.
      sim.state.addWireGuardInterface('wg-vpn', { listenPort: 13231 });
      routers.push({ sim, username: 'api', password });
    }
  } catch (error) {
    await Promise.all(routers.map((r) => r.sim.close()));
    throw error;
  }
  return routers;
}

/**
 * The customers: logs in every account's PPP client (as a user dialling in would) except the last on each
 * router, and the WireGuard client, then pushes a few megabytes through each online account's queue every `everyMs`, so the
 * collector has traffic to count.
 */
export function simulateCustomers(
  routers: Array<{ router: DemoRouter; usernames: string[] }>,
  wireGuard: { router: DemoRouter; publicKey: string } | null,
  everyMs = 2_000,
): { stop(): void } {
  const online: Array<{ sim: SimulatedRouter; name: string }> = [];
  for (const { router, usernames } of routers) {
    for (const name of usernames.slice(0, -1)) {
      router.sim.connect(name);
      online.push({ sim: router.sim, name });
    }
  }
  // The WireGuard client connects at once, like the PPP clients above.
  if (wireGuard) wireGuard.router.sim.state.wireGuardHandshake(wireGuard.publicKey);
  const timer = setInterval(() => {
    for (const { sim, name } of online) {
      const session = sim.state.findActive(name);
      if (!session) continue; // suspended or disconnected through the API meanwhile
      sim.state.pushTraffic(session.address, randomInt(1_000_000, 8_000_000), randomInt(100_000, 1_000_000));
    }
    // The WireGuard client handshakes (while its peer is enabled) and sends through its tunnel.
    if (wireGuard && wireGuard.router.sim.state.wireGuardHandshake(wireGuard.publicKey)) {
      wireGuard.router.sim.state.pushPeerTraffic(
        wireGuard.publicKey,
        randomInt(1_000_000, 8_000_000),
        randomInt(100_000, 1_000_000),
      );
    }
  }, everyMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
