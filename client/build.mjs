// Builds the client-area usage page (client/usage/main.ts) into the WHMCS module folder, where
// WHMCS serves it as-is: php-bridge/modules/servers/mikrotikvpn/js/usage.js. The built file is
// committed; `node client/build.mjs --check` fails when it differs from a fresh build.
import { build } from 'esbuild';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const outfile = path.join(root, 'php-bridge/modules/servers/mikrotikvpn/js/usage.js');
const check = process.argv.includes('--check');

const result = await build({
  entryPoints: [path.join(root, 'client/usage/main.ts')],
  outfile,
  bundle: true,
  format: 'iife',
  platform: 'browser',
  target: ['es2020', 'chrome90', 'firefox90', 'safari15'],
  minify: true,
  legalComments: 'eof',
  charset: 'utf8',
  tsconfig: path.join(root, 'client/tsconfig.json'),
  banner: {
    js: '/* MikroTik VPN usage page. Built from client/usage by `npm run build:client`; do not edit. */',
  },
  write: !check,
  logLevel: 'warning',
});

if (check) {
  const fresh = result.outputFiles[0].text;
  let committed = '';
  try {
    committed = readFileSync(outfile, 'utf8');
  } catch {
    committed = '';
  }
  if (committed !== fresh) {
    console.error(
      `${path.relative(root, outfile)} is not the build of client/usage: run npm run build:client`,
    );
    process.exit(1);
  }
  console.log(`${path.relative(root, outfile)} is up to date`);
} else {
  console.log(`wrote ${path.relative(root, outfile)}`);
}
