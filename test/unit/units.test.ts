import { expect } from 'chai';
import { bytesToGb, gbToBytes, mbitToBits, toBytes } from '../../src/common/units';

describe('units: one policy for bytes, GB and Mbit/s', () => {
  it('converts GB to exact bytes with 1 GB = 10^9 bytes', () => {
    expect(gbToBytes('10')).to.equal(10_000_000_000n);
    expect(gbToBytes('2.5')).to.equal(2_500_000_000n);
    expect(gbToBytes('0.000000001')).to.equal(1n);
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
