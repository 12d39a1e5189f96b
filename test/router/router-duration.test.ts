import { expect } from 'chai';
import { effectivePort, normalizeFingerprint, parseRouterDuration } from '../../src/router';

describe('router value parsing', () => {
  it('parses RouterOS durations to seconds', () => {
    expect(parseRouterDuration('44m55s')).to.equal(2695);
    expect(parseRouterDuration('1w2d3h4m5s')).to.equal(604800 + 2 * 86400 + 3 * 3600 + 4 * 60 + 5);
    expect(parseRouterDuration('3w')).to.equal(3 * 604800);
    expect(parseRouterDuration('1s500ms')).to.equal(1);
    expect(parseRouterDuration('0s')).to.equal(0);
    expect(parseRouterDuration('1d02:03:04')).to.equal(86400 + 7384);
    expect(() => parseRouterDuration('soon')).to.throw();
  });

  it('defaults the port to 8729 with TLS and 8728 without (routeros-api would dial 8728)', () => {
    expect(effectivePort({ tls: true, port: 0 })).to.equal(8729);
    expect(effectivePort({ tls: false, port: 0 })).to.equal(8728);
    expect(effectivePort({ tls: true, port: 18729 })).to.equal(18729);
  });

  it('normalizes fingerprints', () => {
    const hex = 'ab'.repeat(32);
    expect(normalizeFingerprint(hex)).to.equal(Array(32).fill('AB').join(':'));
    expect(() => normalizeFingerprint('abcd')).to.throw();
  });
});
