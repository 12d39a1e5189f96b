import { expect } from 'chai';
import {
  MAX_WHMCS_SETTINGS,
  PRODUCT_SETTINGS,
  readProductSettings,
  settingIndex,
} from '../../src/product/product-settings';

describe('product-settings manifest', () => {
  it('fits in the 24 settings WHMCS allows, with room to grow', () => {
    // Two slots stay free; settings beyond them go to the server's own table (docs/decisions.md).
    expect(PRODUCT_SETTINGS.length).to.be.at.most(MAX_WHMCS_SETTINGS - 2);
    expect(new Set(PRODUCT_SETTINGS.map((s) => s.key)).size).to.equal(PRODUCT_SETTINGS.length);
    for (const s of PRODUCT_SETTINGS) expect(s.label, s.key).to.be.a('string').and.not.empty;
  });

  it('maps configoptionN in manifest order', () => {
    const values: string[] = Array(24).fill('');
    values[settingIndex('profile') - 1] = 'vpn-users';
    values[settingIndex('trafficMonthlyGb') - 1] = '10';
    values[settingIndex('trafficAnnuallyGb') - 1] = '200';
    values[settingIndex('downloadMbps') - 1] = '20';
    const s = readProductSettings(values);
    expect(s.profile).to.equal('vpn-users');
    expect(s.trafficPerCycle.get('Monthly')).to.equal(10_000_000_000n);
    expect(s.trafficPerCycle.get('One Time')).to.equal(10_000_000_000n);
    expect(s.trafficPerCycle.get('Annually')).to.equal(200_000_000_000n);
    expect(s.trafficPerCycle.get('Quarterly')).to.equal(0n);
    expect(s.downloadBitsPerSecond).to.equal(20_000_000);
    expect(s.invalid).to.deep.equal([]);
  });

  it('uses defaults for empty settings and reports malformed ones', () => {
    const values: string[] = Array(24).fill('');
    values[settingIndex('trafficMonthlyGb') - 1] = 'lots';
    values[settingIndex('service') - 1] = 'telnet';
    const s = readProductSettings(values);
    expect(s.commentPrefix).to.equal('WHMCS');
    expect(s.historyDays).to.equal(364);
    expect(s.trafficPerCycle.get('Monthly')).to.equal(0n);
    expect(s.service).to.equal('any');
    expect(s.invalid).to.have.members(['trafficMonthlyGb', 'service']);
  });
});
