import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { startStack, type Stack } from '../helpers/stack';
import { gql } from '../helpers/test-server';
import type { SimulatedRouter } from '../simulator/simulated-router';
import { bytesToGb } from '../../src/common/units';
import { dayIn } from '../../src/common/time-zone';
import {
  OUTPUT_DIR,
  PageServer,
  ROOT,
  langStrings,
  launchChromium,
  renderWithPhp,
  wrapPage,
} from './browser';

// Browser-side code below runs in Chromium; this program is compiled without the DOM library.
declare const document: any;

/**
 * The client-area usage page (client/usage, built into the module's js/usage.js) in Debian's real
 * Chromium, driven by playwright-core. The page is the module's real output (clientarea.tpl through
 * real Smarty, a real client token minted by the bridge) served from a loopback server standing in
 * for WHMCS; the bundle talks to the real server process on MariaDB, whose traffic comes from real
 * collections of a simulated RouterOS router.
 */

const GB = 1_000_000_000;
const TZ = 'Europe/Berlin';
const HISTORY_DAYS = 45;
const COLOR = { download: [37, 99, 235], upload: [22, 163, 74], mark: [217, 119, 6] } as const;

interface DbDay {
  day: string;
  download: bigint;
  upload: bigint;
  balance: bigint;
}

