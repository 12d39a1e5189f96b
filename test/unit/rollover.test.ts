import { expect } from 'chai';
import fc from 'fast-check';
import {
  balanceParts,
  carriedOverExpiresAt,
  carryOversLeft,
  planRenewal,
  type CarryOver,
} from '../../src/services/traffic/rollover';
import { addMonths } from '../../src/common/time-zone';

const GB = 1_000_000_000n;
const carry = { rollover: 'carry' as const, rolloverMaxBytes: 3n * GB };

/** The rules of rollover on numbers: the parts of a balance and what a renewal does with them. */
describe('rollover rules', () => {
  it('uses carried-over traffic first, then the allowance, then what never expires', () => {
    // 3 GB carried in, 10 GB allowance, 5 GB bought: 18 GB.
    const columns = { kept: 5n * GB, carried: 3n * GB, credited: 10n * GB };
    expect(balanceParts({ ...columns, balance: 18n * GB })).to.deep.equal({
      carried: 3n * GB,
      allowance: 10n * GB,
      kept: 5n * GB,
    });
    expect(balanceParts({ ...columns, balance: 16n * GB })).to.deep.equal({
      carried: 1n * GB,
      allowance: 10n * GB,
      kept: 5n * GB,
    });
    expect(balanceParts({ ...columns, balance: 9n * GB })).to.deep.equal({
      carried: 0n,
      allowance: 4n * GB,
      kept: 5n * GB,
    });
    expect(balanceParts({ ...columns, balance: 2n * GB })).to.deep.equal({
      carried: 0n,
      allowance: 0n,
      kept: 2n * GB,
    });
    expect(balanceParts({ ...columns, balance: -GB })).to.deep.equal({
      carried: 0n,
      allowance: 0n,
      kept: 0n,
    });
  });

  it('a renewal with 40 % of the allowance unused and a 3 GB cap carries 3 GB; 1 GB expires', () => {
    const plan = planRenewal({ balance: 4n * GB, kept: 0n, carried: 0n, credited: 10n * GB }, [], carry);
    expect(plan).to.deep.include({
      unusedBytes: 4n * GB,
      carriedOverBytes: 3n * GB,
      kept: 0n,
      carried: 3n * GB,
    });
    expect(plan.expired).to.deep.equal([]);
  });

  it('keep (the default) writes nothing and keeps all that is left, earlier carry-overs included', () => {
    const open: CarryOver[] = [{ id: 1, period: 'p', leftBytes: 2n * GB, cyclesLeft: 1, expiresAt: null }];
    const plan = planRenewal({ balance: 7n * GB, kept: GB, carried: 2n * GB, credited: 10n * GB }, open, {
      rollover: 'keep',
      rolloverMaxBytes: 0n,
    });
    expect(plan).to.deep.include({ unusedBytes: 0n, carriedOverBytes: 0n, kept: 7n * GB, carried: 0n });
    expect(plan.expired).to.deep.equal([]);
    expect(plan.carryOvers.every((c) => c.closed)).to.equal(true);
  });

  it('carry-overs whose cycles run out expire with what is left of them; the cap counts those still open', () => {
    const open: CarryOver[] = [
      { id: 1, period: 'a', leftBytes: 2n * GB, cyclesLeft: 1, expiresAt: new Date(1) },
      { id: 2, period: 'b', leftBytes: GB, cyclesLeft: 2, expiresAt: new Date(2) },
    ];
    // Nothing used this cycle: 3 GB carried in, 10 GB allowance.
    const plan = planRenewal(
      { balance: 13n * GB, kept: 0n, carried: 3n * GB, credited: 10n * GB },
      open,
      carry,
    );
    expect(plan.expired).to.deep.equal([{ carryOver: open[0], bytes: 2n * GB }]);
    expect(plan).to.deep.include({ unusedBytes: 10n * GB, carriedOverBytes: 2n * GB, carried: 3n * GB });
    expect(plan.carryOvers.map((c) => [c.leftBytes, c.cyclesLeft, c.closed])).to.deep.equal([
      [2n * GB, 0, true],
      [GB, 1, false],
    ]);
    // 2.5 GB used this cycle: the oldest carry-over went first, 0.5 GB is left of the second one.
    expect(carryOversLeft(open, GB / 2n)).to.deep.equal([0n, GB / 2n]);
    expect(carriedOverExpiresAt(open, GB / 2n)).to.deep.equal(new Date(2));
    expect(carriedOverExpiresAt(open, 0n)).to.equal(null);
  });

  it('a renewal only moves traffic between parts: the lines add up to the change, nothing bought expires', () => {
    const bytes = fc.bigInt({ min: -20n * GB, max: 40n * GB });
    const amount = fc.bigInt({ min: 0n, max: 20n * GB });
    fc.assert(
      fc.property(
        bytes,
        amount,
        amount,
        fc.option(amount),
        fc.array(fc.tuple(amount, fc.integer({ min: 1, max: 3 })), { maxLength: 3 }),
        (balance, kept, credited, cap, opens) => {
          const open: CarryOver[] = opens.map(([left, cycles], i) => ({
            id: i + 1,
            period: String(i),
            leftBytes: left,
            cyclesLeft: cycles,
            expiresAt: null,
          }));
          const carried = open.reduce((s, c) => s + c.leftBytes, 0n);
          const columns = { balance, kept, carried, credited };
          const before = balanceParts(columns);
          const plan = planRenewal(columns, open, { rollover: 'carry', rolloverMaxBytes: cap });
          const expired = plan.expired.reduce((s, e) => s + e.bytes, 0n);
          const after = balance - expired - plan.unusedBytes + plan.carriedOverBytes;
          // What the lines leave is the new cycle's parts: kept + carried (a debt stays a debt).
          expect(after).to.equal(balance > 0n ? plan.kept + plan.carried : balance);
          expect(plan.kept).to.equal(before.kept, 'what never expires is not touched');
          expect(plan.carriedOverBytes <= plan.unusedBytes).to.equal(true);
          expect(plan.unusedBytes).to.equal(before.allowance);
          if (cap !== null) expect(plan.carriedOverBytes === 0n || plan.carried <= cap).to.equal(true);
          for (const b of [expired, plan.unusedBytes, plan.carriedOverBytes, plan.kept, plan.carried])
            expect(b >= 0n).to.equal(true);
          // Twice in a row (nothing used in between) the second renewal's lines chain on the first's.
          expect(
            balanceParts({ balance: after, kept: plan.kept, carried: plan.carried, credited: 0n }),
          ).to.deep.equal(
            balance > 0n
              ? { carried: plan.carried, allowance: 0n, kept: plan.kept }
              : { carried: 0n, allowance: 0n, kept: 0n },
          );
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('adds calendar months to a due date, clamped to the shorter month', () => {
    expect(addMonths('2026-12-07', 1)).to.equal('2027-01-07');
    expect(addMonths('2027-01-31', 1)).to.equal('2027-02-28');
    expect(addMonths('2028-01-31', 1)).to.equal('2028-02-29');
    expect(addMonths('2026-11-30', 3)).to.equal('2027-02-28');
    expect(addMonths('2026-05-15', 0)).to.equal('2026-05-15');
  });
});
