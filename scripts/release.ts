/**
 * The release bundle (`npm run release`, after `npm run build` and `npm run build:client`):
 *
 * - release/mikrotikvpn-whmcs-module-<version>.zip: the WHMCS module folder laid out as it goes into
 *   WHMCS (`modules/servers/mikrotikvpn/...`), so `unzip -d $WHMCS_ROOT` installs it; with the built
 *   client-area JavaScript, without tests and without a config.php (which holds an API key).
 * - release/whmcs-mikrotik-vpn-<version>.tgz: the server as an npm package (`npm pack`; its content is
 *   package.json "files"): compiled server, migrations, the product settings manifest, the patch of
 *   routeros-api, deploy files and docs.
 *
 * `--out DIR` writes elsewhere (tests). Prints each file with its size and SHA-256.
 */
import crypto from 'node:crypto';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { zipSync, type Zippable } from 'fflate';

const ROOT = path.join(__dirname, '..', '..');
const MODULE = 'modules/servers/mikrotikvpn';
/** Files the module cannot work without; a release missing one is refused. */
const REQUIRED = ['mikrotikvpn.php', 'hooks.php', 'whmcs.json', 'product-settings.json', 'js/usage.js'];
/** Never shipped: the operator's own configuration (an API key), and anything for development. */
const EXCLUDED = [/^config\.php$/, /(^|\/)\./, /(^|\/)tests?\//, /\.(log|bak|swp)$/, /~$/];
/** A fixed time for every zip entry, so the same sources give the same zip. */
const ZIP_TIME = new Date('2000-01-01T00:00:00Z');

function moduleFiles(dir: string, prefix = ''): string[] {
  return fs.readdirSync(path.join(dir, prefix), { withFileTypes: true }).flatMap((entry) => {
    const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (EXCLUDED.some((pattern) => pattern.test(rel))) return [];
    return entry.isDirectory() ? moduleFiles(dir, rel) : [rel];
  });
}

function describe(file: string): string {
  const data = fs.readFileSync(file);
  const sha = crypto.createHash('sha256').update(data).digest('hex');
  return `${path.relative(process.cwd(), file)}\t${(data.length / 1024).toFixed(1)} kB\tsha256 ${sha}`;
}

export function buildModuleZip(outDir: string, version: string): string {
  const source = path.join(ROOT, 'php-bridge', MODULE);
  const files = moduleFiles(source).sort();
  const missing = REQUIRED.filter((f) => !files.includes(f));
  if (missing.length) {
    throw new Error(`the module folder lacks ${missing.join(', ')} (run npm run build:client first)`);
  }
  const entries: Zippable = {};
  for (const rel of files) {
    entries[`${MODULE}/${rel}`] = [fs.readFileSync(path.join(source, rel)), { mtime: ZIP_TIME }];
  }
  const zip = path.join(outDir, `mikrotikvpn-whmcs-module-${version}.zip`);
  fs.writeFileSync(zip, zipSync(entries, { level: 9 }));
  return zip;
}

export function buildServerPackage(outDir: string): string {
  const output = execFileSync('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', outDir], {
    cwd: ROOT,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const [{ filename }] = JSON.parse(output) as { filename: string }[];
  return path.join(outDir, filename);
}

function main() {
  const { values } = parseArgs({ options: { out: { type: 'string' } } });
  const outDir = path.resolve(values.out ?? path.join(ROOT, 'release'));
  fs.mkdirSync(outDir, { recursive: true });
  const { version } = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
    version: string;
  };
  if (!fs.existsSync(path.join(ROOT, 'dist', 'src', 'main.js'))) throw new Error('run npm run build first');
  const zip = buildModuleZip(outDir, version);
  const tgz = buildServerPackage(outDir);
  console.log(describe(zip));
  console.log(describe(tgz));
}

if (require.main === module) {
  try {
    main();
  } catch (error) {
    console.error(`release failed: ${(error as Error).message}`);
    process.exit(1);
  }
}