describe('usage page: chart, daily table, traffic-added history and CSV in a real Chromium', function () {
  this.timeout(180_000);
  let stack: Stack;
  let sim: SimulatedRouter;
  let serverId: number;
  let productId: number;
  let clientId: number;
  let browser: Browser;
  let context: BrowserContext;
  const pages = new PageServer();
  let workDir: string;
  let phpEnv: Record<string, string>;
  let deadEnv: Record<string, string>;
  let en: Record<string, string>;
  let ar: Record<string, string>;
  let today: string;
  let expiredToken: { token: string; expiresAt: string };
  const svc = { history: 0, limited: 0, fresh: 0 };
  const pageErrors: string[] = [];
  const consoleLines: string[] = [];

  const call = async (query: string, variables: Record<string, unknown> = {}) => {
    const r = await gql(stack.server.url, query, variables, stack.admin);
    if (r.errors) throw new Error(JSON.stringify(r.errors));
    return r.data!;
  };
  const collect = () => call('mutation { collectTraffic { samplesWritten } }');
  const accountId = async (serviceId: number): Promise<number> =>
    Number(
      (await stack.db.query('SELECT id FROM mod_mikrotikvpn_accounts WHERE service_id = ?', [serviceId]))[0]
        .id,
    );
  const addDays = (day: string, n: number) => {
    const d = new Date(`${day}T00:00:00Z`);
    d.setUTCDate(d.getUTCDate() + n);
    return d.toISOString().slice(0, 10);
  };

  async function newService(username: string): Promise<{ serviceId: number; address: string }> {
    const serviceId = await stack.whmcs.service({
      userid: clientId,
      packageid: productId,
      server: serverId,
      username,
      domainstatus: 'Active',
    });
    const data = await call(
      `mutation($i: CreateVpnAccountInput!) { createVpnAccount(input: $i) { address } }`,
      {
        i: { serviceId, serverId, productId, username, password: 'Passw0rd!', billingCycle: 'Monthly' },
      },
    );
    await stack.db.query('UPDATE tblhosting SET dedicatedip = ? WHERE id = ?', [
      data.createVpnAccount.address,
      serviceId,
    ]);
    return { serviceId, address: data.createVpnAccount.address };
  }

  /**
   * 45 days of history from real collections: each "day" is one collection run (and the credits of
   * that day), after which that day's rows are moved to the day they stand for. Some days have no
   * traffic (no daily row), and traffic was added on three of them.
   */
  async function buildHistory(serviceId: number, address: string): Promise<void> {
    const account = await accountId(serviceId);
    const maxId = async (table: string) =>
      Number(
        (
          await stack.db.query(`SELECT COALESCE(MAX(id), 0) AS m FROM ${table} WHERE account_id = ?`, [
            account,
          ])
        )[0].m,
      );
    let lastSample = 0;
    let lastTopUp = 0;
    await collect(); // baseline of the new queue
    for (let d = HISTORY_DAYS - 1; d >= 0; d--) {
      if (d % 7 !== 3) {
        const download = 500_000_000 + ((d * 37) % 20) * 100_000_000 + d * 12_345;
        const upload = 100_000_000 + (d % 5) * 50_000_000 + 999;
        sim.pushTraffic(address, download, upload);
        await collect();
      }
      if (d === 40 || d === 20) {
        const gb = d === 40 ? 100 : 50;
        await call(`mutation($i: TopUpTrafficInput!) { topUpTraffic(input: $i) { id } }`, {
          i: {
            serviceId,
            bytes: gb * GB,
            idempotencyKey: `addon-${d}`,
            invoiceId: 1000 + d,
            description: `Traffic ${gb} GB (invoice ${1000 + d})`,
          },
        });
      }
      if (d === 5) {
        await call(
          `mutation($s: Int!) { renewVpnAccount(serviceId: $s, cycleKey: "due:next", invoiceId: 1105) { id } }`,
          {
            s: serviceId,
          },
        );
      }
      if (d > 0) {
        const target = addDays(today, -d);
        await stack.db.query(
          'UPDATE mod_mikrotikvpn_traffic_daily SET day = ? WHERE account_id = ? AND day >= ?',
          [target, account, today],
        );
        await stack.db.query(
          'UPDATE mod_mikrotikvpn_traffic_samples SET at = at - INTERVAL ? DAY WHERE account_id = ? AND id > ?',
          [d, account, lastSample],
        );
        await stack.db.query(
          'UPDATE mod_mikrotikvpn_traffic_topups SET at = at - INTERVAL ? DAY WHERE account_id = ? AND id > ?',
          [d, account, lastTopUp],
        );
      }
      lastSample = await maxId('mod_mikrotikvpn_traffic_samples');
      lastTopUp = await maxId('mod_mikrotikvpn_traffic_topups');
    }
  }

  async function dbDays(serviceId: number, from = '0000-01-01', to = '9999-12-31'): Promise<DbDay[]> {
    const rows: { day: string; d: string; u: string; b: string }[] = await stack.db.query(
      `SELECT DATE_FORMAT(day, '%Y-%m-%d') AS day, download_bytes AS d, upload_bytes AS u, balance_after_bytes AS b
         FROM mod_mikrotikvpn_traffic_daily WHERE account_id = ? AND day BETWEEN ? AND ? ORDER BY day DESC`,
      [await accountId(serviceId), from, to],
    );
    return rows.map((r) => ({
      day: r.day,
      download: BigInt(r.d),
      upload: BigInt(r.u),
      balance: BigInt(r.b),
    }));
  }

  async function dbTopUps(serviceId: number) {
    const rows: { id: number; at: Date; bytes: string; kind: string; invoice_id: number | null }[] =
      await stack.db.query(
        'SELECT id, at, bytes, kind, invoice_id FROM mod_mikrotikvpn_traffic_topups WHERE account_id = ? ORDER BY id DESC',
        [await accountId(serviceId)],
      );
    return rows.map((r) => ({
      id: String(r.id),
      day: dayIn(TZ, new Date(r.at)),
      bytes: BigInt(r.bytes),
      kind: r.kind,
    }));
  }

  // ------------------------------------------------------------------ the page

  async function open(url: string, state: string | RegExp = 'ready'): Promise<Page> {
    const page = await context.newPage();
    page.on('pageerror', (error) => pageErrors.push(`${url}: ${error.message}`));
    page.on('console', (m) => consoleLines.push(`${m.type()}: ${m.text()}`));
    await page.goto(url);
    await waitState(page, state);
    return page;
  }

  async function waitState(page: Page, state: string | RegExp): Promise<void> {
    const states =
      typeof state === 'string'
        ? [state]
        : ['ready', 'empty', 'expired', 'unreachable'].filter((s) => state.test(s));
    try {
      await page.waitForFunction(
        (wanted: string[]) => wanted.includes(document.querySelector('#mvpn-usage')?.dataset.state),
        states,
        { timeout: 30_000 },
      );
    } catch (error) {
      const seen = await page
        .evaluate(() => {
          const node = document.querySelector('#mvpn-usage');
          return `state ${node?.dataset.state}: ${node?.textContent?.slice(0, 300)}`;
        })
        .catch((e: Error) => e.message);
      throw new Error(
        `${(error as Error).message}\n  wanted ${states.join('|')}, ${seen}\n  ${consoleLines.join('\n  ')}`,
      );
    }
  }

  const clientPage = (name: string, serviceId: number, language = 'english', env = phpEnv) =>
    pages.page(`/clientarea-${name}.php`, async () =>
      wrapPage(await renderWithPhp('client', serviceId, language, env), {
        lang: language === 'arabic' ? 'ar' : 'en',
      }),
    );

  /** Every row of the daily table, page by page, as the customer sees it. */
  async function tableRows(page: Page, table = '.mvpn-usage-days') {
    const rows: { day: string; cells: string[]; bytes: string[] }[] = [];
    const section = table === '.mvpn-usage-days' ? '.mvpn-usage-table' : '.mvpn-usage-history-section';
    for (let i = 0; i < 50; i++) {
      rows.push(
        ...(await page.$$eval(`${table} tbody tr`, (trs: any[]) =>
          trs.map((tr) => ({
            day: tr.dataset.day,
            id: tr.dataset.id,
            cells: [...tr.querySelectorAll('td')].map((td: any) => td.textContent.trim()),
            bytes: [...tr.querySelectorAll('td[data-bytes]')].map((td: any) => td.dataset.bytes),
          })),
        )),
      );
      const next = page.locator(`${section} .mvpn-next`);
      if (!(await next.isVisible()) || (await next.isDisabled())) break;
      await next.click();
    }
    return rows;
  }

  /** Formats GB strings with the page's own Intl, as the page must. */
  const intlGb = (page: Page, locale: string, values: string[]) =>
    page.evaluate(
      ([loc, list]: [string, string[]]) =>
        list.map((v) =>
          new Intl.NumberFormat(loc, { minimumFractionDigits: 2, maximumFractionDigits: 2 }).format(v as any),
        ),
      [locale, values] as [string, string[]],
    );

  /** Pixels on the chart's canvas: painted at all, and of each series' colour. */
  const canvasPixels = (page: Page) =>
    page.$eval(
      '.mvpn-usage-canvas canvas',
      (canvas: any, colors: Record<string, readonly number[]>) => {
        const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
        const counts: Record<string, number> = { painted: 0 };
        for (const k of Object.keys(colors)) counts[k] = 0;
        for (let i = 0; i < data.length; i += 4) {
          if (data[i + 3] === 0) continue;
          counts.painted++;
          for (const [k, c] of Object.entries(colors)) {
            if (
              Math.abs(data[i] - c[0]) < 6 &&
              Math.abs(data[i + 1] - c[1]) < 6 &&
              Math.abs(data[i + 2] - c[2]) < 6
            )
              counts[k]++;
          }
        }
        return counts;
      },
      COLOR,
    );

  async function chooseRange(page: Page, value: string) {
    await page.selectOption('.mvpn-usage-range', value);
    await waitRange(page);
  }

  async function waitRange(page: Page) {
    await page.waitForFunction(() => {
      const s = document.querySelector('#mvpn-usage')?.dataset.state;
      return s === 'ready' || s === 'empty';
    });
  }

  const rangeOf = (page: Page) =>
    page.$eval('.mvpn-usage-app', (app: any) => ({ from: app.dataset.from, to: app.dataset.to }));

  function expectRowsMatch(rows: { day: string; bytes: string[] }[], db: DbDay[]) {
    expect(rows.map((r) => r.day)).to.deep.equal(db.map((r) => r.day));
    expect(rows.map((r) => r.bytes)).to.deep.equal(
      db.map((r) => [r.balance, r.download + r.upload, r.download, r.upload].map(String)),
    );
  }

  const screenshot = (page: Page, name: string, selector = '#mvpn-usage') =>
    page.locator(selector).screenshot({ path: path.join(OUTPUT_DIR, `usage-${name}.png`) });

  // ------------------------------------------------------------------ setup

  before(async () => {
    fs.mkdirSync(OUTPUT_DIR, { recursive: true });
    workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mvpn-browser-'));
    await pages.start();
    stack = await startStack({ WHMCS_TIME_ZONE: TZ, CORS_ORIGINS: pages.origin });
    today = dayIn(TZ, new Date());
    ({ sim, serverId } = await stack.addRouter({
      assignedips: Array.from({ length: 10 }, (_, i) => `10.61.0.${i + 2}`),
    }));
    sim.state.bootTime = Date.now() - 3_600_000;
    clientId = await stack.whmcs.client({ firstname: 'Grace', lastname: 'Hopper', language: 'english' });
    productId = await stack.whmcs.product({
      name: 'VPN 10 GB',
      settings: { trafficMonthlyGb: '10', lowTrafficThresholdGb: '0', protocols: 'l2tp,sstp' },
    });

    const history = await newService('grace');
    svc.history = history.serviceId;
    await buildHistory(history.serviceId, history.address);

    const limited = await newService('grace2');
    svc.limited = limited.serviceId;
    sim.pushTraffic(limited.address, 11 * GB, 0.5 * GB);
    await collect();

    svc.fresh = (await newService('grace3')).serviceId;

    const db = stack.tdb.config;
    let configs = 0;
    const config = (browserUrl: string) => {
      const file = path.join(workDir, `config-${++configs}.php`);
      const values = {
        graphql_url: `${stack.server.url}/graphql`,
        api_key: stack.admin,
        browser_graphql_url: browserUrl,
      };
      const json = Buffer.from(JSON.stringify(values)).toString('base64');
      fs.writeFileSync(file, `<?php return json_decode(base64_decode('${json}'), true);\n`);
      return file;
    };
    const base = {
      BRIDGE_DB_DSN: `mysql:host=${db.host};port=${db.port};dbname=${db.database};charset=utf8mb4`,
      BRIDGE_DB_USER: db.user,
      BRIDGE_DB_PASSWORD: db.password ?? '',
    };
    phpEnv = { ...base, MIKROTIKVPN_CONFIG: config(`${stack.server.url}/graphql`) };
    // A port nothing listens on (any more): the browser's GraphQL URL is unreachable, the bridge's is fine.
    const closed = net.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const closedPort = (closed.address() as net.AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    deadEnv = { ...base, MIKROTIKVPN_CONFIG: config(`http://127.0.0.1:${closedPort}/graphql`) };
    en = await langStrings('english');
    ar = await langStrings('arabic');
    const minted = await call(
      `mutation($c: Int!, $s: [Int!]!) { mintClientToken(clientId: $c, serviceIds: $s, ttlSeconds: 10) { token expiresAt } }`,
      { c: clientId, s: [svc.history] },
    );
    expiredToken = minted.mintClientToken;

    browser = await launchChromium();
    context = await browser.newContext({
      viewport: { width: 1100, height: 900 },
      locale: 'en-US',
      acceptDownloads: true,
    });
  });

  afterEach(() => {
    const errors = pageErrors.splice(0);
    expect(errors, 'errors in the page').to.deep.equal([]);
  });

  after(async () => {
    await context?.close();
    await browser?.close();
    await pages.stop();
    await stack?.stop();
    if (workDir) fs.rmSync(workDir, { recursive: true, force: true });
  });

  // ------------------------------------------------------------------ tests

  it('ships a usage.js that is the build of client/usage', () => {
    const r = spawnSync(process.execPath, [path.join(ROOT, 'client', 'build.mjs'), '--check'], {
      encoding: 'utf8',
    });
    expect(r.status, r.stderr + r.stdout).to.equal(0);
  });

  it("draws the chart and shows exactly the database's daily rows, newest first, in the customer's locale", async () => {
    const page = await open(clientPage('online', svc.history));
    const range = await rangeOf(page);
    expect(range).to.deep.equal({ from: addDays(today, -29), to: today });
    const pixels = await canvasPixels(page);
    expect(pixels.painted, 'the canvas has content').to.be.greaterThan(20_000);
    expect(pixels.download, 'download bars').to.be.greaterThan(500);
    expect(pixels.upload, 'upload bars').to.be.greaterThan(200);
    await page.locator('#mvpn-usage').scrollIntoViewIfNeeded();
    await screenshot(page, 'online');

    const db = await dbDays(svc.history, range.from, range.to);
    expect(db.length).to.be.within(20, 30);
    const rows = await tableRows(page);
    expectRowsMatch(rows, db);
    // The cells are GB with two decimals (1 GB = 10^9 bytes, half away from zero) in the page's locale.
    const first = db[0];
    const expected = await intlGb(
      page,
      'en',
      [first.balance, first.download + first.upload, first.download, first.upload].map((b) => bytesToGb(b)),
    );
    expect(rows[0].cells.slice(1)).to.deep.equal(expected);
    expect(rows[0].cells[0]).to.equal(
      await page.evaluate(
        (day: string) =>
          new Intl.DateTimeFormat('en', { dateStyle: 'medium', timeZone: 'UTC' }).format(
            new Date(`${day}T12:00:00Z`),
          ),
        first.day,
      ),
    );
    // Ten rows a page, with the unit policy stated.
    expect(await page.locator('.mvpn-usage-days tbody tr').count()).to.be.at.most(10);
    expect(await page.locator('.mvpn-usage-unit').textContent()).to.equal(en.unit_note);
    expect(await page.locator('.mvpn-usage-days th').allTextContents()).to.deep.equal([
      en.usage_date,
      `${en.usage_balance} (GB)`,
      `${en.usage_total} (GB)`,
      `${en.usage_download} (GB)`,
      `${en.usage_upload} (GB)`,
    ]);
    await page.close();
  });

  it('marks the days traffic was added and lists the traffic-added history as the database has it', async () => {
    const page = await open(clientPage('marks', svc.history));
    await chooseRange(page, '90');
    const topUps = await dbTopUps(svc.history);
    expect(topUps.map((t) => t.kind)).to.deep.equal(['CYCLE', 'ADDON', 'ADDON', 'CYCLE']);
    const marks = await page.$$eval('.mvpn-usage-marks li', (lis: any[]) =>
      lis.map((li) => ({ day: li.dataset.day, bytes: li.dataset.bytes, text: li.textContent })),
    );
    expect(marks.map((m) => [m.day, m.bytes])).to.deep.equal(topUps.map((t) => [t.day, String(t.bytes)]));
    expect(marks[2].text).to.contain(`+100.00 GB (${en.kind_ADDON})`);
    expect((await canvasPixels(page)).mark, 'marks drawn on the chart').to.be.greaterThan(100);

    // The history table: newest first, every credit, paginated like the daily table.
    const history = await tableRows(page, '.mvpn-usage-history');
    expect(history.map((r: any) => r.id)).to.deep.equal(topUps.map((t) => t.id));
    expect(history[2].cells[1]).to.equal('+100.00');
    expect(history[2].cells[4]).to.equal(`${en.kind_ADDON} · Traffic 100 GB (invoice 1040)`);
    expect(history[2].cells[5]).to.equal('#1040');

    // Last 7 days: only the renewal of 5 days ago is marked.
    await chooseRange(page, '7');
    const recent = await page.$$eval('.mvpn-usage-marks li', (lis: any[]) => lis.map((li) => li.dataset.day));
    expect(recent).to.deep.equal([addDays(today, -5)]);
    await page.close();
  });

  it('switches ranges: last 7, 30 and 90 days, the current billing cycle and a custom range', async () => {
    const page = await open(clientPage('ranges', svc.history));
    const cases: [string, string, string][] = [
      ['7', addDays(today, -6), today],
      ['90', addDays(today, -89), today],
      ['cycle', addDays(today, -5), today], // the last cycle credit was 5 days ago
      ['30', addDays(today, -29), today],
    ];
    for (const [value, from, to] of cases) {
      await chooseRange(page, value);
      expect(await rangeOf(page), value).to.deep.equal({ from, to });
      expectRowsMatch(await tableRows(page), await dbDays(svc.history, from, to));
    }
    await page.selectOption('.mvpn-usage-range', 'custom');
    expect(await page.locator('.mvpn-usage-custom').isVisible()).to.equal(true);
    const from = addDays(today, -40);
    const to = addDays(today, -35);
    await page.fill('.mvpn-usage-from', from);
    await page.fill('.mvpn-usage-to', to);
    await page.waitForFunction(
      (wanted: string) => document.querySelector('.mvpn-usage-app')?.dataset.from === wanted,
      from,
    );
    await waitRange(page);
    expect(await rangeOf(page)).to.deep.equal({ from, to });
    const db = await dbDays(svc.history, from, to);
    expect(db.length).to.be.within(4, 6);
    expectRowsMatch(await tableRows(page), db);
    // A range without traffic says so instead of drawing an empty chart.
    await page.fill('.mvpn-usage-from', addDays(today, -400));
    await page.fill('.mvpn-usage-to', addDays(today, -300));
    await page.waitForFunction(() => document.querySelector('#mvpn-usage')?.dataset.state === 'empty');
    expect(await page.locator('.mvpn-usage-empty').textContent()).to.equal(en.usage_no_data);
    expect(await page.locator('.mvpn-usage-canvas canvas').count()).to.equal(0);
    // A range that ends before it starts is marked on its fields and loads nothing.
    await page.fill('.mvpn-usage-from', addDays(today, -10));
    await page.fill('.mvpn-usage-to', addDays(today, -20));
    await page.waitForFunction(
      () => document.querySelector('.mvpn-usage-to')?.getAttribute('aria-invalid') === 'true',
    );
    expect(await page.locator('.mvpn-usage-custom.has-error').count()).to.equal(1);
    await page.fill('.mvpn-usage-to', addDays(today, -5));
    await page.waitForFunction(
      () => document.querySelector('.mvpn-usage-to')?.getAttribute('aria-invalid') === 'false',
    );
    await waitRange(page);
    expect(await rangeOf(page)).to.deep.equal({ from: addDays(today, -10), to: addDays(today, -5) });
    await page.close();
  });

  it('exports what the table shows as CSV', async () => {
    const page = await open(clientPage('csv', svc.history));
    await chooseRange(page, '90');
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('.mvpn-usage-csv')]);
    expect(download.suggestedFilename()).to.equal(
      `traffic-${svc.history}-${addDays(today, -89)}-${today}.csv`,
    );
    const text = fs.readFileSync(await download.path(), 'utf8');
    expect(text.startsWith('\ufeff')).to.equal(true);
    const lines = text.slice(1).trimEnd().split('\r\n');
    expect(lines[0]).to.equal(
      `${en.usage_date},${en.usage_balance} (GB),${en.usage_total} (GB),${en.usage_download} (GB),${en.usage_upload} (GB)`,
    );
    const db = await dbDays(svc.history, addDays(today, -89), today);
    expect(lines.slice(1)).to.deep.equal(
      db.map((r) =>
        [
          r.day,
          bytesToGb(r.balance),
          bytesToGb(r.download + r.upload),
          bytesToGb(r.download),
          bytesToGb(r.upload),
        ].join(','),
      ),
    );
    await page.close();
  });

  it('a limited account: says the balance is used up and offers more traffic', async () => {
    const status = await call(`query($s: Int!) { vpnAccount(serviceId: $s) { status } }`, { s: svc.limited });
    expect(status.vpnAccount.status).to.equal('LIMITED');
    const page = await open(clientPage('limited', svc.limited));
    const banner = page.locator('.mvpn-usage-limited');
    expect(await banner.isVisible()).to.equal(true);
    expect(await banner.locator('span').textContent()).to.equal(en.usage_limited);
    const buy = banner.locator('a.mvpn-usage-buy');
    expect(await buy.textContent()).to.equal(en.buy_traffic);
    expect(await buy.getAttribute('href')).to.equal('cart.php?gid=addons');
    expectRowsMatch(await tableRows(page), await dbDays(svc.limited));
    const [row] = await tableRows(page);
    expect(row.cells[1]).to.equal((await intlGb(page, 'en', [bytesToGb(-1_500_000_000n)]))[0]);
    await screenshot(page, 'limited', '.mvpn');
    await page.close();
  });

  it('a new account: no data yet, and the first cycle credit in the history', async () => {
    const page = await open(clientPage('fresh', svc.fresh), 'empty');
    expect(await page.locator('.mvpn-usage-empty').textContent()).to.equal(en.usage_no_data);
    expect(await page.locator('.mvpn-usage-canvas canvas').count()).to.equal(0);
    expect(await page.locator('.mvpn-usage-history tbody tr').count()).to.equal(1);
    await page.close();
  });

  it('an expired token: reloads the page once for a fresh one, and explains when that does not help', async () => {
    const wait = Date.parse(expiredToken.expiresAt) - Date.now() + 500;
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const withExpired = async (html: string) =>
      html.replace(/data-token="[^"]*"/, `data-token="${expiredToken.token}"`);
    // Always the expired token: one reload, then the explanation (no reload loop).
    const stale = '/clientarea-expired.php';
    pages.page(stale, async () =>
      withExpired(wrapPage(await renderWithPhp('client', svc.history, 'english', phpEnv))),
    );
    const page = await open(`${pages.origin}${stale}`, 'expired');
    expect(await page.locator('.mvpn-usage-status').textContent()).to.equal(en.usage_token_expired);
    await new Promise((r) => setTimeout(r, 1_000));
    expect(pages.hitsOf(stale), 'reloaded exactly once').to.equal(2);
    expect(await page.locator('.mvpn-usage-canvas canvas').count()).to.equal(0);
    await page.close();

    // Expired first, then WHMCS renders a fresh token on the reload: the page recovers by itself.
    const recover = '/clientarea-recover.php';
    pages.page(recover, async (n) => {
      const html = wrapPage(await renderWithPhp('client', svc.history, 'english', phpEnv));
      return n === 1 ? withExpired(html) : html;
    });
    const again = await open(`${pages.origin}${recover}`, 'ready');
    expect(pages.hitsOf(recover)).to.equal(2);
    expect(await again.evaluate(() => Object.keys((globalThis as any).sessionStorage))).to.deep.equal([]);
    await again.close();
  });

  it('an unreachable server: a clear message and no broken chart', async () => {
    const page = await open(clientPage('unreachable', svc.history, 'english', deadEnv), 'unreachable');
    expect(await page.locator('.mvpn-usage-status').textContent()).to.equal(en.usage_unreachable);
    expect(await page.locator('.mvpn-usage-status').isVisible()).to.equal(true);
    expect(await page.locator('.mvpn-usage-body').isVisible()).to.equal(false);
    expect(await page.locator('canvas').count()).to.equal(0);
    await page.close();
  });

  it('Arabic: right to left, Arabic labels, numbers and dates in the Arabic locale', async () => {
    const page = await open(clientPage('arabic', svc.history, 'arabic'));
    const app = page.locator('.mvpn-usage-app');
    expect(await app.getAttribute('dir')).to.equal('rtl');
    expect(
      await app.evaluate((node: any) => node.ownerDocument.defaultView.getComputedStyle(node).direction),
    ).to.equal('rtl');
    expect(await page.locator('.mvpn-usage-title').textContent()).to.equal(ar.usage_title);
    await screenshot(page, 'arabic');
    const headers = page.locator('.mvpn-usage-days th');
    expect(await headers.first().textContent()).to.equal(ar.usage_date);
    // Right to left: the first column (date) is the rightmost.
    const firstBox = (await headers.first().boundingBox())!;
    const lastBox = (await headers.last().boundingBox())!;
    expect(firstBox.x).to.be.greaterThan(lastBox.x);
    const range = await rangeOf(page);
    const db = await dbDays(svc.history, range.from, range.to);
    const rows = await tableRows(page);
    expectRowsMatch(rows, db);
    expect(rows[0].cells.slice(1)).to.deep.equal(
      await intlGb(
        page,
        'ar',
        [db[0].balance, db[0].download + db[0].upload, db[0].download, db[0].upload].map((b) => bytesToGb(b)),
      ),
    );
    expect((await canvasPixels(page)).download).to.be.greaterThan(500);
    await page.close();
  });

  it("the admin service page shows the same component with the customer's numbers", async () => {
    const url = pages.page('/admin/clientsservices.php', async () =>
      wrapPage(await renderWithPhp('admin', svc.history, 'english', phpEnv)),
    );
    const page = await open(url);
    const range = await rangeOf(page);
    expectRowsMatch(await tableRows(page), await dbDays(svc.history, range.from, range.to));
    expect(await page.locator('a.mvpn-usage-buy').count()).to.equal(0);
    const invoice = await page.locator('.mvpn-usage-history a').first().getAttribute('href');
    expect(invoice).to.equal('invoices.php?action=edit&id=1105');
    await page.close();
  });
});
