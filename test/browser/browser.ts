import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';

/** Test equipment for the browser tests: Debian's Chromium, a loopback page server, php-cli renders. */

export const ROOT = path.join(__dirname, '..', '..', '..');
export const MODULE_DIR = path.join(ROOT, 'php-bridge', 'modules', 'servers', 'mikrotikvpn');
export const OUTPUT_DIR = path.join(ROOT, 'test-output');
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Chromium from Debian's packages, headless, with a fresh profile (playwright makes a new one per launch). */
export async function launchChromium(): Promise<Browser> {
  if (!fs.existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: run \`bash scripts/ensure-chromium.sh\` (as root or with sudo)`);
  }
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** What the page server answers for one path: built fresh on every request (a reload may differ). */
export type PageSource = (request: number) => Promise<string> | string;

/**
 * A loopback HTTP server standing in for WHMCS's web server: pages registered by path, and the
 * module folder's files under /modules/servers/mikrotikvpn/ (the built usage.js), as WHMCS serves them.
 */
export class PageServer {
  private readonly pages = new Map<string, PageSource>();
  private readonly hits = new Map<string, number>();
  private server!: http.Server;
  origin = '';

  async start(): Promise<void> {
    this.server = http.createServer((req, res) => {
      void this.handle(req, res).catch((error: Error) => {
        res.writeHead(500, { 'content-type': 'text/plain' }).end(error.stack);
      });
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.origin = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  page(pathname: string, source: PageSource): string {
    this.pages.set(pathname, source);
    this.hits.set(pathname, 0);
    return `${this.origin}${pathname}`;
  }

  hitsOf(pathname: string): number {
    return this.hits.get(pathname) ?? 0;
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.origin);
    const source = this.pages.get(url.pathname);
    if (source) {
      const n = (this.hits.get(url.pathname) ?? 0) + 1;
      this.hits.set(url.pathname, n);
      const html = await source(n);
      res
        .writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' })
        .end(html);
      return;
    }
    const prefix = '/modules/servers/mikrotikvpn/';
    if (url.pathname.startsWith(prefix)) {
      const file = path.join(MODULE_DIR, path.normalize(url.pathname.slice(prefix.length)));
      if (file.startsWith(MODULE_DIR + path.sep) && file.endsWith('.js') && fs.existsSync(file)) {
        res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8' }).end(fs.readFileSync(file));
        return;
      }
    }
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
  }

  stop(): Promise<void> {
    return new Promise((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

/** A whole HTML page around what the module rendered, as a WHMCS theme would wrap it. */
export function wrapPage(
  body: string,
  options: { lang?: string; title?: string; dir?: 'ltr' | 'rtl' } = {},
): string {
  return `<!doctype html>
<html lang="${options.lang ?? 'en'}" dir="${options.dir ?? 'ltr'}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${options.title ?? 'My Services'}</title>
<style>
  body { font-family: "DejaVu Sans", "Noto Sans", Arial, sans-serif; color: #1f2937; margin: 0; background: #f3f4f6; }
  main { max-width: 1040px; margin: 0 auto; padding: 20px; background: #fff; }
  .mvpn table { border-collapse: collapse; } .mvpn th, .mvpn td { padding: 3px 8px; text-align: start; }
  .mvpn .row { display: flex; flex-wrap: wrap; gap: 16px; } .mvpn .col-sm-6 { flex: 1 1 300px; }
  .mvpn .panel { border: 1px solid #e5e7eb; border-radius: 6px; padding: 8px 12px; margin-bottom: 12px; }
  .mvpn .alert-danger { background: #fef2f2; color: #7f1d1d; padding: 8px 12px; border-radius: 6px; }
  .mvpn-traffic { display: flex; gap: 24px; } .mvpn-traffic > div { flex: 1; } .text-muted { color: #6b7280; }
</style>
</head>
<body><main>${body}</main></body>
</html>`;
}

/** Runs test/browser/render-page.php: the module's real output for a service (client area or admin). */
export function renderWithPhp(
  screen: 'client' | 'admin',
  serviceId: number,
  language: string,
  env: Record<string, string>,
): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      'php',
      [path.join(ROOT, 'test', 'browser', 'render-page.php'), screen, String(serviceId), language],
      { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (err += c.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve(out) : reject(new Error(`render-page.php ${screen} exited ${code}: ${err}${out}`)),
    );
  });
}

/** The module's strings of one language (lang/<language>.php), read by PHP itself. */
export function langStrings(language: string): Promise<Record<string, string>> {
  return new Promise((resolve, reject) => {
    const file = path.join(MODULE_DIR, 'lang', `${language}.php`);
    const child = spawn(
      'php',
      ['-r', `$_LANG = []; include ${JSON.stringify(file)}; echo json_encode($_LANG);`],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`php exited ${code}`)),
    );
  });
}
