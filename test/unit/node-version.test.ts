import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';
import semver from 'semver';
import { isSupportedNode, supportedNodeRange, unsupportedNodeMessage } from '../../src/runtime/node-version';

const run = promisify(execFile);
const ROOT = path.join(__dirname, '..', '..', '..');
const DIST = path.join(__dirname, '..', '..');
const FAKE = path.join(DIST, 'test', 'helpers', 'fake-node-version.js');
const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
  engines: { node: string };
};
const lock = JSON.parse(fs.readFileSync(path.join(ROOT, 'package-lock.json'), 'utf8')) as {
  packages: Record<string, { version?: string; engines?: { node?: string } | string[] }>;
};

/** Runs `node -r fake-node-version <script>` as if on Node.js `version`; returns the exit code and stderr. */
async function runAs(version: string, script: string, args: string[] = []) {
  try {
    const r = await run(process.execPath, ['-r', FAKE, script, ...args], {
      env: { PATH: process.env.PATH ?? '', MVPN_TEST_NODE_VERSION: version },
    });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('supported Node.js versions', () => {
  it('accepts 20.19+, 22.13+ and 24 or later, and nothing older or in between', () => {
    for (const v of ['20.19.0', 'v20.20.2', '22.13.0', '22.22.1', '24.0.0', '24.11.1', '26.1.0'])
      expect(isSupportedNode(v), v).to.equal(true);
    for (const v of ['18.20.4', '20.11.1', '20.18.3', '21.7.3', '22.12.0', '23.11.0', 'garbage'])
      expect(isSupportedNode(v), v).to.equal(false);
  });

  it('is the range package.json names in engines, and semver reads it the same way', () => {
    expect(pkg.engines.node).to.equal(supportedNodeRange());
    for (const v of [
      '18.20.4',
      '20.18.3',
      '20.19.0',
      '21.7.3',
      '22.12.0',
      '22.13.0',
      '23.1.0',
      '24.0.0',
      '25.2.1',
    ])
      expect(isSupportedNode(v), v).to.equal(semver.satisfies(v, pkg.engines.node));
  });

  it('every locked dependency accepts the oldest version of each supported line (npm ci warns no EBADENGINE)', () => {
    const lowest = ['20.19.0', '22.13.0', '24.0.0', process.versions.node];
    const refused: string[] = [];
    for (const [name, entry] of Object.entries(lock.packages)) {
      const range = !Array.isArray(entry.engines) ? entry.engines?.node : undefined;
      if (!name || !range) continue;
      for (const v of lowest)
        if (!semver.satisfies(v, range)) refused.push(`${name}@${entry.version} wants ${range}, not ${v}`);
    }
    expect(refused).to.deep.equal([]);
  });

  it('says in one line which versions are needed and which one this is', () => {
    expect(unsupportedNodeMessage('20.20.2')).to.equal(null);
    expect(unsupportedNodeMessage('18.20.4')).to.equal(
      'whmcs-mikrotik-vpn needs Node.js ^20.19.0 || ^22.13.0 || >=24 (22 or 24 LTS recommended); this is Node.js v18.20.4',
    );
  });

  it('the server and the CLI refuse an older Node.js with that one line, before loading anything else', async () => {
    for (const script of [path.join(DIST, 'src', 'main.js'), path.join(DIST, 'src', 'cli', 'main.js')]) {
      const old = await runAs('20.11.1', script, ['keygen']);
      expect(old.code, script).to.equal(1);
      expect(old.stdout).to.equal('');
      expect(old.stderr).to.equal(`${unsupportedNodeMessage('20.11.1')}\n`);
    }
    // The same preload on a supported version changes nothing: the CLI runs.
    const ok = await runAs('22.13.0', path.join(DIST, 'src', 'cli', 'main.js'), ['keygen', '--id', 'k1']);
    expect(ok.code, ok.stderr).to.equal(0);
    expect(ok.stdout).to.match(/^k1:/);
  });
});
