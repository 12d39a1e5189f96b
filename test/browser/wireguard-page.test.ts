import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import jsQR from 'jsqr';
import { PNG } from 'pngjs';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { startStack, type Stack } from '../helpers/stack';
import { gql } from '../helpers/test-server';
import type { SimulatedRouter } from '../simulator/simulated-router';
import { publicKeyOf } from '../../src/services/wireguard/wireguard-keys';
import { OUTPUT_DIR, PageServer, launchChromium, renderWithPhp, wrapPage } from './browser';

/**
 * The client area's WireGuard block in Debian's real Chromium: the module's real output (clientarea.tpl
 * through real Smarty, the bridge asking the real server process on MariaDB), for an account whose
 * peer lives on a simulated RouterOS 7 router. The QR code is decoded from the screenshot, as a phone
 * would read it, and must be the account's config; so must the downloaded file.
 */
// Runs in the page (playwright evaluate), not in Node.
declare const getComputedStyle: (el: unknown) => { direction: string };

describe('client area: the WireGuard block in a real Chromium (LTR and RTL), its QR code and download', function () {
  this.timeout(180_000);
  let stack: Stack;
  let sim: SimulatedRouter;
  let browser: Browser;
  let context: BrowserContext;
  let workDir: string;
  let phpEnv: Record<string, string>;
  let serviceId: number;
  let configText: string;
  const pages = new PageServer();
  const pageErrors: string[] = [];

  const call = async (query: string, variables: Record<string, unknown> = {}) => {
    const r = await gql(stack.server.url, query, variables, stack.admin);
    if (r.errors) throw new Error(JSON.stringify(r.errors));
    return r.data!;
  };

  before(async () => {
    fs.mkdirSync(OUTPUT_DIR, { recursive: true });
    workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mvpn-wg-browser-'));
    await pages.start();
    stack = await startStack();
    let serverId: number;
    ({ sim, serverId } = await stack.addRouter({ assignedips: ['10.70.0.2', '10.70.0.3'] }));
    sim.state.addWireGuardInterface('wg-vpn', { listenPort: 51820 });
    await stack.db.query('UPDATE tblservers SET hostname = ? WHERE id = ?', ['vpn.example.net', serverId]);
    const clientId = await stack.whmcs.client({
      firstname: 'Ada',
      lastname: 'Lovelace',
      language: 'english',
    });
    const productId = await stack.whmcs.product({
      name: 'WireGuard 50 GB',
      settings: {
        service: 'wireguard',
        wgInterface: 'wg-vpn',
        wgClient: 'DNS = 1.1.1.1\nAllowedIPs = 0.0.0.0/0, ::/0\nPersistentKeepalive = 25',
        trafficMonthlyGb: '50',
      },
    });
    serviceId = await stack.whmcs.service({
      userid: clientId,
      packageid: productId,
      server: serverId,
      username: 'ada-wg',
      domainstatus: 'Active',
    });
    const created = await call(
      `mutation($i: CreateVpnAccountInput!) { createVpnAccount(input: $i) { address wireguard { publicKey } wireGuardConfig { text } } }`,
      { i: { serviceId, serverId, productId, username: 'ada-wg', password: 'x', billingCycle: 'Monthly' } },
    );
    await stack.db.query('UPDATE tblhosting SET dedicatedip = ? WHERE id = ?', [
      created.createVpnAccount.address,
      serviceId,
    ]);
    configText = created.createVpnAccount.wireGuardConfig.text;
    expect(sim.state.wireGuardHandshake(created.createVpnAccount.wireguard.publicKey)).to.equal(true);

    const db = stack.tdb.config;
    const file = path.join(workDir, 'config.php');
    const values = {
      graphql_url: `${stack.server.url}/graphql`,
      api_key: stack.admin,
      browser_graphql_url: `${stack.server.url}/graphql`,
    };
    fs.writeFileSync(
      file,
      `<?php return json_decode(base64_decode('${Buffer.from(JSON.stringify(values)).toString('base64')}'), true);\n`,
    );
    phpEnv = {
      BRIDGE_DB_DSN: `mysql:host=${db.host};port=${db.port};dbname=${db.database};charset=utf8mb4`,
      BRIDGE_DB_USER: db.user,
      BRIDGE_DB_PASSWORD: db.password ?? '',
      MIKROTIKVPN_CONFIG: file,
    };
    browser = await launchChromium();
    // Twice the pixels, as a phone's camera sees a screen: the QR modules are a few CSS pixels wide.
    context = await browser.newContext({
      viewport: { width: 1100, height: 1000 },
      deviceScaleFactor: 2,
      acceptDownloads: true,
    });
  });

  after(async () => {
    await browser?.close();
    await pages.stop();
    await stack?.stop();
    if (workDir) fs.rmSync(workDir, { recursive: true, force: true });
  });

  afterEach(() => {
    expect(pageErrors.splice(0), 'errors in the page').to.deep.equal([]);
  });

  async function open(language: string): Promise<Page> {
    const rtl = language === 'arabic';
    const url = pages.page(`/clientarea-wg-${language}.php`, async () =>
      wrapPage(await renderWithPhp('client', serviceId, language, phpEnv), {
        lang: rtl ? 'ar' : 'en',
        dir: rtl ? 'rtl' : 'ltr',
      }),
    );
    const page = await context.newPage();
    page.on('pageerror', (e) => pageErrors.push(e.message));
    await page.goto(url);
    await page.locator('.mvpn-wg').waitFor();
    return page;
  }

  /** Reads the QR code off the rendered page, as the WireGuard app's scanner would. */
  async function scanQr(page: Page): Promise<string | null> {
    const shot = await page.locator('.mvpn-wg-qr svg').screenshot();
    const png = PNG.sync.read(shot);
    return jsQR(new Uint8ClampedArray(png.data), png.width, png.height)?.data ?? null;
  }

  it('shows the block in English with a QR code that scans to the account’s config, and a download of the same file', async () => {
    const page = await open('english');
    const block = page.locator('.mvpn-wg');
    await block.screenshot({ path: path.join(OUTPUT_DIR, 'wireguard-english.png') });
    expect(await page.locator('.mvpn-wg-endpoint').innerText()).to.equal('vpn.example.net:51820');
    expect(await scanQr(page)).to.equal(configText);
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.locator('.mvpn-wg-download').click(),
    ]);
    expect(download.suggestedFilename()).to.equal('ada-wg.conf');
    const saved = path.join(workDir, 'downloaded.conf');
    await download.saveAs(saved);
    const text = fs.readFileSync(saved, 'utf8');
    expect(text).to.equal(configText);
    const privateKey = /^PrivateKey = (.+)$/m.exec(text)![1];
    expect(
      sim.state.findPeerByPublicKey(publicKeyOf(privateKey)),
      'the file’s key is the peer’s',
    ).to.not.equal(undefined);
    // No PPP leftovers for a WireGuard account.
    expect(await page.locator('.mvpn').innerText()).to.not.match(/L2TP|pre-shared key|Password/i);
    await page.close();
  });

  it('lays the block out right to left in Arabic, with the endpoint and the code still readable', async () => {
    const page = await open('arabic');
    const block = page.locator('.mvpn-wg');
    expect(await block.evaluate((el) => getComputedStyle(el).direction)).to.equal('rtl');
    // The endpoint is an address: it reads left to right inside the right-to-left page.
    expect(
      await page.locator('.mvpn-wg-endpoint bdi').evaluate((el) => getComputedStyle(el).direction),
    ).to.equal('ltr');
    expect(await page.locator('.mvpn-wg-endpoint').innerText()).to.equal('vpn.example.net:51820');
    await block.screenshot({ path: path.join(OUTPUT_DIR, 'wireguard-arabic.png') });
    expect(await scanQr(page)).to.equal(configText);
    expect(await page.locator('.mvpn-wg-download').innerText()).to.match(/[\u0600-\u06FF]/);
    await page.close();
  });
});
