import { execFile, spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';
import mysql from 'mysql2/promise';
import { createTestDatabase, testServerConfig, type TestDatabase } from '../helpers/test-db';
import { codeOf, gql } from '../helpers/test-server';
import { makeTempDir } from '../helpers/temp-dirs';
import { noteSecret } from '../helpers/suite-traffic';
import { WhmcsFixtures } from '../helpers/whmcs-fixtures';
import { startSimulatedRouter, type SimulatedRouter } from '../simulator/simulated-router';

const run = promisify(execFile);
const ROOT = path.join(__dirname, '..', '..', '..');
const GUIDE = fs.readFileSync(path.join(ROOT, 'docs', 'whmcs-setup.md'), 'utf8');
const UNIT = fs.readFileSync(path.join(ROOT, 'deploy', 'whmcs-mikrotik-vpn.service'), 'utf8');
const { version } = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
  version: string;
};

interface Block {
  lang: string;
  text: string;
}

/** Every fenced block of the guide, in order. */
function blocks(markdown: string): Block[] {
  return [...markdown.matchAll(/^( *)```(\S*)[^\n]*\n([\s\S]*?)^\1```$/gm)].map((m) => ({
    lang: m[2],
    // Blocks inside list items are indented: take the indentation off.
    text: m[3].replace(new RegExp(`^${m[1]}`, 'gm'), ''),
  }));
}

const shBlocks = () => blocks(GUIDE).filter((b) => b.lang === 'sh');
const isSystem = (b: Block) => b.text.startsWith('# system\n');

async function freePort(): Promise<number> {
  const probe = net.createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  const { port } = probe.address() as net.AddressInfo;
  await new Promise((r) => probe.close(r));
  return port;
}

/**
 * docs/whmcs-setup.md is run as written: its `sh` blocks, in order, as one bash script, from the
 * directory holding the release files built here, against a fresh WHMCS database. What the test
 * changes, and only that:
 *
 * - the values block gets this machine's values (the test database, its MariaDB, a new database
 *   user name, WHMCS in a temp dir, the zone MariaDB runs in); VERSION must already be the package's;
 * - `/opt/whmcs-mikrotik-vpn` and `/etc/whmcs-mikrotik-vpn` live under a temp dir, and port 4000 is
 *   a free port;
 * - `mariadb` is the test's MariaDB (host, port, user) instead of root's local socket;
 * - the `# system` blocks (users, owners, systemd) are skipped; the one that starts the unit is
 *   replaced by starting the server as deploy/whmcs-mikrotik-vpn.service says (its Environment=,
 *   EnvironmentFile=, WorkingDirectory= and ExecStart=).
 *
 * `npm install --omit=dev` runs for real (it needs the npm registry). Afterwards the module's
 * config.php holds a working admin key, and a router, an account and a collection work through the
 * server the guide installed, with the database user the guide created.
 */
