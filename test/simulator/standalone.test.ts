import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { expect } from 'chai';
import { RouterGateway, RouterSessionPool } from '../../src/router';

const MAIN = path.join(__dirname, 'main.js');

interface Announcement {
  host: string;
  username: string;
  password: string;
  caPemPath: string | null;
  routers: Array<{ identity: string; port: number; tlsPort: number | null }>;
}

/** The standalone simulator (`npm run simulator`), as benchmarks and other processes use it. */
describe('simulator as a standalone process', function () {
  this.timeout(20_000);
  let child: ChildProcess;
  let info: Announcement;

  before(async () => {
    // Port 0: every router takes a free port (a fixed or random base could collide with a busy one).
    child = spawn(
      process.execPath,
      [MAIN, '--port', '0', '--tls-port', '0', '--routers', '2', '--accounts', '3'],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const lines = readline.createInterface({ input: child.stdout! });
    info = await new Promise<Announcement>((resolve, reject) => {
      lines.once('line', (line) => resolve(JSON.parse(line) as Announcement));
      child.once('exit', (code) => reject(new Error(`simulator exited with ${code}`)));
    });
  });

  after(async () => {
    if (child.exitCode === null) {
      child.kill('SIGTERM');
      await new Promise((resolve) => child.once('exit', resolve));
    }
  });

  it('announces its routers and serves the adapter over TCP and TLS, then stops on SIGTERM', async () => {
    expect(info.routers.map((r) => r.identity)).to.deep.equal(['sim-router-0', 'sim-router-1']);
    const pool = new RouterSessionPool();
    const gateway = new RouterGateway(pool);
    try {
      const caPem = fs.readFileSync(info.caPemPath!, 'utf8');
      for (const [i, router] of info.routers.entries()) {
        const base = { host: info.host, username: info.username, password: info.password, timeoutMs: 3000 };
        const plain = { ...base, id: `plain-${i}`, port: router.port, tls: false };
        const secure = { ...base, id: `tls-${i}`, port: router.tlsPort!, tls: true, caPem };
        expect(await gateway.identity(plain)).to.equal(router.identity);
        expect(await gateway.identity(secure)).to.equal(router.identity);
        const counters = await gateway.readQueueCounters(secure);
        expect(counters.map((c) => c.name)).to.deep.equal(['vpn00001', 'vpn00002', 'vpn00003']);
        expect(await gateway.sessionsOf(secure, 'nobody')).to.deep.equal([]);
      }
    } finally {
      await pool.closeAll();
    }
    child.kill('SIGTERM');
    const code = await new Promise((resolve) => child.once('exit', resolve));
    expect(code).to.equal(0);
    if (info.caPemPath) expect(fs.existsSync(info.caPemPath)).to.equal(false);
  });
});
