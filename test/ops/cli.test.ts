import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { startStack, type Stack } from '../helpers/stack';
import { gql, makeKeyFile } from '../helpers/test-server';
import { runCli, runCliInTerminal } from '../helpers/cli';
import { makeTempDir } from '../helpers/temp-dirs';
import { createTestDatabase } from '../helpers/test-db';
import { generateKeyLine, SecretBox } from '../../src/auth/secret-box';
import { loadEncryptionKeys } from '../../src/config/app-config';
import { startSimulatedRouter, type SimulatedRouter } from '../simulator/simulated-router';

const REPO_ROOT = path.join(__dirname, '..', '..', '..');
const UPSERT = `mutation($input: RouterInput!) { upsertRouter(input: $input) { id } }`;

describe('CLI: progress of long commands, and doctor (real CLI process + MariaDB + simulated routers)', function () {
  let stack: Stack;
  let serverId: number;
  let routerId: string;
  let client: number;
  let productId: number;
  /** The environment of the CLI: the server's, with WHMCS_TIME_ZONE set to MariaDB's own offset. */
  let env: Record<string, string>;
  let zone: string;
  const extraSims: SimulatedRouter[] = [];

  before(async () => {
    stack = await startStack();
    let sim: SimulatedRouter;
    ({ sim, serverId, routerId } = await stack.addRouter({
      assignedips: Array.from({ length: 10 }, (_, i) => `10.80.0.${i + 2}`),
    }));
    sim.state.bootTime = Date.now() - 3_600_000;
    client = await stack.whmcs.client();
    productId = await stack.whmcs.product({ name: 'VPN', settings: { trafficMonthlyGb: '5' } });
    for (const id of [9101, 9102, 9103]) {
      await stack.whmcs.service({ id, userid: client, packageid: productId, server: serverId });
      const r = await gql(
        stack.server.url,
        `mutation($i: CreateVpnAccountInput!) { createVpnAccount(input: $i) { status } }`,
        {
          i: {
            serviceId: id,
            serverId,
            productId,
            username: `cli${id}`,
            password: 'Passw0rd!',
            billingCycle: 'Monthly',
          },
        },
        stack.admin,
      );
      expect(r.errors).to.equal(undefined);
    }
    // Agree with whatever zone this MariaDB runs in, so the healthy case is healthy on any machine.
    const [{ offsetMinutes }] = await stack.db.query(
      'SELECT TIMESTAMPDIFF(MINUTE, UTC_TIMESTAMP(), NOW()) AS offsetMinutes',
    );
    const hours = Number(offsetMinutes) / 60;
    zone = hours === 0 ? 'UTC' : `Etc/GMT${hours > 0 ? '-' : '+'}${Math.abs(hours)}`;
    env = { ...stack.env, WHMCS_TIME_ZONE: zone, TZ: zone };
  });
  after(async () => {
    await Promise.all(extraSims.map((s) => s.close()));
    await stack?.stop();
  });

  it('collect prints a plain line per router when not in a terminal', async () => {
    const out = await runCli(['collect'], env);
    expect(out.code, out.stderr).to.equal(0);
    const lines = out.stdout.trim().split('\n');
    expect(lines[0]).to.match(new RegExp(`^router ${routerId}\\tok\\taccounts 3\\tsamples \\d+\\t\\d+ ms$`));
    expect(lines[1]).to.match(/^collected 3 accounts, \d+ samples, limited 0, in \d+ ms$/);
    expect(out.stdout + out.stderr).not.to.include('\r');
    expect(out.stdout + out.stderr).not.to.include('\x1b[');
  });

  it('runs as `npx whmcs-mikrotik-vpn` through the package bin, as the README shows', async () => {
    const out = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) =>
      execFile(
        'npx',
        ['--no-install', 'whmcs-mikrotik-vpn', 'apikey', 'list'],
        { cwd: REPO_ROOT, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env } },
        (error, stdout, stderr) => resolve({ code: error ? 1 : 0, stdout, stderr }),
      ),
    );
    expect(out.code, out.stderr).to.equal(0);
    // startStack created the admin key the tests use; the list names it, never the key itself.
    expect(out.stdout).to.match(/\tadmin\t/);
    expect(out.stdout).not.to.include(stack.admin);
  });

  it('collect, reconcile and rotate-key draw one updating progress line in a terminal', async () => {
    const collect = await runCliInTerminal(['collect'], env);
    expect(collect.code, collect.output).to.equal(0);
    expect(collect.output).to.include('\x1b[2K');
    expect(collect.output).to.match(/routers 0\/1 · accounts 0 · \d+\.\d s/);
    expect(collect.output).to.match(/routers 1\/1 · accounts 3 · \d+\.\d s/);
    expect(collect.output).to.match(/collected 3 accounts/);

    const reconcile = await runCliInTerminal(['reconcile'], env);
    expect(reconcile.code, reconcile.output).to.equal(0);
    expect(reconcile.output).to.match(/routers 1\/1 · accounts 3 · \d+\.\d s/);
    expect(reconcile.output).to.include('checked 3 accounts on 1 routers; repaired 0');

    const rotate = await runCliInTerminal(['rotate-key'], env);
    expect(rotate.code, rotate.output).to.equal(0);
    expect(rotate.output).to.include('every credential is under the active key');
  });

  it('doctor passes a healthy installation: database, migrations, keys, router login and pin, time zones', async () => {
    const out = await runCli(['doctor', '--whmcs-time-zone', zone], env);
    expect(out.code, out.stdout + out.stderr).to.equal(0);
    expect(out.stdout).to.match(/^ok {4}database: .* answers/m);
    expect(out.stdout).to.match(/^ok {4}migrations: all \d+ applied$/m);
    expect(out.stdout).to.match(
      /^ok {4}encryption: 1 router credential\(s\), all under the active key test1$/m,
    );
    expect(out.stdout).to.match(
      new RegExp(
        `^ok {4}router ${routerId} "Router 1" 127\\.0\\.0\\.1:\\d+: logged in to .* \\(RouterOS 7.*\\), TLS, CA pinned$`,
        'm',
      ),
    );
    expect(out.stdout).to.match(
      new RegExp(`^ok {4}time zone: WHMCS and WHMCS_TIME_ZONE are both ${zone}$`, 'm'),
    );
    expect(out.stdout).to.match(/^ok {4}time zone: MariaDB runs in /m);
    expect(out.stdout).not.to.match(/^FAIL/m);
    expect(out.stdout.trim().split('\n').pop()).to.match(/^no problems/);
    expect(out.stdout).not.to.include('router-pass');
  });

  it("doctor warns when the usage page's direct-mode browser URL is loopback or does not answer", async () => {
    const clientArea = (stdout: string) => stdout.split('\n').filter((l) => l.includes('client area:'));
    for (const url of [
      'http://127.0.0.1:4000/graphql',
      'http://localhost:4001/graphql',
      'http://[::1]:4001/graphql',
    ]) {
      const out = await runCli(['doctor', '--whmcs-time-zone', zone, '--browser-url', url], env);
      expect(out.code, out.stdout + out.stderr).to.equal(0); // a warning, not a failure
      expect(clientArea(out.stdout)).to.deep.equal([
        `warn  client area: direct mode: the browser URL ${url} is a loopback address; no customer's browser reaches it — fix: publish CLIENT_PORT through the web server (docs/whmcs-setup.md, "Direct mode") and set browser_graphql_url to that public URL, or remove client_area_mode from config.php so the page goes through WHMCS`,
      ]);
    }
    const gone = await runCli(
      ['doctor', '--whmcs-time-zone', zone, '--browser-url', 'http://nothing-here.invalid/graphql'],
      env,
    );
    expect(clientArea(gone.stdout)[0]).to.match(
      /^warn {2}client area: direct mode: the browser URL http:\/\/nothing-here\.invalid\/graphql does not answer from here — fix: /,
    );

    // Read from the module's config.php: the default (proxy) mode is fine; direct mode on loopback is not.
    const dir = makeTempDir('mvpn-doctor-');
    const write = (name: string, values: Record<string, string>) => {
      const file = path.join(dir, name);
      fs.writeFileSync(
        file,
        `<?php return ${JSON.stringify(values).replace(/^\{/, '[').replace(/\}$/, ']').replace(/":/g, '" =>')};\n`,
      );
      return file;
    };
    const key = 'mvpn_secret-admin-key-in-config';
    const proxy = write('proxy.php', { graphql_url: 'http://127.0.0.1:4000/graphql', api_key: key });
    const direct = write('direct.php', {
      graphql_url: 'http://127.0.0.1:4000/graphql',
      api_key: key,
      client_area_mode: 'direct',
    });
    const viaProxy = await runCli(['doctor', '--whmcs-time-zone', zone, '--module-config', proxy], env);
    expect(clientArea(viaProxy.stdout)).to.deep.equal([
      "ok    client area: the usage page goes through WHMCS (proxy mode): customers' browsers never call this server",
    ]);
    const viaDirect = await runCli(['doctor', '--whmcs-time-zone', zone, '--module-config', direct], env);
    // browser_graphql_url empty: the page would use graphql_url, a loopback address.
    expect(clientArea(viaDirect.stdout)[0]).to.match(
      /^warn {2}client area: direct mode: the browser URL http:\/\/127\.0\.0\.1:4000\/graphql is a loopback address/,
    );
    expect(viaProxy.stdout + viaDirect.stdout).not.to.include(key);
  });

  it('doctor names each problem and what to fix, and fails: unreachable router, wrong TLS pin, time zone disagreement', async () => {
    // A router whose pinned fingerprint is not its certificate's.
    const pinned = await startSimulatedRouter({ tls: true, users: { api: 'router-pass' } });
    extraSims.push(pinned);
    const pinnedServer = await stack.whmcs.server({ name: 'Wrong pin' });
    const wrongPin = await gql(
      stack.server.url,
      UPSERT,
      {
        input: {
          serverId: pinnedServer,
          host: '127.0.0.1',
          port: pinned.port,
          tls: true,
          username: 'api',
          password: 'router-pass',
          fingerprintSha256: 'AB'.repeat(32),
        },
      },
      stack.admin,
    );
    expect(wrongPin.errors).to.equal(undefined);
    // A router that is switched off.
    const gone = await stack.addRouter({ assignedips: ['10.81.0.2'] });
    await gone.sim.close();
    // A PPP profile with a rate-limit on the healthy router: its dynamic queues would take the
    // traffic of accounts using it. A warning (no product uses it yet), not a failure.
    stack.routers[0].state.profiles.insert({
      id: '*9',
      name: 'capped',
      localAddress: '10.80.0.1',
      remoteAddress: '',
      rateLimit: '10M/10M',
      onlyOne: 'default',
      useEncryption: 'yes',
      changeTcpMss: 'default',
      comment: '',
      builtin: false,
    });

    const out = await runCli(
      ['doctor', '--whmcs-time-zone', zone === 'Asia/Tokyo' ? 'UTC' : 'Asia/Tokyo'],
      env,
    );
    expect(out.code).to.equal(1);
    const fails = out.stdout.split('\n').filter((l) => l.startsWith('FAIL'));
    expect(fails.join('\n')).to.match(/router \d+ "Wrong pin" .*ROUTER_TLS_FAILED — fix: .*certificate/);
    expect(fails.join('\n')).to.match(
      new RegExp(
        `router ${gone.routerId} .*ROUTER_UNREACHABLE — fix: Nothing answers on 127\\.0\\.0\\.1:\\d+`,
      ),
    );
    expect(fails.join('\n')).to.match(/time zone: WHMCS runs in .* — fix: set WHMCS_TIME_ZONE=/);
    expect(fails).to.have.length(3);
    expect(out.stdout).to.match(
      new RegExp(`^warn {2}router ${routerId} .*: PPP profile "capped" has rate-limit 10M/10M`, 'm'),
    );
    expect(out.stdout).to.match(new RegExp(`^ok {4}router ${routerId} `, 'm'));
    expect(out.stdout.trim().split('\n').pop()).to.equal(
      '3 problem(s), 1 warning(s): fix the FAIL lines above',
    );
  });

  it('doctor says to migrate a database whose migrations are not applied, and names an unreachable database', async () => {
    const fresh = await createTestDatabase({ migrate: false });
    try {
      const out = await runCli(['doctor'], { ...env, DATABASE_URL: fresh.url });
      expect(out.code).to.equal(1);
      expect(out.stdout).to.match(
        /^FAIL {2}migrations: \d+ not applied \(.*\) — fix: run `npx whmcs-mikrotik-vpn migrate`/m,
      );
    } finally {
      await fresh.drop();
    }
    const down = await runCli(['doctor'], { ...env, DATABASE_URL: 'mysql://root@127.0.0.1:1/whmcs' });
    expect(down.code).to.equal(1);
    expect(down.stdout).to.match(
      /^FAIL {2}database: cannot connect to 127\.0\.0\.1:1\/whmcs as root .* — fix: check DATABASE_URL/m,
    );
  });

  it('a router under a key the key file lacks: collect and reconcile print one typed line each, no stack trace', async () => {
    const fresh = await createTestDatabase();
    try {
      const gone = generateKeyLine('kgone');
      const box = new SecretBox(loadEncryptionKeys({ ENCRYPTION_KEY: gone }));
      const r = await fresh.dataSource.query(
        "INSERT INTO mod_mikrotikvpn_routers (server_id, name, host, port, tls, username, password_encrypted) VALUES (1, 'Core 9', '127.0.0.1', 8729, 1, 'api', ?)",
        [box.encrypt('router-pass')],
      );
      const cliEnv = { DATABASE_URL: fresh.url, ENCRYPTION_KEY_FILE: makeKeyFile([generateKeyLine('knew')]) };
      const typed = `INTERNAL_SERVER_ERROR: The password of router ${r.insertId} ("Core 9") is encrypted under key kgone, which is not in the key file — put that key line back into ENCRYPTION_KEY_FILE, or enter the router's password again in WHMCS (Servers)`;

      const collect = await runCli(['collect'], cliEnv);
      expect(collect.code).to.equal(1);
      expect(collect.stdout.split('\n')[0]).to.match(
        new RegExp(`^router ${r.insertId}\tFAILED ${escape(typed)}\taccounts 0\tsamples 0\t\\d+ ms$`),
      );
      expect(collect.stdout).to.not.include('server log');
      expect(collect.stderr).to.equal('');

      const reconcile = await runCli(['reconcile'], cliEnv);
      expect(reconcile.code).to.equal(1);
      expect(reconcile.stdout.split('\n')[0]).to.equal(`router ${r.insertId}\t-\tROUTER_FAILED\t${typed}`);
      expect(reconcile.stderr).to.equal('');
    } finally {
      await fresh.drop();
    }
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
