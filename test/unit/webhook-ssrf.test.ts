import { expect } from 'chai';
import { WebhookTargetPolicy } from '../../src/services/events/ssrf';

/** Where webhooks may not go (SSRF), and what the WEBHOOK_ALLOWED_TARGETS setting opens. */
describe('webhook targets: refused addresses (SSRF)', () => {
  const policy = new WebhookTargetPolicy();

  const refused: [string, RegExp][] = [
    ['127.0.0.1', /loopback/],
    ['127.255.0.9', /loopback/],
    ['0.0.0.0', /this network/],
    ['10.1.2.3', /private/],
    ['172.16.0.1', /private/],
    ['172.31.255.254', /private/],
    ['192.168.1.1', /private/],
    ['169.254.169.254', /metadata/],
    ['100.64.0.1', /carrier-grade NAT/],
    ['100.127.255.255', /carrier-grade NAT/],
    ['224.0.0.1', /multicast/],
    ['255.255.255.255', /reserved/],
    ['::1', /loopback/],
    ['::', /unspecified/],
    ['fd00::1', /unique local/],
    ['fd00:ec2::254', /unique local/],
    ['fc00::1', /unique local/],
    ['fe80::1', /link-local/],
    ['febf::1', /link-local/],
    ['ff02::1', /multicast/],
    ['::ffff:127.0.0.1', /loopback.*IPv4-mapped/],
    ['::ffff:7f00:1', /loopback.*IPv4-mapped/],
    ['::ffff:169.254.169.254', /metadata.*IPv4-mapped/],
    ['::ffff:10.0.0.1', /private.*IPv4-mapped/],
    ['64:ff9b::a9fe:a9fe', /NAT64/],
  ];
  for (const [address, why] of refused) {
    it(`refuses ${address}`, () => {
      expect(policy.refusal(address)).to.match(why);
    });
  }

  const allowed = [
    '93.184.216.34',
    '8.8.8.8',
    '100.128.0.1',
    '172.32.0.1',
    '2606:4700::1111',
    '::ffff:8.8.8.8',
  ];
  for (const address of allowed) {
    it(`allows the public address ${address}`, () => {
      expect(policy.refusal(address)).to.equal(null);
    });
  }

  it('refuses URLs that are not https, too long, carry credentials, or name a refused address', async () => {
    const why = async (url: string) => {
      const r = await policy.check(url);
      return r.ok ? 'ok' : r.why;
    };
    expect(await why('http://93.184.216.34/hook')).to.match(/https/);
    expect(await why(`https://93.184.216.34/${'a'.repeat(2048)}`)).to.match(/2048/);
    expect(await why('https://user:pw@93.184.216.34/')).to.match(/user name or password/);
    expect(await why('ftp://93.184.216.34/')).to.match(/https/);
    expect(await why('https://169.254.169.254/latest/meta-data')).to.match(/metadata/);
    expect(await why('https://[::1]:8443/')).to.match(/loopback/);
    expect(await why('https://[::ffff:127.0.0.1]/')).to.match(/loopback/);
    expect(await why('https://localhost/')).to.match(/loopback/); // resolved, then checked
    expect(await why('https://93.184.216.34/hook')).to.equal('ok');
  });

  it('WEBHOOK_ALLOWED_TARGETS opens exactly the listed CIDRs and hosts, and plain http only there', async () => {
    const open = new WebhookTargetPolicy(['127.0.0.1', '10.20.0.0/16', 'hooks.internal']);
    expect(open.refusal('127.0.0.1')).to.equal(null);
    expect(open.refusal('::ffff:127.0.0.1')).to.equal(null);
    expect(open.refusal('127.0.0.2')).to.match(/loopback/);
    expect(open.refusal('10.20.5.5')).to.equal(null);
    expect(open.refusal('10.21.0.1')).to.match(/private/);
    expect(open.refusal('10.9.9.9', 'hooks.internal')).to.equal(null);
    const r = await open.check('http://127.0.0.1:9/x');
    expect(r.ok).to.equal(true);
    const plain = await open.check('http://93.184.216.34/x');
    expect(plain.ok).to.equal(false);
  });
});
