import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import mysql from 'mysql2/promise';

/** A MariaDB server of our own: for the demo, and for tests that must stop or kill the database. */
export interface PrivateMariaDb {
  host: string;
  port: number;
  user: string;
  password: string;
  /** `mysql://root@127.0.0.1:<port>/` — append a database name. */
  url: string;
  dataDir: string;
  /**
   * Stops the server (SIGTERM, or SIGKILL for a crash), keeps it down `downForMs` (default 0), and
   * starts it again on the same port and data.
   */
  restart(options?: { signal?: 'SIGTERM' | 'SIGKILL'; downForMs?: number }): Promise<void>;
  /** Stops the server; removes the data directory when we created it. */
  stop(): Promise<void>;
}

export interface PrivateMariaDbOptions {
  /** Kept between runs when given (initialised on first use); a fresh temporary one otherwise. */
  dataDir?: string;
  /** A free port is picked when not given. */
  port?: number;
  onLog?: (line: string) => void;
}

const HOST = '127.0.0.1';
const USER = 'root';
const READY_TIMEOUT_MS = 60_000;

/**
 * Starts `mariadbd` on a data directory initialised by `mariadb-install-db` with root allowed over
 * TCP with an empty password (grant tables on: the demo uses real accounts). The server dies with
 * this process: on exit, and through a watchdog when this process is killed outright.
 */
export async function startPrivateMariaDb(options: PrivateMariaDbOptions = {}): Promise<PrivateMariaDb> {
  const ownsDataDir = !options.dataDir;
  const dataDir = path.resolve(options.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'mvpn-mariadb-')));
  // Unix socket paths are limited to ~100 characters: keep the socket and pid file in a short temp dir.
  const runDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mvpn-mdb-run-'));
  const port = options.port ?? (await freePort());
  const log = options.onLog ?? (() => undefined);

  if (!fs.existsSync(path.join(dataDir, 'mysql'))) await initialise(dataDir, log);

  let child: ChildProcess | null = null;
  let watchdog: ChildProcess | null = null;
  const killOnExit = (): void => {
    child?.kill('SIGKILL');
  };
  process.on('exit', killOnExit);

  const start = async (): Promise<void> => {
    const args = [
      '--no-defaults',
      `--datadir=${dataDir}`,
      `--port=${port}`,
      `--bind-address=${HOST}`,
      `--socket=${path.join(runDir, 'mysqld.sock')}`,
      `--pid-file=${path.join(runDir, 'mysqld.pid')}`,
      '--skip-log-bin',
      '--innodb-buffer-pool-size=64M',
      '--max-connections=500',
      ...(process.getuid?.() === 0 ? ['--user=root'] : []),
    ];
    const proc = spawn(binary('mariadbd', '/usr/sbin/mariadbd'), args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child = proc;
    forwardLines(proc, log);
    const exited = new Promise<never>((_, reject) =>
      proc.once('exit', (code, signal) =>
        reject(new Error(`mariadbd exited before it was ready (code ${code}, signal ${signal})`)),
      ),
    );
    exited.catch(() => undefined);
    // Kills mariadbd if we die without running our exit handler (SIGKILL, crash).
    watchdog = spawn(
      'sh',
      ['-c', `while kill -0 ${process.pid} 2>/dev/null; do sleep 1; done; kill -9 ${proc.pid} 2>/dev/null`],
      { stdio: 'ignore', detached: true },
    );
    watchdog.unref();
    await Promise.race([waitUntilReady(port), exited]);
  };

  const halt = async (signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM'): Promise<void> => {
    const proc = child;
    child = null;
    watchdog?.kill('SIGKILL');
    watchdog = null;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const gone = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    proc.kill(signal);
    const forced = setTimeout(() => proc.kill('SIGKILL'), 30_000);
    await gone;
    clearTimeout(forced);
  };

  try {
    await start();
  } catch (error) {
    await halt('SIGKILL');
    process.off('exit', killOnExit);
    throw error;
  }

  return {
    host: HOST,
    port,
    user: USER,
    password: '',
    url: `mysql://${USER}@${HOST}:${port}/`,
    dataDir,
    async restart(restartOptions) {
      await halt(restartOptions?.signal ?? 'SIGTERM');
      if (restartOptions?.downForMs) await new Promise((r) => setTimeout(r, restartOptions.downForMs));
      await start();
    },
    async stop() {
      await halt('SIGTERM');
      process.off('exit', killOnExit);
      fs.rmSync(runDir, { recursive: true, force: true });
      if (ownsDataDir) fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

async function initialise(dataDir: string, log: (line: string) => void): Promise<void> {
  fs.mkdirSync(dataDir, { recursive: true });
  const args = [
    '--no-defaults',
    `--datadir=${dataDir}`,
    '--auth-root-authentication-method=normal',
    '--skip-test-db',
    ...(process.getuid?.() === 0 ? ['--user=root'] : []),
  ];
  const proc = spawn(binary('mariadb-install-db', '/usr/bin/mariadb-install-db'), args, {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  forwardLines(proc, log);
  const code = await new Promise<number | null>((resolve, reject) => {
    proc.once('error', reject);
    proc.once('exit', resolve);
  });
  if (code !== 0) throw new Error(`mariadb-install-db failed with code ${code} (see its log lines)`);
}

/** The Debian location when present, else whatever PATH finds. */
function binary(name: string, debianPath: string): string {
  return fs.existsSync(debianPath) ? debianPath : name;
}

function forwardLines(proc: ChildProcess, log: (line: string) => void): void {
  for (const stream of [proc.stdout, proc.stderr]) {
    if (stream) readline.createInterface({ input: stream }).on('line', log);
  }
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, HOST, () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

async function waitUntilReady(port: number): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    try {
      const connection = await mysql.createConnection({
        host: HOST,
        port,
        user: USER,
        password: '',
        connectTimeout: 1000,
      });
      await connection.end();
      return;
    } catch (error) {
      if (Date.now() > deadline)
        throw new Error(`mariadbd did not accept connections: ${(error as Error).message}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}