describe('the setup guide (docs/whmcs-setup.md) runs as written', function () {
  this.timeout(600_000);

  it('marks its commands so that they can be run: one values block, one systemd start, nothing dev-only', () => {
    const sh = shBlocks();
    expect(sh.length).to.be.at.least(10);
    expect(sh.filter((b) => /^VERSION=/m.test(b.text))).to.have.length(1);
    expect(
      sh.filter((b) => isSystem(b) && /systemctl enable --now whmcs-mikrotik-vpn$/m.test(b.text)),
    ).to.have.length(1);
    // Root-only work is in the system blocks only.
    for (const b of sh.filter((x) => !isSystem(x)))
      expect(b.text, b.text).to.not.match(/\b(sudo|useradd|chown|systemctl)\b/);
    // The developers' commands are not an install path.
    for (const b of sh) expect(b.text, b.text).to.not.match(/\bnpm (start|ci|run|test)\b/);
    expect(GUIDE).to.include('NODE_ENV=production');
    expect(GUIDE).to.match(/^VERSION=(\S+)/m);
    expect(/^VERSION=(\S+)/m.exec(GUIDE)![1], 'VERSION in the guide').to.equal(version);
    // The guide travels in the module zip alone: no links into the repository.
    expect([...GUIDE.matchAll(/\]\((?!https?:|#)([^)]+)\)/g)].map((m) => m[1])).to.deep.equal([]);
  });

  it('says the same about the router API group in its text and its command', () => {
    const text = /API user whose group has exactly the (.*?) policies/s.exec(GUIDE)![1];
    const named = [...text.matchAll(/`(\w+)`/g)].map((m) => m[1]).sort();
    const command = /\/user group add name=\S+ policy=(\S+)/.exec(GUIDE)![1].split(',').sort();
    expect(command).to.deep.equal(named);
    expect(command).to.deep.equal(['api', 'read', 'write']);
  });

  describe('from the release files to a working service', () => {
    let tdb: TestDatabase;
    let tmp: string;
    let out: string;
    let port: number;
    let dbUser: string;
    let sim: SimulatedRouter | undefined;
    let script = '';
    let result: { code: number; output: string };

    before(async () => {
      tmp = makeTempDir('mvpn-guide-');
      out = path.join(tmp, 'download');
      fs.mkdirSync(out);
      await run(process.execPath, [path.join(ROOT, 'dist', 'scripts', 'release.js'), '--out', out], {
        cwd: ROOT,
      });
      tdb = await createTestDatabase({ migrate: false });
      port = await freePort();
      dbUser = `mvpn_g${crypto.randomBytes(3).toString('hex')}`;
      const db = testServerConfig();
      const local = db.host === '127.0.0.1' || db.host === 'localhost';
      const [{ offsetMinutes }] = await tdb.dataSource.query(
        'SELECT TIMESTAMPDIFF(MINUTE, UTC_TIMESTAMP(), NOW()) AS offsetMinutes',
      );
      const hours = Number(offsetMinutes) / 60;
      const zone = hours === 0 ? 'UTC' : `Etc/GMT${hours > 0 ? '-' : '+'}${Math.abs(hours)}`;
      const values: Record<string, string> = {
        WHMCS_ROOT: path.join(tmp, 'whmcs'),
        WHMCS_DB: tdb.config.database,
        DB_HOST: db.host,
        DB_PORT: String(db.port),
        WHMCS_TIME_ZONE: zone,
        MVPN_DB_USER: dbUser,
        MVPN_DB_FROM: local ? '127.0.0.1' : '%',
      };
      fs.mkdirSync(values.WHMCS_ROOT);

      const serverStart = () => {
        const env = [...UNIT.matchAll(/^Environment=(\S+)$/gm)].map((m) => m[1]);
        const envFile = /^EnvironmentFile=(\S+)$/m.exec(UNIT)![1];
        const workDir = /^WorkingDirectory=(\S+)$/m.exec(UNIT)![1];
        const exec = /^ExecStart=(\S+)(.*)$/m.exec(UNIT)!;
        const node = fs.existsSync(exec[1]) ? exec[1] : process.execPath;
        return [
          '# (test) systemctl enable --now whmcs-mikrotik-vpn: start the server as the unit does',
          `( export ${env.join(' ')}; set -a; . ${envFile}; set +a; cd ${workDir} && exec ${node}${exec[2]} ) >> "${tmp}/server.log" 2>&1 &`,
          `echo $! > "${tmp}/server.pid"`,
        ].join('\n');
      };

      const parts: string[] = [
        'set -euo pipefail',
        `cd ${JSON.stringify(out)}`,
        // The test's MariaDB instead of root's local socket.
        `mariadb() { command mariadb --protocol=tcp -h ${db.host} -P ${db.port} -u ${db.user} "$@"; }`,
      ];
      for (const block of shBlocks()) {
        if (isSystem(block)) {
          if (/systemctl enable --now/.test(block.text)) parts.push(serverStart());
          continue;
        }
        let text = block.text;
        if (/^VERSION=/m.test(text)) {
          for (const [name, value] of Object.entries(values)) {
            expect(text, name).to.match(new RegExp(`^${name}=`, 'm'));
            text = text.replace(new RegExp(`^${name}=\\S*`, 'm'), `${name}=${value}`);
          }
        }
        parts.push(text);
      }
      script = parts
        .join('\n')
        .replaceAll('/opt/whmcs-mikrotik-vpn', `${tmp}/opt/whmcs-mikrotik-vpn`)
        .replaceAll('/etc/whmcs-mikrotik-vpn', `${tmp}/etc/whmcs-mikrotik-vpn`)
        .replaceAll('127.0.0.1:4000', `127.0.0.1:${port}`)
        .replaceAll('PORT=4000', `PORT=${port}`);
      // The unit's own paths too (EnvironmentFile=, WorkingDirectory=) were taken from the unit above.
      fs.mkdirSync(path.join(tmp, 'etc'));
      fs.mkdirSync(path.join(tmp, 'opt'));
      fs.writeFileSync(path.join(tmp, 'guide.sh'), script);

      result = await new Promise((resolve) => {
        const child = spawn('bash', [path.join(tmp, 'guide.sh')], {
          env: {
            PATH: process.env.PATH ?? '',
            HOME: process.env.HOME ?? tmp,
            ...(db.password ? { MYSQL_PWD: db.password } : {}),
          },
        });
        let output = '';
        child.stdout.on('data', (c: Buffer) => (output += c.toString()));
        child.stderr.on('data', (c: Buffer) => (output += c.toString()));
        child.on('exit', (code) => resolve({ code: code ?? 1, output }));
      });
    });

    after(async () => {
      const pidFile = path.join(tmp, 'server.pid');
      if (fs.existsSync(pidFile)) {
        const pid = Number(fs.readFileSync(pidFile, 'utf8'));
        try {
          process.kill(pid, 'SIGTERM');
          for (let i = 0; i < 100; i++) {
            process.kill(pid, 0);
            await new Promise((r) => setTimeout(r, 100));
          }
        } catch {
          // gone
        }
      }
      await sim?.close();
      const admin = await mysql.createConnection(testServerConfig());
      for (const host of ['127.0.0.1', '%']) await admin.query(`DROP USER IF EXISTS '${dbUser}'@'${host}'`);
      await admin.end();
      await tdb?.drop();
    });

    const serverLog = () => {
      const file = path.join(tmp, 'server.log');
      return fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
    };

    it('every command succeeds', () => {
      expect(result.code, `${result.output}\n--- server log ---\n${serverLog()}`).to.equal(0);
      // What the guide says each step prints.
      expect(result.output).to.include('{"status":"ok","database":"up"}');
      expect(result.output).to.match(/no problems/);
      expect(result.output).to.include('{"data":{"vpnAccounts":{"nodes":[]}}}');
      expect(result.output).to.match(/^collected 0 accounts/m);
    });

    it('runs the server in production, on the database user and time zone the guide set', () => {
      const listening = serverLog()
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as { msg: string; env?: string; port?: number })
        .find((l) => l.msg === 'listening');
      expect(listening).to.deep.include({ env: 'production', port });
      const env = fs.readFileSync(path.join(tmp, 'etc', 'whmcs-mikrotik-vpn', 'env'), 'utf8');
      expect(env).to.match(new RegExp(`^DATABASE_URL=mysql://${dbUser}:[0-9a-f]{48}@`, 'm'));
      expect(env).to.match(/^WHMCS_TIME_ZONE=\S+$/m);
      expect(fs.statSync(path.join(tmp, 'etc', 'whmcs-mikrotik-vpn', 'keys')).mode & 0o777).to.equal(0o400);
      expect(fs.realpathSync(path.join(tmp, 'opt', 'whmcs-mikrotik-vpn'))).to.equal(
        path.join(tmp, 'opt', `whmcs-mikrotik-vpn-${version}`),
      );
    });

    it('leaves the module installed with a config.php holding a working admin key; a router, an account and a collection work', async () => {
      const moduleDir = path.join(tmp, 'whmcs', 'modules', 'servers', 'mikrotikvpn');
      for (const file of ['mikrotikvpn.php', 'INSTALL.txt', 'docs/whmcs-setup.md'])
        expect(fs.existsSync(path.join(moduleDir, file)), file).to.equal(true);
      const config = path.join(moduleDir, 'config.php');
      expect(fs.statSync(config).mode & 0o777).to.equal(0o640);
      const { stdout: key } = await run('php', ['-r', 'echo (include $argv[1])["api_key"];', config]);
      expect(key).to.match(/^mvpn_/);
      noteSecret(key);
      const url = `http://127.0.0.1:${port}`;
      const call = (q: string, v: Record<string, unknown> = {}) => gql(url, q, v, key);

      // Production: no introspection for anyone.
      expect(codeOf(await call('{ __schema { queryType { name } } }'))).to.equal('VALIDATION');

      sim = await startSimulatedRouter({ tls: true, users: { api: 'router-pass' } });
      const whmcs = new WhmcsFixtures(tdb.dataSource);
      const serverId = await whmcs.server({ name: 'Router 1', assignedips: ['10.9.0.2', '10.9.0.3'] });
      const productId = await whmcs.product({ settings: { trafficMonthlyGb: '10' } });
      const client = await whmcs.client();
      const serviceId = await whmcs.service({ userid: client, packageid: productId, server: serverId });
      const router = await call(`mutation($i: RouterInput!) { upsertRouter(input: $i) { id } }`, {
        i: {
          serverId,
          host: '127.0.0.1',
          port: sim.port,
          tls: true,
          username: 'api',
          password: 'router-pass',
          caPem: sim.caPem,
        },
      });
      expect(router.errors, JSON.stringify(router.errors)).to.equal(undefined);
      const created = await call(
        `mutation($i: CreateVpnAccountInput!) { createVpnAccount(input: $i) { status address } }`,
        { i: { serviceId, serverId, productId, password: 'Passw0rd!', billingCycle: 'Monthly' } },
      );
      expect(created.errors, JSON.stringify(created.errors)).to.equal(undefined);
      expect(created.data!.createVpnAccount).to.deep.equal({ status: 'ACTIVE', address: '10.9.0.2' });
      const collected = await call(`mutation { collectTraffic { accountsCollected } }`);
      expect(collected.errors, JSON.stringify(collected.errors)).to.equal(undefined);
      expect(collected.data!.collectTraffic.accountsCollected).to.equal(1);
    });
  });
});
