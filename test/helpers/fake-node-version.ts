/**
 * Preloaded with `node -r` to make a process believe it runs on another Node.js
 * (MVPN_TEST_NODE_VERSION, e.g. `18.20.4`): how test/unit/node-version.test.ts sees the server and the
 * CLI refuse an old one on a machine that has only a supported one.
 */
const version = process.env.MVPN_TEST_NODE_VERSION;
if (version) {
  Object.defineProperty(process, 'versions', { value: { ...process.versions, node: version } });
  Object.defineProperty(process, 'version', { value: `v${version}` });
}
