import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { createTestDatabase } from '../helpers/test-db';

const run = promisify(execFile);
const ROOT = path.join(__dirname, '..', '..', '..');
const MODULE_SOURCE = path.join(ROOT, 'php-bridge', 'modules', 'servers', 'mikrotikvpn');
const { version } = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
  version: string;
};

describe('release bundle: the WHMCS module zip and the server package', function () {
  this.timeout(180_000);
  let out: string;
  let zip: string;
  let tgz: string;
  const strayConfig = path.join(MODULE_SOURCE, 'config.php');

  before(async () => {
    out = fs.mkdtempSync(path.join(os.tmpdir(), 'mvpn-release-'));
    // An operator's config.php (with an API key) sitting in the module folder must never be shipped.
    fs.writeFileSync(strayConfig, "<?php return ['api_key' => 'mvpn_secret_do_not_ship'];\n");
    try {
      const result = await run(
        process.execPath,
        [path.join(ROOT, 'dist', 'scripts', 'release.js'), '--out', out],
        {
          cwd: ROOT,
        },
      );
      expect(result.stdout).to.include('sha256');
    } finally {
      fs.rmSync(strayConfig, { force: true });
    }
    zip = path.join(out, `mikrotikvpn-whmcs-module-${version}.zip`);
    tgz = path.join(out, `whmcs-mikrotik-vpn-${version}.tgz`);
  });
  after(() => fs.rmSync(out, { recursive: true, force: true }));

  it('the module zip unzips into WHMCS_ROOT as modules/servers/mikrotikvpn, with the built JavaScript and no secrets', async () => {
    const whmcsRoot = path.join(out, 'whmcs');
    fs.mkdirSync(whmcsRoot);
    await run('unzip', ['-q', zip, '-d', whmcsRoot]);
    const installed = path.join(whmcsRoot, 'modules', 'servers', 'mikrotikvpn');
    expect(fs.readdirSync(whmcsRoot)).to.deep.equal(['modules']);
    for (const file of [
      'mikrotikvpn.php',
      'hooks.php',
      'whmcs.json',
      'product-settings.json',
      'config.example.php',
      'lib/Module.php',
      'templates/clientarea.tpl',
      'lang/english.php',
      'logo.png',
    ]) {
      expect(fs.existsSync(path.join(installed, file)), file).to.equal(true);
    }
    // The client-area bundle is the committed build, byte for byte.
    expect(fs.readFileSync(path.join(installed, 'js', 'usage.js'))).to.deep.equal(
      fs.readFileSync(path.join(MODULE_SOURCE, 'js', 'usage.js')),
    );
    expect(fs.existsSync(path.join(installed, 'config.php'))).to.equal(false);
    // Whoever has only the zip has the install guide, byte for byte, and a short INSTALL text.
    expect(fs.readFileSync(path.join(installed, 'docs', 'whmcs-setup.md'))).to.deep.equal(
      fs.readFileSync(path.join(ROOT, 'docs', 'whmcs-setup.md')),
    );
    const install = fs.readFileSync(path.join(installed, 'INSTALL.txt'), 'utf8');
    expect(install).to.include(`MikroTik VPN for WHMCS ${version}`);
    expect(install).to.include(`whmcs-mikrotik-vpn-${version}.tgz`);
    expect(install).to.include('modules/servers/mikrotikvpn/docs/whmcs-setup.md');
    expect(install.split('\n').every((l) => l.length <= 80)).to.equal(true);
    // whmcs.json's documentation link points at it.
    const whmcsJson = JSON.parse(fs.readFileSync(path.join(installed, 'whmcs.json'), 'utf8')) as {
      support: { docs_url: string };
    };
    expect(fs.existsSync(path.join(installed, whmcsJson.support.docs_url))).to.equal(true);
    const { stdout: listing } = await run('unzip', ['-Z1', zip]);
    const entries = listing.trim().split('\n');
    expect(entries.every((e) => e.startsWith('modules/servers/mikrotikvpn/'))).to.equal(true);
    expect(entries.filter((e) => /tests?\/|\/\./i.test(e))).to.deep.equal([]);
    expect(entries).not.to.include('modules/servers/mikrotikvpn/config.php');
    expect(fs.readFileSync(zip).includes('mvpn_secret_do_not_ship')).to.equal(false);
  });

  it('the server package holds the compiled server, migrations, manifest and deploy files, and no tests', async () => {
    const { stdout } = await run('tar', ['-tzf', tgz]);
    const files = stdout.trim().split('\n');
    for (const file of [
      'package/package.json',
      'package/README.md',
      'package/dist/src/main.js',
      'package/dist/src/cli/main.js',
      'package/dist/migrations/1764000000000-CreateProductTables.js',
      'package/dist/php-bridge/modules/servers/mikrotikvpn/product-settings.json',
      'package/patches/routeros-api+1.0.2.patch',
      'package/schema/schema.graphql',
      'package/deploy/whmcs-mikrotik-vpn.service',
      'package/docs/operations.md',
      'package/docs/grafana-dashboard.json',
    ]) {
      expect(files, file).to.include(file);
    }
    expect(
      files.filter((f) =>
        /^package\/(dist\/)?(test|bench|scripts|client|php-bridge\/modules\/servers\/mikrotikvpn\/(?!product-settings))/.test(
          f,
        ),
      ),
    ).to.deep.equal([]);
    expect(files.filter((f) => /\.ts$|\.key$|\.env$|node_modules/.test(f))).to.deep.equal([]);
  });

  it('the server package holds every file its README links, and every file those docs link', async () => {
    const unpacked = path.join(out, 'links');
    fs.mkdirSync(unpacked);
    await run('tar', ['-xzf', tgz, '-C', unpacked, '--strip-components=1']);
    const checked = new Set<string>();
    const missing: string[] = [];
    const visit = (file: string) => {
      if (checked.has(file)) return;
      checked.add(file);
      if (!fs.existsSync(path.join(unpacked, file))) return void missing.push(file);
      if (!file.endsWith('.md')) return;
      const text = fs.readFileSync(path.join(unpacked, file), 'utf8');
      for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        if (/^(https?:|mailto:|#)/.test(target)) continue;
        visit(path.posix.normalize(path.posix.join(path.posix.dirname(file), target.split('#')[0])));
      }
    };
    visit('README.md');
    expect(missing).to.deep.equal([]);
    expect([...checked]).to.include.members([
      'docs/whmcs-setup.md',
      'docs/operations.md',
      'schema/schema.graphql',
    ]);
  });

  it("the server package's package.json is for installing: no build step, no dev dependencies", async () => {
    const { stdout } = await run('tar', ['-xzOf', tgz, 'package/package.json']);
    const manifest = JSON.parse(stdout) as Record<string, any>;
    const source = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as Record<
      string,
      any
    >;
    expect(manifest.scripts).to.deep.equal({ start: 'node dist/src/main.js', postinstall: 'patch-package' });
    expect(manifest.devDependencies).to.equal(undefined);
    for (const field of ['name', 'version', 'engines', 'dependencies', 'overrides', 'bin', 'files'])
      expect(manifest[field], field).to.deep.equal(source[field]);
    // npm's fixed file time, as npm pack writes it.
    const { stdout: listing } = await run('tar', ['-tvzf', tgz, 'package/package.json']);
    expect(listing).to.include('1985-10-26');
  });

  it('the unpacked server package runs: its CLI migrates a fresh WHMCS database', async () => {
    const unpacked = path.join(out, 'server');
    fs.mkdirSync(unpacked);
    await run('tar', ['-xzf', tgz, '-C', unpacked, '--strip-components=1']);
    // Dependencies as `npm install --omit=dev` would place them (the shared, already installed ones).
    fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(unpacked, 'node_modules'));
    const tdb = await createTestDatabase({ migrate: false });
    try {
      const cli = path.join(unpacked, 'dist', 'src', 'cli', 'main.js');
      const { stdout } = await run(process.execPath, [cli, 'migrate'], {
        env: { PATH: process.env.PATH ?? '', DATABASE_URL: tdb.url },
      });
      expect(stdout).to.match(/^applied CreateProductTables1764000000000$/m);
      const [{ n }] = await tdb.dataSource.query('SELECT COUNT(*) AS n FROM mod_mikrotikvpn_migrations');
      expect(Number(n)).to.be.at.least(4);
      const keygen = await run(process.execPath, [cli, 'keygen', '--id', 'k1'], {
        env: { PATH: process.env.PATH ?? '' },
      });
      expect(keygen.stdout.trim()).to.match(/^k1:[A-Za-z0-9+/]{43}=$/);
    } finally {
      await tdb.drop();
    }
  });
});
