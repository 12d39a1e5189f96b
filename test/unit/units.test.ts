import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import {
  bytesToGb,
  gbToBytes,
  mbitToBits,
  parseThresholds,
  percentUsed,
  thresholdBoundBytes,
  toBytes,
} from '../../src/common/units';

/** The GB parsing rules shared with the WHMCS module (its PHPUnit test reads the same file). */
const VECTORS = JSON.parse(
  fs.readFileSync(path.join(__dirname, '..', '..', '..', 'test', 'vectors', 'gb-amounts.json'), 'utf8'),
) as { vectors: { input: string; bytes: string | null }[] };

describe('units: one policy for bytes, GB and Mbit/s', () => {
  it('converts GB to exact bytes with 1 GB = 10^9 bytes', () => {
    expect(gbToBytes('10')).to.equal(10_000_000_000n);
    expect(gbToBytes('2.5')).to.equal(2_500_000_000n);
    expect(gbToBytes('0.000000001')).to.equal(1n);
  });

  it('parses every shared GB vector as the WHMCS module must (test/vectors/gb-amounts.json)', () => {
    expect(VECTORS.vectors.length).to.be.greaterThan(20);
    for (const { input, bytes } of VECTORS.vectors) {
      let got: string | null;
      try {
        got = gbToBytes(input).toString();
      } catch (error) {
        expect(error, input).to.be.instanceOf(RangeError);
        got = null;
      }
      expect(got, JSON.stringify(input)).to.equal(bytes);
    }
  });

  it('refuses what is not a number of GB', () => {
    for (const bad of ['-1', 'ten', '1e3', '', '1.0000000001'])
      expect(() => gbToBytes(bad)).to.throw(RangeError);
  });

  it('shows bytes as GB with fixed decimals, rounding half away from zero', () => {
    expect(bytesToGb(3_104_198_700_000n, 4)).to.equal('3104.1987');
    expect(bytesToGb(1_005_000_000n, 2)).to.equal('1.01');
    expect(bytesToGb(-1_500_000_000n, 1)).to.equal('-1.5');
    expect(bytesToGb(0n)).to.equal('0.00');
  });

  it('reads BIGINT strings exactly, beyond 2^53', () => {
    expect(toBytes('18446744073709551615')).to.equal(18446744073709551615n);
    expect(toBytes(null)).to.equal(0n);
    expect(() => toBytes('12abc')).to.throw(RangeError);
  });

  it('converts Mbit/s to bits per second', () => {
    expect(mbitToBits('10')).to.equal(10_000_000);
    expect(mbitToBits('0.5')).to.equal(500_000);
    expect(() => mbitToBits('fast')).to.throw(RangeError);
  });

  describe('notification thresholds (the product setting lowTrafficThresholdGb)', () => {
    const labels = (text: string) => parseThresholds(text).map((t) => t.label);
    const refused = (text: string) => {
      expect(() => parseThresholds(text), text).to.throw(RangeError);
    };

    it('reads a bare number as GB remaining, by the shared GB vectors (the seed setting unchanged)', () => {
      for (const { input, bytes } of VECTORS.vectors) {
        if (input.trim() === '') continue; // empty = the default, before parsing
        if (bytes === null) {
          refused(input);
          continue;
        }
        const parsed = parseThresholds(input);
        // 0 = no threshold ("never"), as before.
        expect(parsed, input).to.deep.equal(
          bytes === '0'
            ? []
            : [{ kind: 'remaining', bytes: BigInt(bytes), id: `remaining:${bytes}`, label: parsed[0].label }],
        );
      }
      expect(labels('10')).to.deep.equal(['10 GB']);
      expect(labels('007')).to.deep.equal(['7 GB']);
      expect(labels('2.50')).to.deep.equal(['2.5 GB']);
    });

    it('reads lists of percentages used, GB and MB remaining, in the order written, each once', () => {
      expect(labels('50%, 80%, 1 GB')).to.deep.equal(['50%', '80%', '1 GB']);
      expect(labels('80 %;1gb; 500 mb ,12.5%')).to.deep.equal(['80%', '1 GB', '500 MB', '12.5%']);
      expect(labels('80%, 80.00%, 1 GB, 1000 MB')).to.deep.equal(['80%', '1 GB']);
      expect(labels('0, 0%, 0 GB, 50%')).to.deep.equal(['50%']);
      expect(labels('100%')).to.deep.equal(['100%']);
      const [mb] = parseThresholds('0.5 MB');
      expect(mb).to.deep.include({ kind: 'remaining', bytes: 500_000n });
    });

    it('refuses over 100 %, below 0, negative amounts, a decimal comma and garbage, saying why', () => {
      expect(() => parseThresholds('150%')).to.throw(RangeError, 'over 100 %');
      expect(() => parseThresholds('100.01%')).to.throw(RangeError, 'over 100 %');
      expect(() => parseThresholds('-5%')).to.throw(RangeError, 'below 0 %');
      expect(() => parseThresholds('-1 GB')).to.throw(RangeError, 'negative');
      expect(() => parseThresholds('2,5')).to.throw(RangeError, 'comma');
      for (const bad of ['50%,', ', 1 GB', 'lots', '80% 1 GB', '1 TB', '12.345%', '1.1234567 MB', '1e3%'])
        refused(bad);
      refused(Array.from({ length: 11 }, (_, i) => `${i + 1}%`).join(', '));
    });

    it('a percentage counts from the cycle allowance (used = allowance − balance), never without one', () => {
      const [p80] = parseThresholds('80%');
      const allowance = 10_000_000_000n;
      const bound = thresholdBoundBytes(p80, allowance)!;
      // Reached while balance < bound: at 2 GB left exactly (80 % used), not 1 byte above.
      expect(2_000_000_000n < bound).to.equal(true);
      expect(2_000_000_001n < bound).to.equal(false);
      expect(thresholdBoundBytes(p80, 0n)).to.equal(null);
      const [gb] = parseThresholds('1 GB');
      expect(thresholdBoundBytes(gb, 0n)).to.equal(1_000_000_000n);
      expect(percentUsed(500_000_000n, allowance)).to.equal('95.0');
      expect(percentUsed(15_000_000_000n, allowance)).to.equal('0.0');
      expect(percentUsed(-1_000_000_000n, allowance)).to.equal('110.0');
      expect(percentUsed(1n, 0n)).to.equal('');
    });
  });
});
