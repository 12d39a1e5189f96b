/**
 * Imported first by the server (src/main.ts) and the CLI (src/cli/main.ts): on an unsupported
 * Node.js they stop here with one line, before any dependency is loaded that might fail in a less
 * clear way. It imports nothing but ./node-version.
 */
import { unsupportedNodeMessage } from './node-version';

const problem = unsupportedNodeMessage(process.versions.node);
if (problem) {
  console.error(problem);
  process.exit(1);
}
