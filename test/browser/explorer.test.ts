import { expect } from 'chai';
import type { Browser, Page } from 'playwright-core';
import { startDemo, type DemoProcess } from '../helpers/demo-process';
import path from 'node:path';
import fs from 'node:fs';
import { OUTPUT_DIR, launchChromium } from './browser';

// Browser-side code below runs in Chromium; this program is compiled without the DOM library.
declare const document: any;

/**
 * The demo's explorer in Debian's real Chromium with every request to anything but this machine
 * blocked: GraphiQL must load, show the pre-filled key and the example query, and run it against the
 * live demo — i.e. it works offline, unlike Apollo Sandbox.
 */
describe('explorer: GraphiQL works offline in a real Chromium, against the running demo', function () {
  this.timeout(180_000);
  let demo: DemoProcess;
  let browser: Browser;
  let page: Page;
  const blocked: string[] = [];
  const problems: string[] = [];

  before(async () => {
    [demo, browser] = await Promise.all([startDemo(), launchChromium()]);
    const context = await browser.newContext();
    // The machine is "offline": only loopback answers; anything else is recorded and refused.
    await context.route('**/*', (route) => {
      const { protocol, hostname } = new URL(route.request().url());
      const local = ['127.0.0.1', 'localhost', '[::1]'].includes(hostname) || protocol === 'data:';
      if (local) return route.continue();
      blocked.push(route.request().url());
      return route.abort('internetdisconnected');
    });
    page = await context.newPage();
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(`console: ${m.text()}`);
    });
  });
  after(async () => {
    await browser?.close();
    if (demo) expect(await demo.interrupt('SIGINT')).to.equal(0);
  });

  it('loads from this server alone, runs the example query with the pre-filled key and shows live data', async () => {
    await page.goto(demo.explorerUrl);
    await page.waitForSelector('.graphiql-container', { timeout: 30_000 });

    // The key is in the headers editor, the example query in the query editor (CodeMirror 5 editors).
    const editor = (selector: string) =>
      page.evaluate((s) => document.querySelector(`${s} .CodeMirror`)?.CodeMirror.getValue() ?? '', selector);
    expect(JSON.parse(await editor('.graphiql-editor-tool .graphiql-editor:not(.hidden)'))).to.deep.equal({
      Authorization: `Bearer ${demo.apiKey}`,
    });
    expect(await editor('.graphiql-query-editor')).to.include('vpnAccounts(first: 20)');

    await page.click('.graphiql-execute-button');
    await page.locator('.graphiql-response').getByText('Demo router 1').waitFor({ timeout: 30_000 });
    const json = JSON.parse(await editor('.graphiql-response'));
    expect(json.errors).to.equal(undefined);
    expect(json.data.routers.map((r: any) => r.status.reachable)).to.deep.equal([true, true]);
    expect(json.data.vpnAccounts.nodes).to.have.length(7); // 6 PPP, 1 WireGuard
    expect(json.data.vpnAccounts.nodes.filter((a: any) => a.connection?.online)).to.have.length(5);

    expect(blocked, 'requests that needed the internet').to.deep.equal([]);
    expect(problems).to.deep.equal([]);
  });

  it('serves the client-area preview: the module’s usage page with 60 days of history, offline', async () => {
    await page.goto(`${demo.url}/demo/client/1`);
    const state = () => page.evaluate(() => document.querySelector('#mvpn-usage')?.dataset.state);
    await page.waitForFunction(() => document.querySelector('#mvpn-usage')?.dataset.state === 'ready', null, {
      timeout: 30_000,
    });
    await page.selectOption('.mvpn-usage-range', '90');
    await page.waitForFunction(() => document.querySelector('#mvpn-usage')?.dataset.state === 'ready');
    expect(await state()).to.equal('ready');
    // Every day of the history has a row in the daily table (the 90-day range, pages of rows).
    const text = await page.locator('#mvpn-usage').innerText();
    expect(text).to.match(/Billing cycle traffic|First traffic allowance/);
    fs.mkdirSync(OUTPUT_DIR, { recursive: true });
    await page.locator('#mvpn-usage').screenshot({ path: path.join(OUTPUT_DIR, 'demo-client-area.png') });
    expect(blocked, 'requests that needed the internet').to.deep.equal([]);
    expect(problems).to.deep.equal([]);
  });
});
