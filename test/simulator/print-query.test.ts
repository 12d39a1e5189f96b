import { expect } from 'chai';
import { PrintQuery } from './print-query';

const items: Array<Record<string, string>> = [
  { name: 'ether1', type: 'ether', mtu: '1500', comment: 'uplink' },
  { name: 'vlan10', type: 'vlan', mtu: '1496' },
  { name: 'l2tp-in1', type: 'l2tp-in', mtu: '1450' },
];

function names(words: string[]): string[] {
  const query = PrintQuery.compile(words);
  return items.filter((item) => query.matches((name) => item[name])).map((item) => item.name);
}

describe('simulator print queries', () => {
  it('matches equality in both spellings', () => {
    expect(names(['?type=vlan'])).to.deep.equal(['vlan10']);
    expect(names(['?=type=vlan'])).to.deep.equal(['vlan10']);
  });

  it('combines words with AND by default and OR with ?#|', () => {
    expect(names(['?type=ether', '?type=vlan'])).to.deep.equal([]);
    expect(names(['?type=ether', '?type=vlan', '?#|'])).to.deep.equal(['ether1', 'vlan10']);
  });

  it('compares with < and > (numbers numerically)', () => {
    expect(names(['?<mtu=1490'])).to.deep.equal(['l2tp-in1']);
    expect(names(['?>mtu=1490'])).to.deep.equal(['ether1', 'vlan10']);
  });

  it('tests presence and absence; a missing property is false', () => {
    expect(names(['?comment'])).to.deep.equal(['ether1']);
    expect(names(['?-comment'])).to.deep.equal(['vlan10', 'l2tp-in1']);
    expect(names(['?>comment='])).to.deep.equal(['ether1']);
    expect(names(['?user=bob'])).to.deep.equal([]);
  });

  it('negates with ! and copies stack entries by index', () => {
    expect(names(['?type=ether', '?#!'])).to.deep.equal(['vlan10', 'l2tp-in1']);
    // 0 at the end of the word replaces the stack with its top: only the last test counts.
    expect(names(['?type=ether', '?type=vlan', '?#0'])).to.deep.equal(['vlan10']);
    // 1. pushes a copy of the entry below the top; & then combines the two copies.
    expect(names(['?type=ether', '?mtu=1500', '?#1.&'])).to.deep.equal(['ether1']);
  });
});
