import { expect } from 'chai';
import fc from 'fast-check';
import { counterDelta, type PreviousReading } from '../../src/services/traffic/counter-delta';
import { routerRestarted, type UptimeReading } from '../../src/services/traffic/router-restart';
import { desiredStatus, shouldBeDisabled } from '../../src/services/lifecycle/desired-state';
import { VpnAccountStatus, type VpnAccountEntity } from '../../src/entities/own/vpn-account.entity';
import { BYTES_PER_GB, MAX_BYTES, bytesToGb, gbToBytes } from '../../src/common/units';

/**
 * The billing core's rules as properties (fast-check): whatever the readings' timing, clocks and
 * resets, a restart is seen when physics allows it and never invented, and the deltas add up to
 * exactly the traffic that went through.
 */

/** A reading as the meter takes it: the database time and the uptime sampled inside a window. */
function reading(trueTime: number, bootTime: number, windowMs: number, jitter: number, dbClockStep = 0) {
  // The database time is taken somewhere in the window around the router's sampling instant.
  const dbTimeMs = trueTime + Math.round((jitter * 2 - 1) * windowMs) + dbClockStep;
  return { dbTimeMs, uptimeSeconds: Math.floor((trueTime - bootTime) / 1000), windowMs } as UptimeReading;
}

const windowMs = fc.integer({ min: 0, max: 3000 });
const jitter = fc.double({ min: 0, max: 1, noNaN: true });

