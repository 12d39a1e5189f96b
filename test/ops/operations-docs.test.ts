import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { METRIC_NAMES } from '../../src/metrics';

const ROOT = path.join(__dirname, '..', '..', '..');
const read = (file: string) => fs.readFileSync(path.join(ROOT, file), 'utf8');

/** Every environment variable the server reads: app-config.ts is the only module that reads any. */
function variablesRead(): string[] {
  const source = read('src/config/app-config.ts');
  const names = new Set<string>();
  for (const [, name] of source.matchAll(/env\.([A-Z][A-Z0-9_]+)/g)) names.add(name);
  for (const [, name] of source.matchAll(/\(env, '([A-Z][A-Z0-9_]+)'/g)) names.add(name);
  return [...names].sort();
}

describe('operations documentation matches the code', () => {
  const doc = read('docs/operations.md');

  it('documents every environment variable the server reads, with a default and an example', () => {
    const vars = variablesRead();
    expect(vars).to.include.members([
      'DATABASE_URL',
      'ENCRYPTION_KEY_FILE',
      'METRICS_TOKEN',
      'WHMCS_TIME_ZONE',
    ]);
    const rows = new Map(
      doc
        .split('\n')
        .filter((l) => /^\| `[A-Z_]+` \|/.test(l))
        .map((l) => [
          /^\| `([A-Z_]+)`/.exec(l)![1],
          l
            .split('|')
            .slice(1, -1)
            .map((c) => c.trim()),
        ]),
    );
    const missing = vars.filter((v) => !rows.has(v));
    expect(missing, 'variables read by app-config.ts but not in docs/operations.md').to.deep.equal([]);
    for (const v of vars) {
      const [, defaultValue, example, meaning] = rows.get(v)!;
      expect(defaultValue, `${v} default`).to.not.equal('');
      expect(example, `${v} example`).to.not.equal('');
      expect(meaning, `${v} meaning`).to.not.equal('');
    }
    // And nothing documented that the server does not read.
    expect([...rows.keys()].filter((v) => !vars.includes(v))).to.deep.equal([]);
  });

  it('the example environment file sets only variables the server reads', () => {
    const set = read('deploy/env.example')
      .split('\n')
      .map((l) => /^#?\s*([A-Z][A-Z0-9_]+)=/.exec(l)?.[1])
      .filter((v): v is string => !!v);
    expect(set.length).to.be.at.least(5);
    expect(set.filter((v) => !variablesRead().includes(v))).to.deep.equal([]);
  });

  it('the Grafana dashboard queries only exported metrics, and shows every one of them', () => {
    const dashboard = JSON.parse(read('docs/grafana-dashboard.json')) as {
      panels: { title: string; targets: { expr: string }[] }[];
    };
    const used = new Set<string>();
    for (const panel of dashboard.panels) {
      expect(panel.targets.length, panel.title).to.be.at.least(1);
      for (const { expr } of panel.targets) {
        const names = [...expr.matchAll(/\bmvpn_[a-z_]+/g)].map((m) =>
          m[0].replace(/_(bucket|count|sum)$/, ''),
        );
        expect(names.length, expr).to.be.at.least(1);
        for (const name of names) {
          expect(METRIC_NAMES as readonly string[], `${panel.title}: ${expr}`).to.include(name);
          used.add(name);
        }
      }
    }
    expect([...METRIC_NAMES].filter((n) => !used.has(n))).to.deep.equal([]);
    // The operations guide lists them too.
    for (const name of METRIC_NAMES) expect(doc, name).to.include(`\`${name}\``);
  });

  it('the systemd units run the packaged server, reload keys on SIGHUP and read the documented files', () => {
    const files = (JSON.parse(read('package.json')) as { files: string[] }).files;
    for (const unit of ['deploy/whmcs-mikrotik-vpn.service', 'deploy/whmcs-mikrotik-vpn@.service']) {
      const text = read(unit);
      const exec = /^ExecStart=\S+node .*?(dist\/src\/main\.js)$/m.exec(text);
      expect(exec, unit).to.not.equal(null);
      expect(files.some((f) => exec![1].startsWith(f))).to.equal(true);
      expect(text).to.match(/^ExecReload=\/bin\/kill -HUP \$MAINPID$/m);
      expect(text).to.match(/^EnvironmentFile=\/etc\/whmcs-mikrotik-vpn\/env$/m);
      expect(text).to.match(/^Environment=NODE_ENV=production$/m);
    }
    expect(read('deploy/whmcs-mikrotik-vpn@.service')).to.match(/^Environment=PORT=%i$/m);
    expect(doc).to.include('/etc/whmcs-mikrotik-vpn/env');
    expect(doc).to.include('deploy/whmcs-mikrotik-vpn.service');
  });
});
