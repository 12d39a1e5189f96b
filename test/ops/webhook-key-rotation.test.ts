import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { Webhook } from 'standardwebhooks';
import { startStack, type Stack } from '../helpers/stack';
import { gql } from '../helpers/test-server';
import { runCli } from '../helpers/cli';
import { noteSecret } from '../helpers/suite-traffic';
import { generateKeyLine } from '../../src/auth/secret-box';
import { CREATE_VPN_ACCOUNT, createAccountVariables } from '../helpers/accounts';

/** Webhook signing secrets are stored secrets like router passwords: rotate-key re-encrypts them. */
describe('rotate-key re-encrypts webhook signing secrets, and deliveries still verify with the same secret', function () {
  this.timeout(60_000);
  let stack: Stack;
  let receiver: http.Server;
  const bodies: { body: string; headers: http.IncomingHttpHeaders }[] = [];

  before(async () => {
    receiver = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        bodies.push({ body: Buffer.concat(chunks).toString('utf8'), headers: req.headers });
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    stack = await startStack({ WEBHOOK_ALLOWED_TARGETS: '127.0.0.1', WEBHOOK_INTERVAL_MS: '100' });
  });
  after(async () => {
    await stack?.stop();
    await new Promise((r) => receiver?.close(r));
  });

  it('moves the secret to the new key; the running server signs with the same secret afterwards', async () => {
    const port = (receiver.address() as AddressInfo).port;
    const created = await gql(
      stack.server.url,
      `mutation($u: String!) { createWebhookEndpoint(input: { url: $u }) { secret } }`,
      { u: `http://127.0.0.1:${port}/hook` },
      stack.admin,
    );
    expect(created.errors).to.equal(undefined);
    const secret = created.data!.createWebhookEndpoint.secret as string;
    noteSecret(secret);
    const stored = async () =>
      (await stack.db.query('SELECT secret_encrypted AS v FROM mod_mikrotikvpn_webhook_endpoints'))[0]
        .v as string;
    expect((await stored()).startsWith('test1:')).to.equal(true);

    fs.appendFileSync(stack.env.ENCRYPTION_KEY_FILE, `${generateKeyLine('k2')}\n`);
    const out = await runCli(['rotate-key'], stack.env);
    expect(out.code, out.stdout + out.stderr).to.equal(0);
    expect(out.stdout).to.match(/re-encrypted 1 of 1 stored credentials \(.*webhook secrets\) under key k2/);
    expect((await stored()).startsWith('k2:')).to.equal(true);
    expect(out.stdout + out.stderr).not.to.include(secret.slice(6));

    // An event now: the server reads the rotated value (it loads k2 by itself) and signs with it.
    const { serverId } = await stack.addRouter({ assignedips: ['10.91.0.2'] });
    const client = await stack.whmcs.client();
    const productId = await stack.whmcs.product({ settings: { trafficMonthlyGb: '5' } });
    const serviceId = await stack.whmcs.service({
      id: 9501,
      userid: client,
      packageid: productId,
      server: serverId,
    });
    const r = await gql(
      stack.server.url,
      CREATE_VPN_ACCOUNT,
      createAccountVariables({ serviceId, serverId, productId, username: 'whrot' }),
      stack.admin,
    );
    expect(r.errors).to.equal(undefined);
    const until = Date.now() + 10_000;
    while (!bodies.length && Date.now() < until) await new Promise((res) => setTimeout(res, 50));
    expect(bodies).to.have.length(1);
    const event = new Webhook(secret).verify(bodies[0].body, bodies[0].headers as Record<string, string>) as {
      type: string;
    };
    expect(event.type).to.equal('account.created');
  });
});