describe('billing rules: router restarts and counter deltas (properties)', () => {
  it('never sees a restart where there was none, whatever the gap between readings', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 400 * 86_400_000 }), // router up this long at the first reading
        fc.integer({ min: 0, max: 30 * 86_400_000 }), // time until the second reading
        windowMs,
        windowMs,
        jitter,
        jitter,
        (up, gap, w1, w2, j1, j2) => {
          const boot = 1_700_000_000_000;
          const first = reading(boot + up, boot, w1, j1);
          const second = reading(boot + up + gap, boot, w2, j2);
          expect(routerRestarted(first, second)).to.equal(false);
        },
      ),
    );
  });

  it('sees every restart after the previous reading, also with a longer uptime than before', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 400 * 86_400_000 }),
        fc.integer({ min: 0, max: 30 * 86_400_000 }), // from the first reading to the reboot
        fc.integer({ min: 0, max: 120_000 }), // the reboot's own duration
        fc.integer({ min: 0, max: 30 * 86_400_000 }), // up again this long at the second reading
        windowMs,
        windowMs,
        jitter,
        jitter,
        (up, untilReboot, downFor, upAgain, w1, w2, j1, j2) => {
          const boot = 1_700_000_000_000;
          const error = w1 + w2 + 1000;
          // The one corner physics leaves: the first reading taken within 2e of its boot.
          fc.pre(up >= 2 * error + 1000);
          const firstAt = boot + up;
          const newBoot = firstAt + untilReboot + downFor + 1;
          const first = reading(firstAt, boot, w1, j1);
          const second = reading(newBoot + upAgain, newBoot, w2, j2);
          expect(routerRestarted(first, second)).to.equal(true);
        },
      ),
    );
  });

  it('a database clock step smaller than the router’s previous uptime is not taken for a restart', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 60_000, max: 400 * 86_400_000 }),
        fc.integer({ min: 0, max: 86_400_000 }),
        fc.integer({ min: -3_600_000, max: 3_600_000 }),
        windowMs,
        windowMs,
        jitter,
        jitter,
        (up, gap, step, w1, w2, j1, j2) => {
          const error = w1 + w2 + 1000;
          fc.pre(Math.abs(step) < up - 2 * error);
          const boot = 1_700_000_000_000;
          const first = reading(boot + up, boot, w1, j1);
          const second = reading(boot + up + gap, boot, w2, j2, step);
          expect(routerRestarted(first, second)).to.equal(false);
        },
      ),
    );
  });

  it('the first reading of a router (or one before readings had a time) judges by uptime alone', () => {
    expect(routerRestarted(null, { dbTimeMs: 0, uptimeSeconds: 5, windowMs: 0 })).to.equal(false);
  });

  it('deltas add up to exactly the traffic, across resets that restart both directions together', () => {
    type Step =
      | { kind: 'traffic'; down: bigint; up: bigint }
      | { kind: 'reset' | 'recreate' | 'reboot' }
      | { kind: 'read' };
    const step: fc.Arbitrary<Step> = fc.oneof(
      fc.record({
        kind: fc.constant('traffic' as const),
        down: fc.bigInt({ min: 0n, max: 10n ** 12n }),
        up: fc.bigInt({ min: 0n, max: 10n ** 12n }),
      }),
      fc.record({ kind: fc.constantFrom('reset' as const, 'recreate' as const, 'reboot' as const) }),
      fc.constant({ kind: 'read' as const }),
    );
    fc.assert(
      fc.property(fc.array(step, { maxLength: 60 }), (steps) => {
        // The router: a queue's counters, its id, the boot epoch the reader has seen. A reset is
        // only visible when a read follows traffic that does not bring both counters back above.
        let queue = { id: '*1', down: 0n, up: 0n };
        let nextId = 2;
        let epoch = 0;
        let previous: PreviousReading = { download: 0n, upload: 0n, queueId: null, bootEpoch: null };
        let sinceRead = { down: 0n, up: 0n };
        let pushed = 0n;
        let billed = 0n;
        let resetSinceRead = false;
        let invisibleReset = false;
        for (const s of [...steps, { kind: 'read' as const }]) {
          if (s.kind === 'traffic') {
            queue = { ...queue, down: queue.down + s.down, up: queue.up + s.up };
            sinceRead = { down: sinceRead.down + s.down, up: sinceRead.up + s.up };
            pushed += s.down + s.up;
          } else if (s.kind === 'read') {
            // A plain reset-counters after which both counters climbed back above the last read
            // values cannot be seen from the counters (documented limit): such runs are left out.
            if (resetSinceRead && queue.down >= previous.download && queue.up >= previous.upload)
              invisibleReset = true;
            const d = counterDelta(
              previous,
              { download: queue.down, upload: queue.up, queueId: queue.id },
              epoch,
            );
            billed += d.download + d.upload;
            previous = { download: queue.down, upload: queue.up, queueId: queue.id, bootEpoch: epoch };
            sinceRead = { down: 0n, up: 0n };
            resetSinceRead = false;
          } else {
            // What the queue counted since the last read is gone with the reset: the physical loss.
            pushed -= sinceRead.down + sinceRead.up;
            sinceRead = { down: 0n, up: 0n };
            if (s.kind === 'recreate') queue = { id: `*${nextId++}`, down: 0n, up: 0n };
            else queue = { ...queue, down: 0n, up: 0n };
            if (s.kind === 'reboot') epoch++;
            if (s.kind === 'reset') resetSinceRead = true;
          }
        }
        if (!invisibleReset) expect(billed).to.equal(pushed);
      }),
    );
  });

  it('a reset after which only one direction fell restarts both (100 up / 300 down, then 200 up / 10 down)', () => {
    const d = counterDelta(
      { download: 300n, upload: 100n, queueId: '*1', bootEpoch: 0 },
      { download: 10n, upload: 200n, queueId: '*1' },
      0,
    );
    expect(d).to.deep.equal({ download: 10n, upload: 200n, restarted: true });
  });

  it('a restart seen by another run (the boot epoch moved) is billed from zero', () => {
    const d = counterDelta(
      { download: 200n, upload: 0n, queueId: '*1', bootEpoch: 3 },
      { download: 300n, upload: 0n, queueId: '*1' },
      4,
    );
    expect(d).to.deep.equal({ download: 300n, upload: 0n, restarted: true });
  });

  it('desired status: suspension wins over limiting, unlimited is never limited, disabled iff cut off', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...Object.values(VpnAccountStatus)),
        fc.boolean(),
        fc.boolean(),
        fc.bigInt({ min: -(10n ** 15n), max: 10n ** 15n }),
        (status, suspended, unlimited, balance) => {
          const account = {
            status,
            suspended,
            unlimited,
            balanceBytes: balance.toString(),
          } as VpnAccountEntity;
          const want = desiredStatus(account);
          if (status === VpnAccountStatus.TERMINATED) expect(want).to.equal(VpnAccountStatus.TERMINATED);
          else if (suspended) expect(want).to.equal(VpnAccountStatus.SUSPENDED);
          else if (!unlimited && balance <= 0n) expect(want).to.equal(VpnAccountStatus.LIMITED);
          else expect(want).to.equal(VpnAccountStatus.ACTIVE);
          // A PENDING account converges to what its columns say.
          if (status !== VpnAccountStatus.TERMINATED)
            expect(desiredStatus({ ...account, status: VpnAccountStatus.PENDING })).to.equal(want);
          expect(shouldBeDisabled(account)).to.equal(
            want === VpnAccountStatus.SUSPENDED || want === VpnAccountStatus.LIMITED,
          );
        },
      ),
    );
  });

  it('GB amounts: every amount with up to 9 decimals reads back exactly; display rounds half away from zero', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: MAX_BYTES }), (bytes) => {
        expect(gbToBytes(bytesToGb(bytes, 9))).to.equal(bytes);
        const shown = bytesToGb(bytes, 2);
        const back = gbToBytes(shown);
        // Rounded to 0.01 GB: at most half a hundredth away, and halves go up.
        const diff = back - bytes;
        expect(diff <= BYTES_PER_GB / 200n && diff > -BYTES_PER_GB / 200n, `${bytes} → ${shown}`).to.equal(
          true,
        );
        expect(bytesToGb(-bytes, 2)).to.equal(bytes === 0n || shown === '0.00' ? shown : `-${shown}`);
      }),
    );
  });
});
