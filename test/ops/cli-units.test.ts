import { expect } from 'chai';
import { Progress } from '../../src/cli/progress';
import { offsetMinutes } from '../../src/cli/doctor';

describe('CLI pieces: the progress line and time zone offsets', () => {
  it('formats progress as routers done/total · accounts · elapsed, with thousands separators', () => {
    const written: string[] = [];
    const progress = new Progress({ isTTY: true, write: (t: string) => written.push(t) });
    const start = Date.now();
    expect(progress.format({ routersDone: 3, routersTotal: 20, accounts: 7500 }, start + 2100)).to.match(
      /^routers 3\/20 · accounts 7,500 · 2\.\d s$/,
    );
    expect(progress.format({ routersDone: 500, routersTotal: 10_001, unit: 'credentials' }, start)).to.match(
      /^credentials 500\/10,001 · 0\.\d s$/,
    );
    // In a terminal each update rewrites the same line; the last state is always drawn.
    progress.update({ routersDone: 1, routersTotal: 2, accounts: 5 }, true);
    progress.update({ routersDone: 2, routersTotal: 2, accounts: 9 });
    expect(written.every((t) => t.startsWith('\r\x1b[2K'))).to.equal(true);
    expect(written.at(-1)).to.include('routers 2/2 · accounts 9');
    progress.finish();
    expect(written.at(-1)).to.equal('\r\x1b[2K');
  });

  it('draws nothing when not in a terminal', () => {
    const written: string[] = [];
    const progress = new Progress({ isTTY: false, write: (t: string) => written.push(t) });
    progress.update({ routersDone: 1, routersTotal: 1 }, true);
    progress.finish();
    expect(written).to.deep.equal([]);
  });

  it('knows each zone’s UTC offset at the given instant, daylight saving and half hours included', () => {
    const winter = new Date('2026-01-15T12:00:00Z');
    const summer = new Date('2026-07-15T12:00:00Z');
    expect(offsetMinutes('UTC', winter)).to.equal(0);
    expect(offsetMinutes('Europe/Berlin', winter)).to.equal(60);
    expect(offsetMinutes('Europe/Berlin', summer)).to.equal(120);
    expect(offsetMinutes('America/New_York', winter)).to.equal(-300);
    expect(offsetMinutes('Asia/Kolkata', summer)).to.equal(330);
    expect(offsetMinutes('America/St_Johns', summer)).to.equal(-150);
    expect(offsetMinutes('Australia/Lord_Howe', winter)).to.equal(660);
  });
});
