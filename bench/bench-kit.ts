import { execFileSync, fork, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import v8 from 'node:v8';
import vm from 'node:vm';
import mysql from 'mysql2/promise';
import { testServerConfig } from '../test/helpers/test-db';

/** What the benchmarks share: statistics, the simulator host process, and where results go. */

export function median(xs: number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}
export const round = (x: number, digits = 1) => Math.round(x * 10 ** digits) / 10 ** digits;

/** Median, min and max of several runs, rounded. */
export function spread(xs: number[]) {
  return { medianMs: round(median(xs)), minMs: round(Math.min(...xs)), maxMs: round(Math.max(...xs)) };
}

/** Median, min and max of any quantity, with the runs themselves. */
export function stat(xs: number[], digits = 1) {
  return {
    median: round(median(xs), digits),
    min: round(Math.min(...xs), digits),
    max: round(Math.max(...xs), digits),
    runs: xs.map((x) => round(x, digits)),
  };
}

/** `median (min–max)` for the printed table. */
export function fmt(s: { median: number; min: number; max: number }, unit = ''): string {
  return s.min === s.max ? `${s.median}${unit}` : `${s.median}${unit} (${s.min}–${s.max})`;
}

/** Where the numbers were measured: read at run time, stored with every result. */
export async function machineInfo() {
  const conn = await mysql.createConnection(testServerConfig());
  try {
    const [[row]] = (await conn.query('SELECT VERSION() AS v')) as unknown as [{ v: string }[]];
    return {
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model ?? 'unknown',
      memoryGb: round(os.totalmem() / 1024 ** 3, 1),
      os: `${os.type()} ${os.release()}`,
      node: process.version,
      mariadb: row.v,
      loadAverage: os.loadavg().map((x) => round(x, 2)),
    };
  } finally {
    await conn.end();
  }
}

// A full garbage collection before each measured run (outside its timing), so heap growth is the
// run's own, not leftovers of the previous one.
v8.setFlagsFromString('--expose-gc');
export const collectGarbage = vm.runInNewContext('gc') as () => void;

/**
 * Samples resident memory every 10 ms (and the heap every 50 ms: reading it costs more) while `work`
 * runs; returns the peak and the heap growth. Sampling runs in the measured process, so it is cheap.
 */
export async function withMemory<T>(work: () => Promise<T>) {
  const heap0 = process.memoryUsage().heapUsed;
  let peakRss = process.memoryUsage.rss();
  let peakHeap = heap0;
  const rssTimer = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage.rss())), 10);
  const heapTimer = setInterval(() => (peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed)), 50);
  try {
    const result = await work();
    const m = process.memoryUsage();
    peakRss = Math.max(peakRss, m.rss);
    peakHeap = Math.max(peakHeap, m.heapUsed);
    return { result, peakRssMb: peakRss / 1048576, heapGrowthMb: (peakHeap - heap0) / 1048576 };
  } finally {
    clearInterval(rssTimer);
    clearInterval(heapTimer);
  }
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
  connectedShare?: number;
  /** Share of each router's accounts that are WireGuard peers (the last ones); default 0. */
  wireGuardShare?: number;
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
      '--connected-share',
      String(options.connectedShare ?? 0),
      '--wireguard-share',
      String(options.wireGuardShare ?? 0),
    ],
    { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] },
  );
  return new Promise((resolve, reject) => {
    child.stdout!.once('data', (chunk: Buffer) => resolve({ child, routers: JSON.parse(chunk.toString()) }));
    child.once('exit', (code) => reject(new Error(`simulators exited with ${code}`)));
  });
}

/**
 * Asks the simulator host for `stats` (commands and connections per router), to `clear` its log, or
 * to push `traffic` through every queue.
 */
export function askSimHost<T>(child: ChildProcess, cmd: 'stats' | 'clear' | 'traffic'): Promise<T> {
  return new Promise((resolve) => {
    child.once('message', (m) => resolve(m as T));
    child.send({ cmd });
  });
}

/** Writes `bench-results/<name>.json` (git-ignored) and returns its path. */
export function writeResults(name: string, results: unknown, machine?: unknown): string {
  const dir = path.join(__dirname, '..', '..', 'bench-results');
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${name}.json`);
  writeFileSync(
    file,
    `${JSON.stringify(
      {
        at: new Date().toISOString(),
        command: `npm run bench -- ${process.argv.slice(2).join(' ')}`.trim(),
        machine,
        results,
      },
      (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v),
      2,
    )}\n`,
  );
  return path.relative(process.cwd(), file);
}

/** CPU time (user + system, ms) a process has used so far, from /proc (Linux); null elsewhere. */
export function processCpuMs(pid: number | undefined): number | null {
  if (!pid) return null;
  try {
    // Fields 14 and 15 (utime, stime) in clock ticks of 10 ms; the command name may hold spaces.
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return null;
  }
}

/** The local MariaDB server's process id, to read its CPU time (it is shared: other clients count too). */
export function mariadbPid(): number | undefined {
  try {
    return (
      Number(execFileSync('pidof', ['mariadbd'], { encoding: 'utf8' }).trim().split(' ')[0]) || undefined
    );
  } catch {
    return undefined;
  }
}
