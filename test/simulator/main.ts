import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { type SimulatedRouter, startSimulatedRouter } from './simulated-router';
import { sharedTestPki } from './test-pki';

/**
 * Standalone simulator for benchmarks and the PHP bridge tests:
 *
 *   node dist/test/simulator/main.js --port 18728 [--tls-port 18729] --routers N --accounts M
 *        [--latency-ms X] [--host 127.0.0.1] [--version 7.16.2] [--connected-share 0.5]
 *        [--wireguard-share 0.25] [--username api] [--password …]
 *
 * Router i (0-based) listens on port+i (and tls-port+i); port 0 gives each router a free port. One JSON line on stdout tells clients the
 * ports, credentials, CA file and fingerprint; SIGTERM/SIGINT stop it cleanly.
 */
async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: '18728' },
      'tls-port': { type: 'string' },
      routers: { type: 'string', default: '1' },
      accounts: { type: 'string', default: '0' },
      'latency-ms': { type: 'string', default: '0' },
      host: { type: 'string', default: '127.0.0.1' },
      version: { type: 'string', default: '7.16.2' },
      'connected-share': { type: 'string', default: '0' },
      'wireguard-share': { type: 'string', default: '0' },
      username: { type: 'string', default: 'api' },
      password: { type: 'string' },
    },
  });
  const routerCount = Number(values.routers);
  const port = Number(values.port);
  const tlsPort = values['tls-port'] === undefined ? null : Number(values['tls-port']);
  const username = values.username!;
  const password = values.password ?? randomBytes(12).toString('hex');
  const pki = tlsPort === null ? null : sharedTestPki();

  let caPemPath: string | null = null;
  let tempDir: string | null = null;
  if (pki) {
    tempDir = mkdtempSync(path.join(tmpdir(), 'routeros-sim-'));
    caPemPath = path.join(tempDir, 'ca.pem');
    writeFileSync(caPemPath, pki.caPem);
  }

  const routers: SimulatedRouter[] = [];
  const stop = async (code: number) => {
    await Promise.all(routers.map((router) => router.close()));
    if (tempDir) rmSync(tempDir, { recursive: true, force: true });
    process.exit(code);
  };
  process.once('SIGTERM', () => void stop(0));
  process.once('SIGINT', () => void stop(0));

  try {
    for (let i = 0; i < routerCount; i++) {
      // Port 0: each router takes a free port of its own (announced below).
      const listeners = [{ tls: false, port: port && port + i }];
      if (tlsPort !== null) listeners.push({ tls: true, port: tlsPort && tlsPort + i });
      routers.push(
        await startSimulatedRouter({
          host: values.host,
          listeners,
          pki: pki ?? undefined,
          users: { [username]: password },
          version: values.version,
          identity: `sim-router-${i}`,
          latencyMs: Number(values['latency-ms']),
          accounts: Number(values.accounts),
          seed: {
            connectedShare: Number(values['connected-share']),
            wireGuardShare: Number(values['wireguard-share']),
          },
        }),
      );
    }
  } catch (error) {
    console.error(`simulator failed to start: ${(error as Error).message}`);
    await stop(1);
    return;
  }

  console.log(
    JSON.stringify({
      host: values.host,
      username,
      password,
      caPemPath,
      fingerprintSha256: pki?.fingerprintSha256 ?? null,
      routers: routers.map((router, index) => ({
        index,
        identity: router.state.identity,
        port: router.ports.plain,
        tlsPort: router.ports.tls,
      })),
      accounts: {
        perRouter: Number(values.accounts),
        name: 'vpn<5-digit index from 00001>',
        password: 'pw-<index>',
        address: '10.64.0.0 + index',
        queueName: 'same as the name',
        wireGuard:
          'the last --wireguard-share of each router: a peer on wg-vpn (allowed-address = address/32), ' +
          'no PPP secret, public key base64(sha256(name))',
      },
    }),
  );
}

void main();
