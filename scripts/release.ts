/**
 * The release bundle (`npm run release`, after `npm run build` and `npm run build:client`):
 *
 * - release/mikrotikvpn-whmcs-module-<version>.zip: the WHMCS module folder laid out as it goes into
 *   WHMCS (`modules/servers/mikrotikvpn/...`), so `unzip -d $WHMCS_ROOT` installs it; with the built
 *   client-area JavaScript, without tests and without a config.php (which holds an API key); with a
 *   short INSTALL.txt and the step-by-step guide (docs/whmcs-setup.md) in the module folder.
 * - release/whmcs-mikrotik-vpn-<version>.tgz: the server as an npm package (`npm pack`; its content is
 *   package.json "files"): compiled server, migrations, the product settings manifest, the patch of
 *   routeros-api, deploy files and docs. Its package.json is the one an installation needs: no
 *   devDependencies, and of the scripts only `postinstall` (patch-package) and `start` — the
 *   repository's `prepare` (tsc) would fail `npm install --omit=dev` in the unpacked package.
 *
 * `--out DIR` writes elsewhere (tests). Prints each file with its size and SHA-256.
 */
import crypto from 'node:crypto';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import zlib from 'node:zlib';
import { zipSync, type Zippable } from 'fflate';

const ROOT = path.join(__dirname, '..', '..');
const MODULE = 'modules/servers/mikrotikvpn';
/** Files the module cannot work without; a release missing one is refused. */
const REQUIRED = [
  'mikrotikvpn.php',
  'hooks.php',
  'whmcs.json',
  'product-settings.json',
  'js/usage.js',
  'lib/usage-operations.json',
];
/** Never shipped: the operator's own configuration (an API key), and anything for development. */
const EXCLUDED = [/^config\.php$/, /(^|\/)\./, /(^|\/)tests?\//, /\.(log|bak|swp)$/, /~$/];
/** A fixed time for every zip entry, so the same sources give the same zip. */
const ZIP_TIME = new Date('2000-01-01T00:00:00Z');
/** The guide, shipped in the module folder too: whoever has only the zip has the whole install. */
const GUIDE = 'docs/whmcs-setup.md';

/** INSTALL.txt at the top of the module folder. */
export function installText(version: string): string {
  return `MikroTik VPN for WHMCS ${version} - the WHMCS module

This zip is one half of a release. The other half is the GraphQL server,
whmcs-mikrotik-vpn-${version}.tgz, which runs next to WHMCS on the WHMCS database;
the module does nothing without it. Install the server first.

1. Unzip into the WHMCS root (an upgrade is the same command; it never
   overwrites config.php, because the zip has none):
       unzip -o mikrotikvpn-whmcs-module-${version}.zip -d /var/www/whmcs
2. In modules/servers/mikrotikvpn/, copy config.example.php to config.php and
   put in the server's URL and an admin API key; make it readable by the web
   server only.
3. Add each router as a server (module "MikroTik VPN"), press Test Connection,
   put the routers in a server group, create the product and the traffic
   addons, and keep WHMCS's cron running every 5 minutes.

Every step, from unpacking the server to a first test order, with every
command: modules/servers/mikrotikvpn/${GUIDE}
`;
}

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
  entries[`${MODULE}/INSTALL.txt`] = [Buffer.from(installText(version)), { mtime: ZIP_TIME }];
  entries[`${MODULE}/${GUIDE}`] = [fs.readFileSync(path.join(ROOT, GUIDE)), { mtime: ZIP_TIME }];
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
  const tgz = path.join(outDir, filename);
  rewriteManifest(tgz);
  return tgz;
}

/** The package.json an unpacked server package is installed with (`npm install --omit=dev`). */
export function installManifest(manifest: Record<string, unknown>): Record<string, unknown> {
  const {
    devDependencies: _dev,
    scripts,
    ...rest
  } = manifest as {
    devDependencies?: unknown;
    scripts?: Record<string, string>;
  };
  return {
    ...rest,
    scripts: { start: 'node dist/src/main.js', postinstall: scripts?.postinstall ?? 'patch-package' },
  };
}

/** The repository's lockfile as the installed package's shrinkwrap: production packages only, the root as installed. */
export function installLock(
  lock: { packages: Record<string, Record<string, unknown>> } & Record<string, unknown>,
  install: Record<string, unknown>,
): Record<string, unknown> {
  const packages: Record<string, Record<string, unknown>> = {};
  for (const [key, entry] of Object.entries(lock.packages)) {
    if (key === '') {
      const { devDependencies: _dev, ...root } = entry;
      packages[key] = { ...root, dependencies: install.dependencies };
    } else if (!entry.dev) {
      packages[key] = entry;
    }
  }
  return { ...lock, packages };
}

function listFiles(base: string, rel: string): string[] {
  return fs.readdirSync(path.join(base, rel), { withFileTypes: true }).flatMap((entry) => {
    const child = `${rel}/${entry.name}`;
    return entry.isDirectory() ? listFiles(base, child) : [child];
  });
}

/** Replaces package/package.json in the tarball by {@link installManifest}'s, keeping npm's file times. */
function rewriteManifest(tgz: string): void {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'mvpn-pack-'));
  try {
    execFileSync('tar', ['-xzf', tgz, '-C', work]);
    const file = path.join(work, 'package', 'package.json');
    const manifest = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
    const install = installManifest(manifest);
    fs.writeFileSync(file, JSON.stringify(install, null, 2) + '\n');
    // The exact versions CI tested, for `npm install --omit=dev`: without them npm resolves each
    // range anew, to releases nobody tested (or that the registry mirror does not hold).
    fs.writeFileSync(
      path.join(work, 'package', 'npm-shrinkwrap.json'),
      JSON.stringify(
        installLock(JSON.parse(fs.readFileSync(path.join(ROOT, 'package-lock.json'), 'utf8')), install),
        null,
        2,
      ) + '\n',
    );
    // Files only, no directory entries, in a fixed order: as npm pack lays a tarball out.
    const files = listFiles(work, 'package').sort();
    const tar = execFileSync(
      'tar',
      [
        '--owner=0',
        '--group=0',
        '--numeric-owner',
        '--mtime=1985-10-26 08:15:00Z', // npm pack's own fixed time
        '-cf',
        '-',
        '-C',
        work,
        '--no-recursion',
        '--null',
        '-T',
        '-',
      ],
      { input: files.join('\0'), maxBuffer: 1 << 30 },
    );
    fs.writeFileSync(tgz, zlib.gzipSync(tar, { level: 9 }));
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
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
