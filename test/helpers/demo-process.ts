import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';

const DEMO = path.join(__dirname, '..', '..', 'src', 'demo', 'main.js');

export interface DemoProcess {
  process: ChildProcess;
  /** Everything the demo printed (stdout and stderr), line by line. */
  output: string[];
  /** The printed explorer URL's origin, e.g. http://127.0.0.1:41234. */
  url: string;
  explorerUrl: string;
  apiKey: string;
  /** Sends `signal` to the demo's whole process group, as Ctrl-C in a terminal does; resolves with the exit code. */
  interrupt(signal?: NodeJS.Signals): Promise<number | null>;
}

/**
 * Runs `node dist/src/demo/main.js` the way the README's `npm run demo` does, in its own process group,
 * with no database configured (it starts its private MariaDB) and PORT=0. Resolves once it printed its whole
 * banner (explorer URL, API key, curl line), or a line matching `until` (then URL and key may be empty).
 */
export async function startDemo(
  env: Record<string, string> = {},
  options: { until?: RegExp; timeoutMs?: number } = {},
): Promise<DemoProcess> {
  const until = options.until ?? /Press Ctrl-C/;
  const child = spawn(process.execPath, [DEMO], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  const output: string[] = [];
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const ready = await new Promise<{ explorerUrl: string; apiKey: string }>((resolve, reject) => {
    let explorerUrl = '';
    let apiKey = '';
    const timer = setTimeout(
      () => reject(new Error(`demo not ready:\n${output.join('\n')}`)),
      options.timeoutMs ?? 120_000,
    );
    // Whole lines, each stream on its own: a pipe may cut a line between two chunks.
    const onLine = (line: string) => {
      if (!line) return;
      output.push(line);
      explorerUrl ||= /^\s*Explorer:\s+(\S+)/.exec(line)?.[1] ?? '';
      apiKey ||= /^\s*API key:\s+(\S+)/.exec(line)?.[1] ?? '';
      // By default the banner's last line: everything has been printed.
      if (until.test(line) && (options.until || (explorerUrl && apiKey))) {
        clearTimeout(timer);
        resolve({ explorerUrl, apiKey });
      }
    };
    readline.createInterface({ input: child.stdout, crlfDelay: Infinity }).on('line', onLine);
    readline.createInterface({ input: child.stderr, crlfDelay: Infinity }).on('line', onLine);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`demo exited with ${code} before it was ready:\n${output.join('\n')}`));
    });
  });
  return {
    process: child,
    output,
    url: ready.explorerUrl && new URL(ready.explorerUrl).origin,
    explorerUrl: ready.explorerUrl,
    apiKey: ready.apiKey,
    interrupt(signal: NodeJS.Signals = 'SIGINT') {
      if (child.exitCode === null && child.signalCode === null) process.kill(-child.pid!, signal);
      return exited;
    },
  };
}
