import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { startStack, type Stack } from '../helpers/stack';
import { startSimulatedRouter, type SimulatedRouter } from '../simulator/simulated-router';
import type { ConnectOptions } from '../simulator/router-state';

/**
 * The PHP bridge (php-bridge/modules/servers/mikrotikvpn) under real php-cli and PHPUnit, against
 * the real server process, MariaDB and a simulated RouterOS router over api-ssl. The PHPUnit suite
 * lives in test/bridge/php; this file sets up the stack, gives PHP a small loopback control endpoint
 * for the simulator (connect a client, a second login of it too, push traffic, add a profile or a
 * WireGuard interface, make a WireGuard client handshake), and fails when PHPUnit fails.
 *
 * PHPUnit runs with an asynchronous spawn, not spawnSync: the simulated router lives in this
 * process and must keep answering while PHP talks to the server.
 */

const ROOT = path.join(__dirname, '..', '..', '..');
const PHPUNIT_CONFIG = path.join(ROOT, 'test', 'bridge', 'php', 'phpunit.xml');

function readBody(req: http.IncomingMessage): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    let text = '';
    req.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
    req.on('end', () => {
      try {
        resolve(text ? (JSON.parse(text) as Record<string, unknown>) : {});
      } catch (error) {
        reject(error as Error);
      }
    });
    req.on('error', reject);
  });
}

/** Test equipment: lets the PHP tests act as the outside world of the simulated router. */
function startControl(sim: SimulatedRouter): Promise<http.Server> {
  const json = (value: unknown) =>
    JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
  const server = http.createServer((req, res) => {
    void (async () => {
      try {
        const body = await readBody(req);
        const name = String(body.name ?? '');
        let result: unknown;
        switch (req.url) {
          case '/info':
            result = {
              port: sim.port,
              caPem: sim.caPem,
              fingerprintSha256: sim.fingerprintSha256,
              ...sim.credentials,
            };
            break;
          case '/connect': {
            // A PPP client logs in: its protocol, where it comes from, a second login of a user who
            // is connected already, and how long it has been up when the collector first sees it.
            const options: ConnectOptions = {};
            if (body.service) options.service = String(body.service);
            if (body.callerId) options.callerId = String(body.callerId);
            if (body.another) options.another = true;
            const row = sim.connect(name, options);
            if (body.upSeconds) row.connectedAt -= Number(body.upSeconds) * 1000;
            result = row;
            break;
          }
          case '/disconnect':
            result = sim.disconnect(name);
            break;
          case '/disconnect-all': {
            // Every session of a user (a second login included): how many ended.
            let ended = 0;
            while (sim.state.findActive(name) && sim.disconnect(name)) ended++;
            result = ended;
            break;
          }
          case '/traffic':
            result = sim.pushTraffic(
              String(body.target),
              BigInt(String(body.download)),
              BigInt(String(body.upload)),
            );
            break;
          case '/profile':
            if (!sim.state.findProfile(name)) {
              sim.state.profiles.insert({
                id: sim.state.profiles.allocateId(),
                name,
                localAddress: '10.90.0.1',
                remoteAddress: '',
                rateLimit: '',
                onlyOne: 'default',
                useEncryption: 'yes',
                changeTcpMss: 'default',
                comment: '',
                builtin: false,
              });
            }
            result = true;
            break;
          case '/secret':
            result = sim.state.findSecret(name) ?? null;
            break;
          case '/active':
            result = sim.state.findActive(name) ?? null;
            break;
          case '/wg-interface': {
            // What an admin does on the router; asking again for the same name is harmless.
            const row =
              sim.state.findWgInterface(name) ??
              sim.state.addWireGuardInterface(
                name,
                body.listenPort === undefined ? {} : { listenPort: Number(body.listenPort) },
              );
            result = { name: row.name, listenPort: row.listenPort, publicKey: row.publicKey };
            break;
          }
          case '/wg-handshake':
            result = sim.state.wireGuardHandshake(String(body.publicKey));
            break;
          case '/wg-peer':
            result = sim.state.findPeerByPublicKey(String(body.publicKey)) ?? null;
            break;
          default:
            res.writeHead(404).end('{}');
            return;
        }
        res.writeHead(200, { 'content-type': 'application/json' }).end(json({ result }));
      } catch (error) {
        res
          .writeHead(500, { 'content-type': 'application/json' })
          .end(json({ error: (error as Error).message }));
      }
    })();
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

function runPhpUnit(env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('phpunit', ['--configuration', PHPUNIT_CONFIG, '--colors=never'], {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
  });
}

describe('PHP bridge: the WHMCS module under php-cli and PHPUnit (server process + MariaDB + simulator)', function () {
  this.timeout(600_000);
  let stack: Stack;
  let sim: SimulatedRouter;
  let control: http.Server;
  let workDir: string;

  before(async function () {
    const probe = await new Promise<boolean>((resolve) => {
      const child = spawn('phpunit', ['--version'], { stdio: 'ignore' });
      child.on('error', () => resolve(false));
      child.on('close', (code) => resolve(code === 0));
    });
    if (!probe)
      throw new Error('phpunit is not installed: run `bash scripts/ensure-php.sh` (as root or with sudo)');
    stack = await startStack();
    sim = await startSimulatedRouter({ tls: true, users: { api: 'router-pass' } });
    control = await startControl(sim);
    workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mvpn-bridge-'));
  });

  after(async () => {
    await new Promise<void>((resolve) => (control ? control.close(() => resolve()) : resolve()));
    await sim?.close();
    await stack?.stop();
    if (workDir) fs.rmSync(workDir, { recursive: true, force: true });
  });

  it('passes the PHPUnit suite (every module function and hook, templates, languages, php -l)', async () => {
    const db = stack.tdb.config;
    const { code, output } = await runPhpUnit({
      BRIDGE_GRAPHQL_URL: `${stack.server.url}/graphql`,
      BRIDGE_API_KEY: stack.admin,
      BRIDGE_DB_DSN: `mysql:host=${db.host};port=${db.port};dbname=${db.database};charset=utf8mb4`,
      BRIDGE_DB_USER: db.user,
      BRIDGE_DB_PASSWORD: db.password ?? '',
      BRIDGE_SIM_CONTROL: `http://127.0.0.1:${(control.address() as AddressInfo).port}`,
      BRIDGE_SIM_PORT: String(sim.port),
      BRIDGE_WORK_DIR: workDir,
    });
    console.log(output.replace(/^/gm, '      '));
    if (code !== 0) {
      // The server's own errors explain what PHP saw as "failed unexpectedly".
      const errors = stack.server.output.filter((line) => /"level":(50|60)/.test(line));
      if (errors.length) console.log(`      server errors:\n${errors.join('\n').replace(/^/gm, '        ')}`);
    }
    expect(code, 'PHPUnit failed: see its output above').to.equal(0);
  });
});
