import { expect } from 'chai';
import { parseAddressList } from '../../src/services/address-pool';

describe('address list of a WHMCS server', () => {
  it('reads one address per line, sorted numerically, private and public alike', () => {
    const list = parseAddressList('10.0.0.10\r\n10.0.0.9\n\n 185.1.2.3 \n10.0.0.9\n2001:db8::1');
    expect(list.addresses).to.deep.equal(['10.0.0.9', '10.0.0.10', '185.1.2.3', '2001:db8::1']);
    expect(list.malformed).to.deep.equal([]);
  });

  it('reports malformed lines with their line numbers instead of guessing', () => {
    const list = parseAddressList('10.0.0.1\n10.0.0.0/24\n10.0.0.300\nvpn.example.com');
    expect(list.addresses).to.deep.equal(['10.0.0.1']);
    expect(list.malformed.map((m) => m.line)).to.deep.equal([2, 3, 4]);
  });
});
