import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { bytesToGb, gbToBytes, mbitToBits, toBytes } from '../../src/common/units';

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
});
