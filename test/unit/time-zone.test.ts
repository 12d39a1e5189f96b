import { expect } from 'chai';
import fc from 'fast-check';
import { addDays, dayIn, startOfDay } from '../../src/common/time-zone';

const day = fc
  .integer({ min: Date.UTC(1970, 0, 1) / 86_400_000, max: Date.UTC(2200, 0, 1) / 86_400_000 })
  .map((n) => new Date(n * 86_400_000).toISOString().slice(0, 10));

describe('calendar days (properties)', () => {
  it('addDays is calendar arithmetic: the same as the date library, across months, leap years and centuries', () => {
    fc.assert(
      fc.property(day, fc.integer({ min: -800, max: 800 }), (d, n) => {
        const expected = new Date(Date.parse(`${d}T00:00:00Z`) + n * 86_400_000).toISOString().slice(0, 10);
        expect(addDays(d, n)).to.equal(expected);
      }),
    );
    expect(addDays('2024-02-28', 1)).to.equal('2024-02-29');
    expect(addDays('2100-02-28', 1)).to.equal('2100-03-01');
    expect(addDays('2026-12-31', 1)).to.equal('2027-01-01');
    expect(addDays('2026-03-01', -1)).to.equal('2026-02-28');
  });

  it('startOfDay is the first instant of that day in the zone, also on DST days, and the same when asked again', () => {
    for (const tz of ['UTC', 'America/New_York', 'Europe/Berlin', 'Pacific/Auckland', 'America/Havana']) {
      fc.assert(
        fc.property(day, (d) => {
          const first = startOfDay(d, tz);
          expect(dayIn(tz, first), `${d} ${tz}`).to.equal(d);
          expect(dayIn(tz, new Date(first.getTime() - 1000)), `${d} ${tz}`).to.equal(addDays(d, -1));
          expect(startOfDay(d, tz).getTime()).to.equal(first.getTime());
        }),
        { numRuns: 200 },
      );
    }
    // Havana skips midnight into DST (00:00 → 01:00): the day starts at 01:00 local, 05:00 UTC.
    expect(startOfDay('2026-03-08', 'America/Havana').toISOString()).to.equal('2026-03-08T05:00:00.000Z');
  });
});
