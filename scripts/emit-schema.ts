import 'reflect-metadata';
import fs from 'node:fs';
import path from 'node:path';
import { printPhpErrorCodes, printSortedSchema } from '../src/schema';

/** Writes schema/schema.graphql from the code (a test fails when the committed file differs). */
async function main() {
  const file = path.join(__dirname, '..', '..', 'schema', 'schema.graphql');
  fs.writeFileSync(file, await printSortedSchema());
  console.log(`wrote ${path.relative(process.cwd(), file)}`);
  const php = path.join(
    __dirname,
    '..',
    '..',
    'php-bridge',
    'modules',
    'servers',
    'mikrotikvpn',
    'lib',
    'ErrorCode.php',
  );
  fs.writeFileSync(php, printPhpErrorCodes());
  console.log(`wrote ${path.relative(process.cwd(), php)}`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
