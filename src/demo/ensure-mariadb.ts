import { spawnSync } from 'node:child_process';
import fs from 'node:fs';

/** Where Debian's mariadb-server puts the server, or anywhere on PATH. */
export function mariadbInstalled(): boolean {
  if (fs.existsSync('/usr/sbin/mariadbd')) return true;
  return spawnSync('sh', ['-c', 'command -v mariadbd'], { stdio: 'ignore' }).status === 0;
}

/**
 * Installs `mariadb-server` from Debian's packages when `mariadbd` is missing (as root, or through
 * sudo, which may ask for a password). The demo then runs its own private server on a temporary data
 * directory; Debian's package may also start its system service, which the demo neither uses nor stops.
 */
export function ensureMariaDbInstalled(print: (line: string) => void): void {
  if (mariadbInstalled()) return;
  if (spawnSync('sh', ['-c', 'command -v apt-get'], { stdio: 'ignore' }).status !== 0) {
    throw new Error(
      'MariaDB is not installed and this is not a Debian-like system (no apt-get): install MariaDB ' +
        'or set DATABASE_URL to a MariaDB/MySQL database the demo may fill',
    );
  }
  const asRoot = process.getuid?.() === 0 ? [] : ['sudo'];
  print(
    `MariaDB is not installed: installing mariadb-server from Debian's packages${asRoot.length ? ' (sudo)' : ''}…`,
  );
  for (const args of [
    ['apt-get', 'update', '-qq'],
    ['env', 'DEBIAN_FRONTEND=noninteractive', 'apt-get', 'install', '-y', '-qq', 'mariadb-server'],
  ]) {
    const [command, ...rest] = [...asRoot, ...args];
    const result = spawnSync(command, rest, { stdio: 'inherit' });
    if (result.status !== 0) {
      throw new Error(`\`${[command, ...rest].join(' ')}\` failed (exit ${result.status ?? result.signal})`);
    }
  }
  if (!mariadbInstalled()) throw new Error('mariadb-server was installed but mariadbd is still missing');
  print(
    'MariaDB installed. (Debian may have started its own MariaDB service too; the demo does not use it.)',
  );
}
