import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { startStack, type Stack } from '../helpers/stack';
import { gql } from '../helpers/test-server';
import type { SimulatedRouter } from '../simulator/simulated-router';
import { OUTPUT_DIR, ROOT, launchChromium } from './browser';

// Browser-side code below runs in Chromium; this program is compiled without the DOM library.
declare const document: any;

/**
 * The usage page through WHMCS (proxy mode, the default), in Debian's real Chromium: PHP's built-in
 * web server stands in for WHMCS's (test/browser/whmcs-site.php: a PHP session as the login, the
 * module's ClientArea through real Smarty, its usageData action as WHMCS runs client functions). The
 * browser can not reach the GraphQL server at all (every request to its port is aborted, and none may
 * be tried): the chart loads through the WHMCS origin, the module forwarding over graphql_url with
 * the page's client token. Another customer gets nothing through that action, and an operation the
 * page does not have is refused.
 */
describe('usage page through WHMCS (proxy mode): the chart from the WHMCS origin only, in a real Chromium', function () {
  this.timeout(180_000);
  let stack: Stack;
  let sim: SimulatedRouter;
  let php: ChildProcess | undefined;
  let site = '';
  let workDir: string;
  let browser: Browser;
  let grace: number;
  let mallory: number;
  let graceService: number;
  const phpOutput: string[] = [];
  const contexts: BrowserContext[] = [];

  const call = async (query: string, variables: Record<string, unknown> = {}) => {
    const r = await gql(stack.server.url, query, variables, stack.admin);
    if (r.errors) throw new Error(JSON.stringify(r.errors));
    return r.data!;
  };

  async function freePort(): Promise<number> {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as net.AddressInfo;
    await new Promise((resolve) => server.close(resolve));
    return port;
  }

  /** A browser context logged in to the stand-in WHMCS as one client, the server's port blocked. */
  async function loggedIn(clientId: number) {
    const context = await browser.newContext({ viewport: { width: 1100, height: 900 }, locale: 'en-US' });
    contexts.push(context);
    const serverRequests: string[] = [];
    const otherOrigins: string[] = [];
    context.on('request', (request) => {
      const url = request.url();
      if (url.startsWith(stack.server.url)) serverRequests.push(url);
      else if (!url.startsWith(site)) otherOrigins.push(url);
    });
    // The GraphQL server is not reachable from this browser.
    await context.route(`${stack.server.url}/**`, (route) => route.abort('blockedbyclient'));
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    const login = await page.goto(`${site}/dologin.php?uid=${clientId}`);
    expect(login?.status()).to.equal(200);
    return { context, page, serverRequests, otherOrigins, errors };
  }

  const servicePage = (serviceId: number) => `${site}/clientarea.php?action=productdetails&id=${serviceId}`;

  /** A POST from the page to a service's usageData action, as the bundle sends it. */
  const post = (
    page: Page,
    url: string,
    body: unknown,
    token: string,
  ): Promise<{ status: number; body: any }> =>
    page.evaluate(
      async ([u, b, t]: [string, unknown, string]) => {
        const r = await fetch(u, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-mvpn-client-token': t },
          body: JSON.stringify(b),
          credentials: 'same-origin',
        });
        return { status: r.status, body: await r.json() };
      },
      [url, body, token] as [string, unknown, string],
    );

  const operations = JSON.parse(
    fs.readFileSync(
      path.join(ROOT, 'php-bridge', 'modules', 'servers', 'mikrotikvpn', 'lib', 'usage-operations.json'),
      'utf8',
    ),
  ) as Record<string, string>;

  before(async () => {
    fs.mkdirSync(OUTPUT_DIR, { recursive: true });
    workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mvpn-proxy-'));
    // No CORS_ORIGINS: the browser never calls the server.
    stack = await startStack({ WHMCS_TIME_ZONE: 'Europe/Berlin' });
    let serverId: number;
    ({ sim, serverId } = await stack.addRouter({ assignedips: ['10.63.0.2', '10.63.0.3'] }));
    sim.state.bootTime = Date.now() - 3_600_000;
    grace = await stack.whmcs.client({ firstname: 'Grace', lastname: 'Hopper', language: 'english' });
    mallory = await stack.whmcs.client({ firstname: 'Mallory', lastname: 'Jones', language: 'english' });
    const productId = await stack.whmcs.product({
      name: 'VPN 10 GB',
      settings: { trafficMonthlyGb: '10', lowTrafficThresholdGb: '0', protocols: 'l2tp' },
    });
    graceService = await stack.whmcs.service({
      userid: grace,
      packageid: productId,
      server: serverId,
      username: 'grace',
      domainstatus: 'Active',
    });
    const created = await call(
      `mutation($i: CreateVpnAccountInput!) { createVpnAccount(input: $i) { address } }`,
      {
        i: {
          serviceId: graceService,
          serverId,
          productId,
          username: 'grace',
          password: 'Passw0rd!',
          billingCycle: 'Monthly',
        },
      },
    );
    await stack.db.query('UPDATE tblhosting SET dedicatedip = ? WHERE id = ?', [
      created.createVpnAccount.address,
      graceService,
    ]);
    await call('mutation { collectTraffic { samplesWritten } }');
    sim.pushTraffic(created.createVpnAccount.address, 1_500_000_000, 300_000_000);
    await call('mutation { collectTraffic { samplesWritten } }');

    // The module's config.php: the default mode (no client_area_mode, no browser URL).
    const config = path.join(workDir, 'config.php');
    const values = { graphql_url: `${stack.server.url}/graphql`, api_key: stack.admin };
    fs.writeFileSync(
      config,
      `<?php return json_decode(base64_decode('${Buffer.from(JSON.stringify(values)).toString('base64')}'), true);\n`,
    );
    const db = stack.tdb.config;
    const port = await freePort();
    site = `http://127.0.0.1:${port}`;
    php = spawn(
      'php',
      [
        '-d',
        `session.save_path=${workDir}`,
        '-S',
        `127.0.0.1:${port}`,
        '-t',
        path.join(ROOT, 'php-bridge'),
        path.join(ROOT, 'test', 'browser', 'whmcs-site.php'),
      ],
      {
        env: {
          ...process.env,
          BRIDGE_DB_DSN: `mysql:host=${db.host};port=${db.port};dbname=${db.database};charset=utf8mb4`,
          BRIDGE_DB_USER: db.user,
          BRIDGE_DB_PASSWORD: db.password ?? '',
          MIKROTIKVPN_CONFIG: config,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    php.stdout!.on('data', (c: Buffer) => phpOutput.push(c.toString('utf8')));
    php.stderr!.on('data', (c: Buffer) => phpOutput.push(c.toString('utf8')));
    const until = Date.now() + 15_000;
    for (;;) {
      const up = await fetch(`${site}/dologin.php?uid=0`).then(
        (r) => r.ok,
        () => false,
      );
      if (up) break;
      if (Date.now() > until) throw new Error(`php -S did not start:\n${phpOutput.join('')}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    browser = await launchChromium();
  });

  after(async () => {
    for (const context of contexts) await context.close().catch(() => undefined);
    await browser?.close();
    if (php && php.exitCode === null) {
      const exited = new Promise((resolve) => php!.once('exit', resolve));
      php.kill('SIGTERM');
      await exited;
    }
    await stack?.stop();
    if (workDir) fs.rmSync(workDir, { recursive: true, force: true });
  });

  it('draws the chart from the WHMCS origin alone: no request to the server is even tried', async () => {
    const { page, serverRequests, otherOrigins, errors } = await loggedIn(grace);
    const response = await page.goto(servicePage(graceService));
    expect(response?.status(), phpOutput.join('')).to.equal(200);
    const mount = await page.$eval('#mvpn-usage', (node: any) => ({ ...node.dataset }));
    expect(mount.proxyUrl).to.equal(
      `clientarea.php?action=productdetails&id=${graceService}&modop=custom&a=usageData&token=standin-csrf-token`,
    );
    expect(mount.graphqlUrl).to.equal(undefined);
    // No address of the server anywhere in the page.
    expect(await page.content()).to.not.include(`:${stack.server.port}`);
    await page.waitForFunction(() => document.querySelector('#mvpn-usage')?.dataset.state === 'ready', null, {
      timeout: 30_000,
    });
    const painted = await page.$eval('.mvpn-usage-canvas canvas', (canvas: any) => {
      const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
      let n = 0;
      for (let i = 3; i < data.length; i += 4) if (data[i] !== 0) n++;
      return n;
    });
    expect(painted, 'the chart is drawn').to.be.greaterThan(1000);
    // Today's row shows the traffic of the collection (1.50 GB down, 0.30 GB up).
    const today = await page.$$eval('.mvpn-usage-days tbody tr', (trs: any[]) =>
      trs.map((tr) => [...tr.querySelectorAll('td[data-bytes]')].map((td: any) => td.dataset.bytes)),
    );
    expect(today[0]).to.include.members(['1500000000', '300000000']);
    await page.locator('#mvpn-usage').screenshot({ path: path.join(OUTPUT_DIR, 'usage-through-whmcs.png') });
    expect(serverRequests, 'requests to the GraphQL server').to.deep.equal([]);
    expect(otherOrigins, 'requests to other origins').to.deep.equal([]);
    expect(errors).to.deep.equal([]);
  });

  it("gives another customer nothing through that action, even with the owner's token", async () => {
    const owner = await loggedIn(grace);
    await owner.page.goto(servicePage(graceService));
    const { token, proxyUrl } = await owner.page.$eval('#mvpn-usage', (node: any) => ({ ...node.dataset }));
    const intruder = await loggedIn(mallory);
    const body = { operationName: 'MvpnUsageAccount', query: operations.MvpnUsageAccount, variables: {} };
    const r = await post(intruder.page, `${site}/${proxyUrl}`, body, token);
    expect(r.status).to.equal(403);
    expect(r.body.errors[0].extensions.code).to.equal('FORBIDDEN');
    expect(r.body.data).to.equal(undefined);
    // The owner, the same request: the account.
    const mine = await post(owner.page, `${site}/${proxyUrl}`, body, token);
    expect(mine.status).to.equal(200);
    expect(mine.body.data.vpnAccount.status).to.equal('ACTIVE');
  });

  it("refuses an operation the page does not have, even from the owner with the owner's token", async () => {
    const { page } = await loggedIn(grace);
    await page.goto(servicePage(graceService));
    const { token, proxyUrl } = await page.$eval('#mvpn-usage', (node: any) => ({ ...node.dataset }));
    for (const body of [
      {
        operationName: 'Mint',
        query: `mutation Mint { mintClientToken(clientId: ${grace}, serviceIds: [${graceService}]) { token } }`,
      },
      {
        operationName: 'MvpnUsageAccount',
        query: operations.MvpnUsageAccount.replace('status', 'status username'),
        variables: {},
      },
    ]) {
      const r = await post(page, `${site}/${proxyUrl}`, body, token);
      expect(r.status).to.equal(400);
      expect(r.body.errors[0].extensions.code).to.equal('VALIDATION');
    }
    // The admin key is no key here: the action forwards client tokens only.
    const r = await post(
      page,
      `${site}/${proxyUrl}`,
      { operationName: 'MvpnUsageAccount', query: operations.MvpnUsageAccount, variables: {} },
      stack.admin,
    );
    expect(r.status).to.equal(401);
    expect(r.body.errors[0].extensions.code).to.equal('UNAUTHENTICATED');
  });
});
