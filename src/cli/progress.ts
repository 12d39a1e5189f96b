/** What a long command has done so far. */
export interface ProgressState {
  routersDone: number;
  routersTotal: number;
  accounts?: number;
  /** A noun other than "routers" for what is counted (rotate-key counts credentials). */
  unit?: string;
}

interface Stream {
  isTTY?: boolean;
  write(text: string): unknown;
}

const numbers = new Intl.NumberFormat('en-US');

/**
 * The progress of a long command. In a terminal: one line on stderr, rewritten in place
 * (`routers 3/20 · accounts 7,500 · 2.1 s`), at most ten times a second. Elsewhere (logs, pipes,
 * cron): nothing here; the command prints a plain line per finished item itself.
 */
export class Progress {
  private readonly started = Date.now();
  private lastDraw = 0;
  private drawn = false;

  constructor(private readonly out: Stream = process.stderr) {}

  get interactive(): boolean {
    return !!this.out.isTTY;
  }

  /** The progress line for a state (also used by tests). */
  format(state: ProgressState, now = Date.now()): string {
    const parts = [
      `${state.unit ?? 'routers'} ${numbers.format(state.routersDone)}/${numbers.format(state.routersTotal)}`,
    ];
    if (state.accounts !== undefined) parts.push(`accounts ${numbers.format(state.accounts)}`);
    parts.push(`${((now - this.started) / 1000).toFixed(1)} s`);
    return parts.join(' · ');
  }

  update(state: ProgressState, force = false): void {
    if (!this.interactive) return;
    const now = Date.now();
    if (!force && now - this.lastDraw < 100 && state.routersDone < state.routersTotal) return;
    this.lastDraw = now;
    this.drawn = true;
    this.out.write(`\r\x1b[2K${this.format(state, now)}`);
  }

  /** Prints a line above the progress line (a finished router), keeping the progress line below. */
  above(line: string, state: ProgressState, print: (line: string) => void): void {
    if (this.interactive && this.drawn) this.out.write('\r\x1b[2K');
    print(line);
    if (this.interactive) this.update(state, true);
  }

  /** Clears the progress line before the command's summary. */
  finish(): void {
    if (this.interactive && this.drawn) this.out.write('\r\x1b[2K');
  }
}
