import fs from 'node:fs';
import { expect } from 'chai';
import { startStack, type Stack } from '../helpers/stack';
import { gql, startServer, waitForHealthy } from '../helpers/test-server';
import { runCli } from '../helpers/cli';
import { SecretBox, generateKeyLine } from '../../src/auth/secret-box';
import { loadEncryptionKeys } from '../../src/config/app-config';

const SEEDED = 10_000;

describe('rotate-key: re-encrypting router credentials online (real CLI + running server + MariaDB)', function () {
  this.timeout(180_000);
  let stack: Stack;
  let keyFile: string;
  let serverId: number;
  let routerId: string;
  let clientId: number;
  const serviceId = 9401;
  const call = (query: string, variables: Record<string, unknown> = {}) =>
    gql(stack.server.url, query, variables, stack.admin);
  const storedKeyIds = async () =>
    (
      (await stack.db.query(
        `SELECT SUBSTRING_INDEX(password_encrypted, ':', 1) AS k, COUNT(*) AS n FROM mod_mikrotikvpn_routers GROUP BY k ORDER BY k`,
      )) as { k: string; n: string }[]
    ).map((r) => `${r.k}=${r.n}`);
  /** Suspends and unsuspends the account: both need the router's decrypted password. */
  const flip = async () => {
    for (const op of ['suspendVpnAccount', 'unsuspendVpnAccount']) {
      const r = await call(`mutation($s: Int!) { ${op}(serviceId: $s) { status } }`, { s: serviceId });
      if (r.errors) throw new Error(`${op}: ${JSON.stringify(r.errors)}`);
    }
  };

  before(async () => {
    stack = await startStack();
    keyFile = stack.env.ENCRYPTION_KEY_FILE;
    ({ serverId, routerId } = await stack.addRouter({ assignedips: ['10.90.0.2', '10.90.0.3'] }));
    clientId = await stack.whmcs.client();
    const productId = await stack.whmcs.product({ name: 'VPN', settings: { trafficMonthlyGb: '5' } });
    await stack.whmcs.service({ id: serviceId, userid: clientId, packageid: productId, server: serverId });
    const created = await call(
      `mutation($i: CreateVpnAccountInput!) { createVpnAccount(input: $i) { status } }`,
      {
        i: {
          serviceId,
          serverId,
          productId,
          username: 'rot1',
          password: 'Passw0rd!',
          billingCycle: 'Monthly',
        },
      },
    );
    expect(created.errors).to.equal(undefined);
    // Many more stored credentials, as a large installation has, under the same (old) key.
    const box = new SecretBox(loadEncryptionKeys({ ENCRYPTION_KEY_FILE: keyFile }));
    for (let i = 0; i < SEEDED; i += 1000) {
      const rows = Array.from({ length: 1000 }, (_, j) => i + j);
      await stack.db.query(
        `INSERT INTO mod_mikrotikvpn_routers (server_id, name, host, port, tls, username, password_encrypted)
         VALUES ${rows.map(() => `(?, ?, '192.0.2.1', 8729, 1, 'api', ?)`).join(', ')}`,
        rows.flatMap((n) => [100_000 + n, `seeded ${n}`, box.encrypt(`secret-${n}`)]),
      );
    }
  });
  after(() => stack?.stop());

  it(`re-encrypts ${SEEDED + 1} credentials under the new key while the server keeps working`, async () => {
    expect(await storedKeyIds()).to.deep.equal([`test1=${SEEDED + 1}`]);
    // Step 1 of docs/operations.md: append a new key line. The server is not told: it must cope.
    fs.appendFileSync(keyFile, `${generateKeyLine('k2')}\n`);

    // The running server keeps serving router work during the whole rotation.
    let rotating = true;
    let flips = 0;
    const traffic = (async () => {
      while (rotating) {
        await flip();
        flips++;
      }
    })();
    const out = await runCli(['rotate-key'], stack.env);
    rotating = false;
    await traffic;

    expect(out.code, out.stdout + out.stderr).to.equal(0);
    const summary =
      /re-encrypted (\d+) of (\d+) stored credentials \(router passwords, WireGuard keys, webhook secrets\) under key k2 in (\d+) ms/.exec(
        out.stdout,
      );
    expect(summary, out.stdout).not.to.equal(null);
    expect(Number(summary![1])).to.equal(SEEDED + 1);
    console.log(
      `      rotate-key: ${summary![1]} credentials in ${summary![3]} ms; ${flips} suspend/unsuspend pairs meanwhile`,
    );
    expect(out.stdout).to.match(new RegExp(`^re-encrypted ${SEEDED + 1}/${SEEDED + 1}$`, 'm'));
    expect(flips).to.be.at.least(1);
    expect(await storedKeyIds()).to.deep.equal([`k2=${SEEDED + 1}`]);

    // Every value still decrypts to what it was, under the new key only.
    const newOnly = new SecretBox({
      activeKeyId: 'k2',
      keys: new Map([['k2', loadEncryptionKeys({ ENCRYPTION_KEY_FILE: keyFile }).keys.get('k2')!]]),
    });
    const rows: { server_id: number; password_encrypted: string }[] = await stack.db.query(
      'SELECT server_id, password_encrypted FROM mod_mikrotikvpn_routers WHERE server_id >= 100000',
    );
    expect(rows).to.have.length(SEEDED);
    for (const r of rows)
      expect(newOnly.decrypt(r.password_encrypted)).to.equal(`secret-${r.server_id - 100_000}`);
    await flip(); // and the server reads the rotated router credential
  });

  it('lets the old key line go: after SIGHUP the server works with the new key alone and encrypts with it', async () => {
    const lines = fs
      .readFileSync(keyFile, 'utf8')
      .split('\n')
      .filter((l) => l.startsWith('k2:'));
    fs.writeFileSync(keyFile, `${lines.join('\n')}\n`);
    stack.server.process.kill('SIGHUP');
    const until = Date.now() + 10_000;
    while (
      !stack.server.output.some(
        (l) => l.includes('"activeKeyId":"k2"') && l.includes('encryption keys reloaded'),
      )
    ) {
      if (Date.now() > until)
        throw new Error(`no reload logged:\n${stack.server.output.slice(-5).join('\n')}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    await flip();
    // A router saved now is encrypted under the new key.
    const saved = await call(`mutation($input: RouterInput!) { upsertRouter(input: $input) { id } }`, {
      input: {
        serverId,
        host: '127.0.0.1',
        port: stack.routers[0].port,
        tls: true,
        username: 'api',
        password: 'router-pass',
        caPem: stack.routers[0].caPem,
      },
    });
    expect(saved.errors).to.equal(undefined);
    const [row] = await stack.db.query(
      'SELECT password_encrypted AS v FROM mod_mikrotikvpn_routers WHERE id = ?',
      [routerId],
    );
    expect(row.v.startsWith('k2:')).to.equal(true);
    await flip();
    // A second instance started now knows only the new key: a client-area token it signs is
    // accepted by the reloaded first instance (behind a load balancer the page may hit either).
    const second = await startServer(stack.env);
    try {
      await waitForHealthy(second);
      const minted = await gql(
        second.url,
        `mutation($c: Int!, $s: [Int!]!) { mintClientToken(clientId: $c, serviceIds: $s) { token } }`,
        { c: clientId, s: [serviceId] },
        stack.admin,
      );
      expect(minted.errors).to.equal(undefined);
      const token = minted.data!.mintClientToken.token as string;
      const asClient = await gql(
        stack.server.url,
        `query($s: Int!) { vpnAccount(serviceId: $s) { serviceId } }`,
        { s: serviceId },
        token,
      );
      expect(asClient.errors).to.equal(undefined);
      expect(asClient.data!.vpnAccount.serviceId).to.equal(serviceId);
    } finally {
      await second.stop();
    }
    expect(stack.server.output.join('\n')).not.to.match(/router-pass|secret-\d/);
  });

  it('reports credentials under a key that is no longer in the key file, and fails', async () => {
    const lost = new SecretBox({ activeKeyId: 'k0', keys: new Map([['k0', Buffer.alloc(32, 7)]]) });
    await stack.db.query(
      `INSERT INTO mod_mikrotikvpn_routers (server_id, name, host, port, tls, username, password_encrypted)
       VALUES (99999, 'lost', '192.0.2.9', 8729, 1, 'api', ?)`,
      [lost.encrypt('whatever')],
    );
    const out = await runCli(['rotate-key'], stack.env);
    expect(out.code).to.equal(1);
    expect(out.stdout).to.match(/^router \d+\tkey k0 is not in the key file: cannot re-encrypt$/m);
    expect(out.stdout).to.include('1 credential(s) are still under another key');
  });
});
