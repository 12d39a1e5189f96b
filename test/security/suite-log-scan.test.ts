import { expect } from 'chai';
import { suiteTraffic } from '../helpers/suite-traffic';

/**
 * The whole suite's traffic through the log output: after every test file has run, no password, API
 * key, client token or encryption key that the test helpers sent or received appears in anything a
 * server process wrote (they log at debug level unless a test says otherwise). A root-level hook, so
 * it runs once, after all files; run alone it scans only the files run with it.
 */
after('no secret of the whole run appears in any server output', function () {
  const lines = suiteTraffic.outputs.flat();
  if (!lines.length) return;
  const output = lines.join('\n');
  const leaked = [...suiteTraffic.secrets].filter((secret) => output.includes(secret));
  console.log(
    `  suite-wide log scan: ${lines.length} lines from ${suiteTraffic.outputs.length} server processes, ` +
      `${suiteTraffic.secrets.size} secrets, ${leaked.length} found`,
  );
  expect(
    leaked.map((s) => `${s.slice(0, 4)}…(${s.length} chars)`),
    'secrets found in server output',
  ).to.deep.equal([]);
});
