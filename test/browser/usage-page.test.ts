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
import { addDays as addCalendarDays, dayIn, startOfDay, utcOffsetMs } from '../../src/common/time-zone';
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
const MINUS = '\u2212';

/** What the page must list for one day, worked out from the database's own rows. */
interface DbDay {
  day: string;
  download: bigint;
  upload: bigint;
  /** At the end of the day: after its last collection or top-up, whichever came later. */
  balance: bigint;
  /** The sum of the day's top-ups. */
  credited: bigint;
}

/** GB as shown, summed exactly (two decimals): what a row's total must read. */
function shownSum(...parts: bigint[]): string {
  const cents = parts.reduce((sum, b) => sum + BigInt(bytesToGb(b).replace('.', '')), 0n);
  return `${cents / 100n}.${(cents % 100n).toString().padStart(2, '0')}`;
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
   * traffic (no daily row); traffic was added on three of them and taken away on one.
   */
  async function buildHistory(serviceId: number, address: string): Promise<void> {
    const account = await accountId(serviceId);
    // Moving an instant d days back means d days of WHMCS's calendar: the same local wall time, d
    // local days earlier. d × 24 hours is not that across a DST change (between 22:00 and 24:00
    // UTC it moved today's instants onto the next local day of late October). In microseconds.
    const back = (d: number) => {
      const now = Date.now();
      const then = now - d * 86_400_000;
      return (d * 86_400_000 + utcOffsetMs(TZ, then) - utcOffsetMs(TZ, now)) * 1000;
    };
    // The account stands for one created 44 days ago (its first credit is moved there below).
    await stack.db.query(
      'UPDATE mod_mikrotikvpn_accounts SET created_at = created_at - INTERVAL ? MICROSECOND WHERE id = ?',
      [back(HISTORY_DAYS - 1), account],
    );
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
        let download = 500_000_000 + ((d * 37) % 20) * 100_000_000 + d * 12_345;
        let upload = 100_000_000 + (d % 5) * 50_000_000 + 999;
        // Yesterday: 3.015 + 0.125 GB, shown 3.02 + 0.13; their sum must read 3.15, not 3.14.
        if (d === 1) [download, upload] = [3_015_000_000, 125_000_000];
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
            // An addon WHMCS names like the kind itself: the history must not say it twice.
            description: d === 40 ? `Traffic ${gb} GB (invoice ${1000 + d})` : 'Additional traffic',
          },
        });
      }
      if (d === 12) {
        await call(`mutation($i: TopUpTrafficInput!) { topUpTraffic(input: $i) { id } }`, {
          i: {
            serviceId,
            kind: 'ADJUSTMENT',
            bytes: String(-5 * GB),
            idempotencyKey: 'adjust-12',
            description: 'Traffic counted twice',
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
          'UPDATE mod_mikrotikvpn_traffic_daily SET day = ?, balance_at = balance_at - INTERVAL ? MICROSECOND WHERE account_id = ? AND day >= ?',
          [target, back(d), account, today],
        );
        await stack.db.query(
          'UPDATE mod_mikrotikvpn_traffic_samples SET at = at - INTERVAL ? MICROSECOND WHERE account_id = ? AND id > ?',
          [back(d), account, lastSample],
        );
        await stack.db.query(
          'UPDATE mod_mikrotikvpn_traffic_topups SET at = at - INTERVAL ? MICROSECOND WHERE account_id = ? AND id > ?',
          [back(d), account, lastTopUp],
        );
      }
      lastSample = await maxId('mod_mikrotikvpn_traffic_samples');
      lastTopUp = await maxId('mod_mikrotikvpn_traffic_topups');
    }
  }

  /**
   * Every day from `from` to `to` that the account existed (up to today), from the database's own
   * rows: traffic of the day's row (0 without one), the top-ups of the day, and the balance at the
   * day's end — the latest written of the day's row and the top-ups, carried over quiet days.
   */
  async function dbDays(serviceId: number, from = '0000-01-01', to = '9999-12-31'): Promise<DbDay[]> {
    const account = await accountId(serviceId);
    const [{ created }]: { created: Date }[] = await stack.db.query(
      'SELECT created_at AS created FROM mod_mikrotikvpn_accounts WHERE id = ?',
      [account],
    );
    const daily: { day: string; d: string; u: string; b: string; at: Date }[] = await stack.db.query(
      `SELECT DATE_FORMAT(day, '%Y-%m-%d') AS day, download_bytes AS d, upload_bytes AS u,
              balance_after_bytes AS b, balance_at AS at
         FROM mod_mikrotikvpn_traffic_daily WHERE account_id = ?`,
      [account],
    );
    const topUps: { id: number; at: Date; bytes: string; b: string }[] = await stack.db.query(
      'SELECT id, at, bytes, balance_after_bytes AS b FROM mod_mikrotikvpn_traffic_topups WHERE account_id = ?',
      [account],
    );
    const written = [
      ...daily.map((r) => ({ at: r.at.getTime(), order: 0, balance: BigInt(r.b) })),
      ...topUps.map((t) => ({ at: t.at.getTime(), order: t.id, balance: BigInt(t.b) })),
    ].sort((x, y) => x.at - y.at || x.order - y.order);
    const first = [from, dayIn(TZ, created)].sort()[1];
    const last = [to, today].sort()[0];
    const days: DbDay[] = [];
    for (let day = first; day <= last; day = addCalendarDays(day, 1)) {
      const end = startOfDay(addCalendarDays(day, 1), TZ).getTime();
      const row = daily.find((r) => r.day === day);
      days.push({
        day,
        download: BigInt(row?.d ?? 0),
        upload: BigInt(row?.u ?? 0),
        balance: written.filter((w) => w.at < end).pop()?.balance ?? 0n,
        credited: topUps.filter((t) => dayIn(TZ, t.at) === day).reduce((sum, t) => sum + BigInt(t.bytes), 0n),
      });
    }
    return days.reverse(); // newest first, as the table
  }

  async function dbTopUps(serviceId: number) {
    const rows: {
      id: number;
      at: Date;
      bytes: string;
      kind: string;
      reason: string | null;
      description: string;
      b: string;
    }[] = await stack.db.query(
      `SELECT id, at, bytes, kind, reason, description, balance_after_bytes AS b
         FROM mod_mikrotikvpn_traffic_topups WHERE account_id = ? ORDER BY id DESC`,
      [await accountId(serviceId)],
    );
    return rows.map((r) => ({
      id: String(r.id),
      day: dayIn(TZ, new Date(r.at)),
      bytes: BigInt(r.bytes),
      kind: r.kind,
      reason: r.reason,
      description: r.description,
      balanceAfter: BigInt(r.b),
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

  /** Every day, and per day its balance, added, total, download and upload in exact bytes. */
  function expectRowsMatch(rows: { day: string; bytes: string[] }[], db: DbDay[]) {
    expect(rows.map((r) => r.day)).to.deep.equal(db.map((r) => r.day));
    expect(rows.map((r) => r.bytes)).to.deep.equal(
      db.map((r) => [r.balance, r.credited, r.download + r.upload, r.download, r.upload].map(String)),
    );
  }

  /** The cells a day's row must show (after the date), GB in the locale; the total from the shown parts. */
  const shownCells = async (page: Page, locale: string, r: DbDay, added = '') => [
    ...(await intlGb(page, locale, [bytesToGb(r.balance)])),
    added,
    ...(await intlGb(page, locale, [
      shownSum(r.download, r.upload),
      bytesToGb(r.download),
      bytesToGb(r.upload),
    ])),
  ];

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
    // Today the account moves to another server (WHMCS changed the service's server): a 0-byte note.
    const second = await stack.addRouter({
      assignedips: Array.from({ length: 4 }, (_, i) => `10.62.0.${i + 2}`),
    });
    second.sim.state.bootTime = Date.now() - 3_600_000;
    await stack.db.query('UPDATE tblhosting SET server = ? WHERE id = ?', [second.serverId, svc.history]);
    const moved = await call(
      `mutation($i: CreateVpnAccountInput!) { createVpnAccount(input: $i) { address } }`,
      {
        i: {
          serviceId: svc.history,
          serverId: second.serverId,
          productId,
          username: 'grace',
          password: 'Passw0rd!',
          billingCycle: 'Monthly',
        },
      },
    );
    await stack.db.query('UPDATE tblhosting SET dedicatedip = ? WHERE id = ?', [
      moved.createVpnAccount.address,
      svc.history,
    ]);

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
        // Direct mode (the browser calls the server itself); the proxy mode has its own test.
        client_area_mode: 'direct',
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

  it("draws the chart and lists every day of the range, newest first, in the customer's locale", async () => {
    const page = await open(clientPage('online', svc.history));
    const range = await rangeOf(page);
    expect(range).to.deep.equal({ from: addDays(today, -29), to: today });
    const pixels = await canvasPixels(page);
    expect(pixels.painted, 'the canvas has content').to.be.greaterThan(20_000);
    expect(pixels.download, 'download bars').to.be.greaterThan(500);
    expect(pixels.upload, 'upload bars').to.be.greaterThan(200);
    await page.locator('#mvpn-usage').scrollIntoViewIfNeeded();
    await screenshot(page, 'online');

    // Every day of the 30, quiet ones too (0 GB, the balance carried from the day before).
    const db = await dbDays(svc.history, range.from, range.to);
    expect(db.map((r) => r.day)).to.deep.equal(Array.from({ length: 30 }, (_, i) => addDays(today, -i)));
    const rows = await tableRows(page);
    expectRowsMatch(rows, db);
    const quiet = db.filter((r) => r.download + r.upload === 0n && r.day < today);
    expect(quiet.map((r) => r.day)).to.deep.equal([3, 10, 17, 24].map((d) => addDays(today, -d)));
    for (const r of quiet) {
      const before = db[db.indexOf(r) + 1];
      expect(r.balance, `${r.day} carries the balance of ${before.day}`).to.equal(before.balance);
      const row = rows.find((x) => x.day === r.day)!;
      expect(row.cells.slice(1)).to.deep.equal(await shownCells(page, 'en', r));
    }
    // The cells are GB with two decimals (1 GB = 10^9 bytes, half away from zero) in the page's locale.
    const first = db[0];
    expect(rows[0].cells.slice(1)).to.deep.equal(await shownCells(page, 'en', first));
    expect(rows[0].cells[0]).to.equal(
      await page.evaluate(
        (day: string) =>
          new Intl.DateTimeFormat('en', { dateStyle: 'medium', timeZone: 'UTC' }).format(
            new Date(`${day}T12:00:00Z`),
          ),
        first.day,
      ),
    );
    // A row adds up as shown: yesterday's 3.015 + 0.125 GB read 3.02 + 0.13 = 3.15 (the exact
    // total, 3.14 GB, stays in the cell's data).
    const yesterday = rows.find((r) => r.day === addDays(today, -1))!;
    expect(yesterday.cells.slice(3)).to.deep.equal(['3.15', '3.02', '0.13']);
    expect(yesterday.bytes[2]).to.equal('3140000000');
    for (const [i, r] of db.entries()) {
      expect(rows[i].cells[3], r.day).to.equal(
        (await intlGb(page, 'en', [shownSum(r.download, r.upload)]))[0],
      );
    }
    // Ten rows a page, with the unit policy stated.
    expect(await page.locator('.mvpn-usage-days tbody tr').count()).to.be.at.most(10);
    expect(await page.locator('.mvpn-usage-unit').textContent()).to.equal(en.unit_note);
    expect(await page.locator('.mvpn-usage-empty').isVisible()).to.equal(false);
    expect(await page.locator('.mvpn-usage-days th').allTextContents()).to.deep.equal([
      en.usage_date,
      `${en.usage_balance} (GB)`,
      `${en.usage_added} (GB)`,
      `${en.usage_total} (GB)`,
      `${en.usage_download} (GB)`,
      `${en.usage_upload} (GB)`,
    ]);
    await page.close();
  });

  it("shows each top-up on its day's row, in that day's balance, and the history worded in the customer's language", async () => {
    const page = await open(clientPage('topups', svc.history));
    await chooseRange(page, '90');
    const topUps = await dbTopUps(svc.history);
    expect(topUps.map((t) => [t.kind, t.reason])).to.deep.equal([
      ['NOTE', 'MOVED'],
      ['CYCLE', 'RENEWAL'],
      ['ADJUSTMENT', 'ADJUSTMENT'],
      ['ADDON', 'ADDON'],
      ['ADDON', 'ADDON'],
      ['CYCLE', 'FIRST_CYCLE'],
    ]);
    // The account exists since 44 days: those 45 days are listed, not the 45 before it.
    const db = await dbDays(svc.history, addDays(today, -89), today);
    expect(db).to.have.length(HISTORY_DAYS);
    const rows = await tableRows(page);
    expectRowsMatch(rows, db);

    // 40 days ago: 100 GB bought after that day's collection. The row shows them and its balance
    // includes them: it is the history's "after", not the balance the collection left.
    const addonDay = addDays(today, -40);
    const addon = topUps.find((t) => t.day === addonDay)!;
    const row = rows.find((r) => r.day === addonDay)!;
    expect(row.cells[2]).to.equal(`+100.00 (${en.kind_ADDON})`);
    expect(row.bytes[0]).to.equal(String(addon.balanceAfter));
    const [collected]: { b: string }[] = await stack.db.query(
      `SELECT balance_after_bytes AS b FROM mod_mikrotikvpn_traffic_daily WHERE account_id = ? AND day = ?`,
      [await accountId(svc.history), addonDay],
    );
    expect(BigInt(collected.b) + 100n * BigInt(GB)).to.equal(addon.balanceAfter);
    // The adjustment: a true minus, never "+-".
    const adjusted = rows.find((r) => r.day === addDays(today, -12))!;
    expect(adjusted.cells[2]).to.equal(`${MINUS}5.00 (${en.kind_ADJUSTMENT})`);
    expect(adjusted.bytes[1]).to.equal(String(-5n * BigInt(GB)));
    // The first allowance on the first day; today's move adds nothing, so the cell stays empty.
    expect(rows.at(-1)!.cells[2]).to.equal(`+10.00 (${en.kind_CYCLE})`);
    expect(rows[0].cells[2]).to.equal('');

    // The history: newest first, every line, worded from reason and cycle, a description once.
    const history = await tableRows(page, '.mvpn-usage-history');
    expect(history.map((r: any) => r.id)).to.deep.equal(topUps.map((t) => t.id));
    expect(history.map((r) => r.cells[4])).to.deep.equal([
      `${en.topup_MOVED} · ${topUps[0].description}`,
      'Renewal traffic allowance (Monthly)',
      `${en.kind_ADJUSTMENT} · Traffic counted twice`,
      en.kind_ADDON, // WHMCS named the addon "Additional traffic": said once
      `${en.kind_ADDON} · Traffic 100 GB (invoice 1040)`,
      'First traffic allowance (Monthly)',
    ]);
    expect(topUps[0].description).to.match(/→/);
    expect(history.map((r) => r.cells[1])).to.deep.equal([
      '0.00',
      '+10.00',
      `${MINUS}5.00`,
      '+50.00',
      '+100.00',
      '+10.00',
    ]);
    expect(history[4].cells[5]).to.equal('#1040');
    expect(
      await page.$$eval('.mvpn-usage-history tbody td:nth-child(2) > bdi', (els: any[]) =>
        els.map((e) => e.getAttribute('dir')),
      ),
    ).to.deep.equal(['ltr', 'ltr', 'ltr', 'ltr', 'ltr', 'ltr']);
    await page.close();
  });

  it('marks the days traffic was added on the chart', async () => {
    const page = await open(clientPage('marks', svc.history));
    await chooseRange(page, '90');
    const credits = (await dbTopUps(svc.history)).filter((t) => t.bytes !== 0n); // not the move
    const marks = await page.$$eval('.mvpn-usage-marks li', (lis: any[]) =>
      lis.map((li) => ({ day: li.dataset.day, bytes: li.dataset.bytes, text: li.textContent })),
    );
    expect(marks.map((m) => [m.day, m.bytes])).to.deep.equal(credits.map((t) => [t.day, String(t.bytes)]));
    expect(marks[3].text).to.contain(`+100.00 GB (${en.kind_ADDON})`);
    expect(marks[1].text).to.contain(`${MINUS}5.00 GB (${en.kind_ADJUSTMENT})`);
    expect((await canvasPixels(page)).mark, 'marks drawn on the chart').to.be.greaterThan(100);

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
    expect(db).to.have.length(6);
    expectRowsMatch(await tableRows(page), db);
    // A day without traffic says so and draws no chart of zeros, but still lists the day: nothing
    // used, the balance of the day before.
    const quiet = addDays(today, -3);
    await page.fill('.mvpn-usage-from', quiet);
    await page.fill('.mvpn-usage-to', quiet);
    await page.waitForFunction(() => document.querySelector('#mvpn-usage')?.dataset.state === 'empty');
    expect(await page.locator('.mvpn-usage-empty').textContent()).to.equal(en.usage_no_data);
    expect(await page.locator('.mvpn-usage-canvas canvas').count()).to.equal(0);
    expect(await page.locator('.mvpn-usage-chart').isVisible()).to.equal(false);
    const [quietDay] = await dbDays(svc.history, quiet, quiet);
    expect(quietDay.balance).to.equal(
      (await dbDays(svc.history, addDays(quiet, -1), addDays(quiet, -1)))[0].balance,
    );
    const quietRows = await tableRows(page);
    expectRowsMatch(quietRows, [quietDay]);
    expect(quietRows[0].cells.slice(1)).to.deep.equal(await shownCells(page, 'en', quietDay));
    // A range before the account existed has no days at all: only the note.
    await page.fill('.mvpn-usage-from', addDays(today, -400));
    await page.fill('.mvpn-usage-to', addDays(today, -300));
    await page.waitForFunction(
      (wanted: string) => document.querySelector('.mvpn-usage-app')?.dataset.from === wanted,
      addDays(today, -400),
    );
    await waitRange(page);
    expect(await page.locator('#mvpn-usage').getAttribute('data-state')).to.equal('empty');
    expect(await page.locator('.mvpn-usage-empty').textContent()).to.equal(en.usage_no_data);
    expect(await page.locator('.mvpn-usage-canvas canvas').count()).to.equal(0);
    expect(await page.locator('.mvpn-usage-days').isVisible()).to.equal(false);
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

  it('exports every day of the range as CSV, with what was added and totals that add up', async () => {
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
      `${en.usage_date},${en.usage_balance} (GB),${en.usage_added} (GB),${en.usage_total} (GB),${en.usage_download} (GB),${en.usage_upload} (GB)`,
    );
    const db = await dbDays(svc.history, addDays(today, -89), today);
    expect(db).to.have.length(HISTORY_DAYS);
    expect(lines.slice(1)).to.deep.equal(
      db.map((r) =>
        [
          r.day,
          bytesToGb(r.balance),
          bytesToGb(r.credited),
          shownSum(r.download, r.upload),
          bytesToGb(r.download),
          bytesToGb(r.upload),
        ].join(','),
      ),
    );
    // Plain numbers: a dot, a hyphen-minus for spreadsheets, 0.00 on days nothing was added.
    expect(lines).to.include(`${addDays(today, -1)},${bytesToGb(db[1].balance)},0.00,3.15,3.02,0.13`);
    expect(lines.find((l) => l.startsWith(addDays(today, -12)))!.split(',')[2]).to.equal('-5.00');
    expect(lines.find((l) => l.startsWith(addDays(today, -40)))!.split(',')[2]).to.equal('100.00');
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
    const range = await rangeOf(page);
    const db = await dbDays(svc.limited, range.from, range.to);
    expect(
      db.map((r) => r.day),
      'created today: one day',
    ).to.deep.equal([today]);
    expectRowsMatch(await tableRows(page), db);
    const [row] = await tableRows(page);
    expect(row.cells[1]).to.equal((await intlGb(page, 'en', [bytesToGb(-1_500_000_000n)]))[0]);
    await screenshot(page, 'limited', '.mvpn');
    await page.close();
  });

  it('a slowed-down account (quota policy "slow down"): says the speed is reduced and offers more traffic', async () => {
    const slowProduct = await stack.whmcs.product({
      name: 'VPN 10 GB slow after',
      settings: { trafficMonthlyGb: '10', lowTrafficThresholdGb: '0', downloadMbps: '10', uploadMbps: '10' },
    });
    await call(`mutation($i: ProductPolicyInput!) { setProductPolicy(input: $i) { id } }`, {
      i: {
        productId: slowProduct,
        onExhausted: 'throttle',
        throttleDownloadMbps: '1',
        throttleUploadMbps: '1',
      },
    });
    const serviceId = await stack.whmcs.service({
      userid: clientId,
      packageid: slowProduct,
      server: serverId,
      username: 'grace5',
      domainstatus: 'Active',
    });
    await call(`mutation($i: CreateVpnAccountInput!) { createVpnAccount(input: $i) { address } }`, {
      i: {
        serviceId,
        serverId,
        productId: slowProduct,
        username: 'grace5',
        password: 'Passw0rd!',
        billingCycle: 'Monthly',
      },
    });
    // Used up by an admin's adjustment: slowed down at once, without a collection.
    await call(`mutation($i: TopUpTrafficInput!) { topUpTraffic(input: $i) { id } }`, {
      i: {
        serviceId,
        bytes: String(-11 * GB),
        idempotencyKey: 'slow-grace5',
        kind: 'ADJUSTMENT',
        description: 'test',
      },
    });
    const status = await call(`query($s: Int!) { vpnAccount(serviceId: $s) { status } }`, { s: serviceId });
    expect(status.vpnAccount.status).to.equal('THROTTLED');
    const page = await open(clientPage('throttled', serviceId), 'empty'); // no traffic yet
    const banner = page.locator('.mvpn-usage-limited');
    expect(await banner.isVisible()).to.equal(true);
    expect(await banner.locator('span').textContent()).to.equal(en.usage_throttled);
    expect(await banner.locator('a.mvpn-usage-buy').textContent()).to.equal(en.buy_traffic);
    expect(await page.locator('.mvpn-throttled').textContent()).to.equal(en.throttled_banner);
    await page.close();
  });

  it('a new account: no traffic yet, today listed with its first allowance, and that credit in the history', async () => {
    const page = await open(clientPage('fresh', svc.fresh), 'empty');
    expect(await page.locator('.mvpn-usage-empty').textContent()).to.equal(en.usage_no_data);
    expect(await page.locator('.mvpn-usage-canvas canvas').count()).to.equal(0);
    const rows = await tableRows(page);
    expect(rows.map((r) => r.day)).to.deep.equal([today]);
    expect(rows[0].cells.slice(1)).to.deep.equal([
      '10.00',
      `+10.00 (${en.kind_CYCLE})`,
      '0.00',
      '0.00',
      '0.00',
    ]);
    const history = await tableRows(page, '.mvpn-usage-history');
    expect(history.map((r) => r.cells[4])).to.deep.equal(['First traffic allowance (Monthly)']);
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

  /** For each element: its text, and whether its first character (the sign) is drawn left of its last. */
  const signSides = (page: Page, selector: string) =>
    page.$$eval(selector, (els: any[]) =>
      els.map((e) => {
        const node = e.firstChild;
        const range = e.ownerDocument.createRange();
        range.setStart(node, 0);
        range.setEnd(node, 1);
        const sign = range.getBoundingClientRect();
        range.setStart(node, node.length - 1);
        range.setEnd(node, node.length);
        const last = range.getBoundingClientRect();
        return { text: e.textContent, signOnTheLeft: sign.right <= last.left + 0.5 };
      }),
    );

  it('Arabic: right to left, Arabic labels, numbers and dates in the Arabic locale, signed amounts as written', async () => {
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
    expect(await headers.nth(2).textContent()).to.equal(`${ar.usage_added} (${ar.unit_gb})`);
    // Right to left: the first column (date) is the rightmost.
    const firstBox = (await headers.first().boundingBox())!;
    const lastBox = (await headers.last().boundingBox())!;
    expect(firstBox.x).to.be.greaterThan(lastBox.x);
    // The first page (the last ten days): the renewal of 5 days ago on its row in the Arabic
    // locale's digits, the plus sign on the left of the number (not "10.00+").
    const [ten] = await intlGb(page, 'ar', ['10.00']);
    expect(await signSides(page, '.mvpn-usage-days td.mvpn-added bdi')).to.deep.equal([
      { text: `+${ten}`, signOnTheLeft: true },
    ]);
    const range = await rangeOf(page);
    const db = await dbDays(svc.history, range.from, range.to);
    const rows = await tableRows(page);
    expectRowsMatch(rows, db);
    expect(rows[0].cells.slice(1)).to.deep.equal(await shownCells(page, 'ar', db[0]));
    expect(rows.find((r) => r.day === addDays(today, -5))!.cells[2]).to.equal(`+${ten} (${ar.kind_CYCLE})`);
    expect((await canvasPixels(page)).download).to.be.greaterThan(500);

    // The history in Arabic: the server's lines worded from reason and cycle, signs on the left.
    const history = await tableRows(page, '.mvpn-usage-history');
    const moveNote = (await dbTopUps(svc.history))[0].description;
    expect(history.map((r) => r.cells[4])).to.deep.equal([
      `${ar.topup_MOVED} · ${moveNote}`,
      ar.topup_RENEWAL.replace('{cycle}', ar.cycle_name_monthly),
      `${ar.kind_ADJUSTMENT} · Traffic counted twice`,
      `${ar.kind_ADDON} · Additional traffic`, // the addon's English name repeats nothing in Arabic
      `${ar.kind_ADDON} · Traffic 100 GB (invoice 1040)`,
      ar.topup_FIRST_CYCLE.replace('{cycle}', ar.cycle_name_monthly),
    ]);
    const [zero, five, fifty, hundred] = await intlGb(page, 'ar', ['0.00', '5.00', '50.00', '100.00']);
    const sides = await signSides(page, '.mvpn-usage-history tbody td:nth-child(2) > bdi');
    expect(sides.map((s) => s.text)).to.deep.equal([
      zero,
      `+${ten}`,
      `${MINUS}${five}`,
      `+${fifty}`,
      `+${hundred}`,
      `+${ten}`,
    ]);
    expect(
      sides.slice(1).every((s) => s.signOnTheLeft),
      JSON.stringify(sides),
    ).to.equal(true);
    // The marks under the chart too: the renewal, the adjustment and the addon of the last 30 days.
    expect(await signSides(page, '.mvpn-usage-marks bdi')).to.deep.equal(
      [`+${ten}`, `${MINUS}${five}`, `+${fifty}`].map((text) => ({ text, signOnTheLeft: true })),
    );
    await page.close();
  });

  it('words the rollover lines of renewals under "carry" with the cycle they came from, in English and Arabic', async () => {
    // A product that carries at most 4 GB of a cycle's unused traffic over, for one cycle.
    const carryProduct = await stack.whmcs.product({
      name: 'VPN 10 GB carry-over',
      settings: { trafficMonthlyGb: '10', lowTrafficThresholdGb: '0', protocols: 'l2tp,sstp' },
    });
    await call(`mutation($i: ProductPolicyInput!) { setProductPolicy(input: $i) { id } }`, {
      i: {
        productId: carryProduct,
        onExhausted: 'cutoff',
        rollover: 'carry',
        rolloverMaxGb: '4',
        rolloverCycles: '1',
      },
    });
    const serviceId = await stack.whmcs.service({
      userid: clientId,
      packageid: carryProduct,
      server: serverId,
      username: 'ada',
      domainstatus: 'Active',
      nextduedate: addDays(today, 30),
    });
    await call(`mutation($i: CreateVpnAccountInput!) { createVpnAccount(input: $i) { address } }`, {
      i: {
        serviceId,
        serverId,
        productId: carryProduct,
        username: 'ada',
        password: 'Passw0rd!',
        billingCycle: 'Monthly',
      },
    });
    // The first cycle began 60 days ago (its allowance is moved there), so that its two days differ:
    // 60 days of WHMCS's calendar, the same local wall time (not 60 × 24 hours across a DST change).
    const now = Date.now();
    const then = now - 60 * 86_400_000;
    await stack.db.query(
      `UPDATE mod_mikrotikvpn_traffic_topups SET at = at - INTERVAL ? MICROSECOND
        WHERE account_id = ? AND reason = 'FIRST_CYCLE'`,
      [(60 * 86_400_000 + utcOffsetMs(TZ, then) - utcOffsetMs(TZ, now)) * 1000, await accountId(serviceId)],
    );
    // Two renewals with nothing used: the first carries 4 of the 10 unused GB over; at the second
    // those 4 GB expire, the new cycle's 10 GB are unused again and 4 GB of them are carried over.
    for (const due of [addDays(today, 60), addDays(today, 90)]) {
      await stack.db.query('UPDATE tblhosting SET nextduedate = ? WHERE id = ?', [due, serviceId]);
      await call(`mutation($s: Int!) { renewVpnAccount(serviceId: $s) { id } }`, { s: serviceId });
    }
    const lines: { id: string; reason: string; period: string | null; bytes: string | number }[] = (
      await call(
        `query($s: Int!) { vpnAccount(serviceId: $s) { topUps(first: 20) { nodes { id reason period bytes } } } }`,
        { s: serviceId },
      )
    ).vpnAccount.topUps.nodes;
    expect(lines.map((t) => [t.reason, String(t.bytes)])).to.deep.equal([
      ['RENEWAL', String(10 * GB)],
      ['CARRIED_OVER', String(4 * GB)],
      ['CYCLE_UNUSED', String(-10 * GB)],
      ['CARRY_EXPIRED', String(-4 * GB)],
      ['RENEWAL', String(10 * GB)],
      ['CARRIED_OVER', String(4 * GB)],
      ['CYCLE_UNUSED', String(-10 * GB)],
      ['FIRST_CYCLE', String(10 * GB)],
    ]);
    // The cycle each line came from: the first one (60 days ago to today) at the first renewal and
    // for its expired carry-over, the second one (today only) at the second renewal.
    const first = `${addDays(today, -60)}/${today}`;
    const second = `${today}/${today}`;
    expect(lines.map((t) => t.period)).to.deep.equal([null, second, second, first, null, first, first, null]);

    for (const [language, locale, strings] of [
      ['english', 'en', en],
      ['arabic', 'ar', ar],
    ] as const) {
      // No traffic yet (the state says so): the history is listed all the same.
      const page = await open(clientPage(`rollover-${language}`, serviceId, language), 'empty');
      // The two days of the cycle as the page writes days: the locale's medium date, left to right.
      const days = (period: string) =>
        page.evaluate(
          ([loc, list]: [string, string[]]) =>
            list.map((d) =>
              new Intl.DateTimeFormat(loc, { dateStyle: 'medium', timeZone: 'UTC' }).format(
                new Date(`${d}T12:00:00Z`),
              ),
            ),
          [locale, period.split('/')] as [string, string[]],
        );
      const expected: string[] = [];
      for (const t of lines) {
        if (t.period) {
          const [from, to] = await days(t.period);
          expected.push(strings[`topup_${t.reason}`].replace('{period}', `\u2066${from} \u2013 ${to}\u2069`));
        } else {
          expected.push(strings[`topup_${t.reason}`].replace('{cycle}', strings.cycle_name_monthly));
        }
      }
      const history = await tableRows(page, '.mvpn-usage-history');
      expect(history.map((r: any) => r.id)).to.deep.equal(lines.map((t) => t.id));
      expect(history.map((r) => r.cells[4])).to.deep.equal(expected);
      if (language === 'english') {
        expect(history[2].cells[4]).to.match(
          /^Unused traffic of the cycle \u2066\w{3} \d{1,2}, \d{4} \u2013 \w{3} \d{1,2}, \d{4}\u2069$/,
        );
        const [ten, four] = await intlGb(page, locale, ['10.00', '4.00']);
        expect(history.slice(0, 4).map((r) => r.cells[1])).to.deep.equal([
          `+${ten}`,
          `+${four}`,
          `${MINUS}${ten}`,
          `${MINUS}${four}`,
        ]);
        // The chart's marks name the kind.
        const marks = await page.$$eval('.mvpn-usage-marks li', (lis: any[]) =>
          lis.map((li) => li.textContent),
        );
        expect(
          marks.some((m: string) => m.endsWith(`(${en.kind_ROLLOVER})`)),
          marks.join(' | '),
        ).to.equal(true);
      }
      await page.close();
    }
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

  it("the admin tab's own history in Arabic: worded lines, a true minus, signs on the left, WHMCS's days", async () => {
    const url = pages.page('/admin/clientsservices-ar.php', async () =>
      wrapPage(await renderWithPhp('admin', svc.history, 'arabic', phpEnv), { lang: 'ar', dir: 'rtl' }),
    );
    const page = await open(url);
    const table = page.locator('tr', { has: page.locator(`td.fieldlabel:text-is("${ar.history_title}")`) });
    const cells = await table
      .locator('td.fieldarea tbody tr')
      .evaluateAll((trs: any[]) =>
        trs.map((tr) => [...tr.querySelectorAll('td')].map((td: any) => td.textContent.trim())),
      );
    const topUps = await dbTopUps(svc.history);
    expect(cells.map((c) => c[0])).to.deep.equal(topUps.map((t) => t.day));
    expect(cells.map((c) => c[4])).to.deep.equal([
      `${ar.topup_MOVED} · ${topUps[0].description}`,
      ar.topup_RENEWAL.replace('{cycle}', ar.cycle_name_monthly),
      `${ar.kind_ADJUSTMENT} · Traffic counted twice`,
      `${ar.kind_ADDON} · Additional traffic`, // the addon's English name repeats nothing in Arabic
      `${ar.kind_ADDON} · Traffic 100 GB (invoice 1040)`,
      ar.topup_FIRST_CYCLE.replace('{cycle}', ar.cycle_name_monthly),
    ]);
    const sides = await signSides(
      page,
      `tr:has(> td.fieldlabel:text-is("${ar.history_title}")) tbody td:nth-child(2) > bdi`,
    );
    expect(sides.map((s) => s.text)).to.deep.equal([
      '0.00',
      '+10.00',
      `${MINUS}5.00`,
      '+50.00',
      '+100.00',
      '+10.00',
    ]);
    expect(
      sides.slice(1).every((s) => s.signOnTheLeft),
      JSON.stringify(sides),
    ).to.equal(true);
    await screenshot(page, 'admin-history-arabic', 'table.form');
    await page.close();
  });
});
