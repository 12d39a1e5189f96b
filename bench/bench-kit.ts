import { fork, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** What the benchmarks share: statistics, the simulator host process, and where results go. */

export const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
export const round = (x: number, digits = 1) => Math.round(x * 10 ** digits) / 10 ** digits;

/** Median, min and max of several runs, rounded. */
export function spread(xs: number[]) {
  return { medianMs: round(median(xs)), minMs: round(Math.min(...xs)), maxMs: round(Math.max(...xs)) };
}

export interface SimHostRouter {
  port: number;
  username: string;
  password: string;
  firstIndex: number;
}

/**
 * Starts simulated routers in their own process (bench/sim-host.ts), so that their CPU time and
 * memory are not counted as the product's.
 */
export function startSimHost(options: {
  routers: number;
  accounts: number;
  latencyMs: number;
}): Promise<{ child: ChildProcess; routers: SimHostRouter[] }> {
  const child = fork(
    path.join(__dirname, 'sim-host.js'),
    [
      '--routers',
      String(options.routers),
      '--accounts',
      String(options.accounts),
      '--latency-ms',
      String(options.latencyMs),
    ],
    { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] },
  );
  return new Promise((resolve, reject) => {
    child.stdout!.once('data', (chunk: Buffer) => resolve({ child, routers: JSON.parse(chunk.toString()) }));
    child.once('exit', (code) => reject(new Error(`simulators exited with ${code}`)));
  });
}

/** Asks the simulator host for `stats` (commands and connections per router) or to `clear` its log. */
export function askSimHost<T>(child: ChildProcess, cmd: 'stats' | 'clear'): Promise<T> {
  return new Promise((resolve) => {
    child.once('message', (m) => resolve(m as T));
    child.send({ cmd });
  });
}

/** Writes `bench-results/<name>.json` (git-ignored) and returns its path. */
export function writeResults(name: string, results: unknown): string {
  const dir = path.join(__dirname, '..', '..', 'bench-results');
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${name}.json`);
  writeFileSync(
    file,
    `${JSON.stringify(
      { at: new Date().toISOString(), node: process.version, results },
      (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v),
      2,
    )}\n`,
  );
  return path.relative(process.cwd(), file);
}
