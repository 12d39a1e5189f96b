import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { generateKeyLine } from '../../src/auth/secret-box';
import { noteSecret, noteSecretsIn, noteWireGuardKeysIn, suiteTraffic } from './suite-traffic';
import { makeTempDir } from './temp-dirs';

const MAIN = path.join(__dirname, '..', '..', 'src', 'main.js');
const CLOCK_SHIFT = path.join(__dirname, 'clock-shift.js');

export interface TestServer {
  url: string;
  port: number;
  process: ChildProcess;
  /** Every line the server wrote (stdout and stderr), for assertions on logs. */
  output: string[];
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** A key file for router-credential encryption, made fresh for a test run (removed at exit). */
export function makeKeyFile(lines: string[] = [generateKeyLine('test1')]): string {
  const dir = makeTempDir('mvpn-key-');
  const file = path.join(dir, 'keys');
  for (const line of lines) noteSecret(line.split(':')[1]);
  fs.writeFileSync(file, lines.join('\n') + '\n', { mode: 0o600 });
  return file;
}

/** Starts the real server process (node dist/src/main.js) on a free port and waits until it listens. */
export async function startServer(env: Record<string, string>, timeoutMs = 20_000): Promise<TestServer> {
  // A server whose wall clock a test steps (see clock-shift.ts and stepClock below).
  const preload = env.MVPN_TEST_CLOCK_FILE ? ['-r', CLOCK_SHIFT] : [];
  const child = spawn(process.execPath, [...preload, MAIN], {
    env: { PATH: process.env.PATH ?? '', NODE_ENV: 'test', PORT: '0', LOG_LEVEL: 'debug', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  suiteTraffic.outputs.push(output);
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`server did not start:\n${output.join('\n')}`)),
      timeoutMs,
    );
    // Whole lines, each stream on its own: a pipe may cut a long log line between two chunks.
    const onLine = (line: string) => {
      if (!line) return;
      output.push(line);
      try {
        const entry = JSON.parse(line) as { msg?: string; port?: number };
        if (entry.msg === 'listening' && entry.port) {
          clearTimeout(timer);
          resolve(entry.port);
        }
      } catch {
        // not a JSON log line
      }
    };
    readline.createInterface({ input: child.stdout, crlfDelay: Infinity }).on('line', onLine);
    readline.createInterface({ input: child.stderr, crlfDelay: Infinity }).on('line', onLine);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code}:\n${output.join('\n')}`));
    });
  });
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    process: child,
    output,
    stop(signal: NodeJS.Signals = 'SIGTERM') {
      return new Promise((resolve) => {
        if (child.exitCode !== null) return resolve(child.exitCode);
        child.once('exit', (code) => resolve(code));
        child.kill(signal);
      });
    },
  };
}

export interface GqlResult<T = Record<string, unknown>> {
  status: number;
  data?: T | null;
  errors?: { message: string; extensions?: { code?: string; [k: string]: unknown }; path?: unknown[] }[];
}

/** Sends one GraphQL operation over HTTP, as any client would. */
export async function gql<T = Record<string, any>>(
  url: string,
  query: string,
  variables: Record<string, unknown> = {},
  key?: string,
): Promise<GqlResult<T>> {
  const response = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as GqlResult<T>;
  noteSecret(key);
  noteSecretsIn(variables, 'password');
  noteSecretsIn(body.data, 'token');
  noteWireGuardKeysIn(body.data);
  return { status: response.status, data: body.data, errors: body.errors };
}

/** The first error's code, or undefined. */
export function codeOf(result: GqlResult): string | undefined {
  return result.errors?.[0]?.extensions?.code;
}

/** Waits until /health answers 200 (the server reached its database and applied migrations). */
export async function waitForHealthy(server: TestServer, timeoutMs = 20_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    const status = await fetch(`${server.url}/health`).then(
      (r) => r.status,
      () => 0,
    );
    if (status === 200) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`server not healthy after ${timeoutMs} ms:\n${server.output.slice(-5).join('\n')}`);
}

/** A file that sets a server's clock offset (pass it as MVPN_TEST_CLOCK_FILE), starting at `offsetMs`. */
export function makeClockFile(offsetMs = 0): string {
  const dir = makeTempDir('mvpn-clock-');
  const file = path.join(dir, 'offset');
  fs.writeFileSync(file, String(offsetMs));
  return file;
}

/** Steps a server's wall clock to `offsetMs` from the real time, and waits until it took effect. */
export async function stepClock(server: TestServer, file: string, offsetMs: number): Promise<void> {
  fs.writeFileSync(file, String(offsetMs));
  server.process.kill('SIGUSR2');
  for (let i = 0; i < 200; i++) {
    if (fs.readFileSync(`${file}.ack`, 'utf8') === String(offsetMs)) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error('the server did not take the clock step');
}

/**
 * Waits (up to timeoutMs) until the server has written a JSON log line that matches. The line is
 * written before the answer is sent, but the two travel on different pipes: the answer can arrive
 * first. Returns whether it came, so that the caller's assertion says what was missing.
 */
export async function waitForLogLine(
  server: TestServer,
  matches: (entry: Record<string, unknown>) => boolean,
  timeoutMs = 2_000,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (let seen = 0; ;) {
    for (; seen < server.output.length; seen++) {
      try {
        if (matches(JSON.parse(server.output[seen]) as Record<string, unknown>)) return true;
      } catch {
        // not a JSON log line
      }
    }
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** The port of the server's CLIENT_PORT listener (client tokens only), from its start-up log. */
export function clientPortOf(server: TestServer): number {
  for (const line of server.output) {
    try {
      const entry = JSON.parse(line) as { msg?: string; clientPort?: number };
      if (entry.msg === 'client listener (client tokens only)' && entry.clientPort) return entry.clientPort;
    } catch {
      // not a JSON log line
    }
  }
  throw new Error(`the server logged no client listener:\n${server.output.slice(-5).join('\n')}`);
}
