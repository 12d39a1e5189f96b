/**
 * Preloaded into a server process (`node -r dist/test/helpers/clock-shift.js`) to step its wall
 * clock as NTP or a resumed VM would: `Date` (now, `new Date()`) is shifted by the milliseconds
 * written in MVPN_TEST_CLOCK_FILE, read at start and again on SIGUSR2, after which the offset is
 * echoed to `<file>.ack`. The monotonic clock (`performance.now()`) is left alone, as a real step
 * leaves it. Test equipment only: the product never loads it.
 */
import fs from 'node:fs';

const file = process.env.MVPN_TEST_CLOCK_FILE;
if (file) {
  let offset = 0;
  const read = () => {
    try {
      offset = Number(fs.readFileSync(file, 'utf8').trim()) || 0;
    } catch {
      offset = 0;
    }
    fs.writeFileSync(`${file}.ack`, String(offset));
  };
  read();
  process.on('SIGUSR2', read);
  const RealDate = Date;
  class SteppedDate extends RealDate {
    constructor(...args: unknown[]) {
      if (args.length === 0) super(RealDate.now() + offset);
      else super(...(args as [string | number | Date]));
    }
    static override now(): number {
      return RealDate.now() + offset;
    }
  }
  globalThis.Date = SteppedDate as DateConstructor;
}
