import dns from 'node:dns/promises';
import net from 'node:net';

/**
 * Where webhooks may not go: addresses that reach the server itself, its private networks or a
 * cloud's metadata service (server-side request forgery). Checked when an endpoint is saved and again
 * at every delivery, on the address actually connected to (DNS can change between the two).
 */
const REFUSED: readonly { cidr: string; why: string }[] = [
  { cidr: '0.0.0.0/8', why: '"this network" (0.0.0.0/8)' },
  { cidr: '10.0.0.0/8', why: 'private (10.0.0.0/8)' },
  { cidr: '100.64.0.0/10', why: 'carrier-grade NAT (100.64.0.0/10)' },
  { cidr: '127.0.0.0/8', why: 'loopback (127.0.0.0/8)' },
  { cidr: '169.254.0.0/16', why: 'link-local or cloud metadata (169.254.0.0/16)' },
  { cidr: '172.16.0.0/12', why: 'private (172.16.0.0/12)' },
  { cidr: '192.0.0.0/24', why: 'IETF protocol assignments (192.0.0.0/24)' },
  { cidr: '192.168.0.0/16', why: 'private (192.168.0.0/16)' },
  { cidr: '198.18.0.0/15', why: 'benchmarking (198.18.0.0/15)' },
  { cidr: '224.0.0.0/4', why: 'multicast (224.0.0.0/4)' },
  { cidr: '240.0.0.0/4', why: 'reserved (240.0.0.0/4)' },
  { cidr: '::/128', why: 'unspecified (::)' },
  { cidr: '::1/128', why: 'loopback (::1)' },
  { cidr: '64:ff9b::/96', why: 'NAT64 (64:ff9b::/96)' },
  { cidr: 'fc00::/7', why: 'unique local (fc00::/7, incl. fd00::/8)' },
  { cidr: 'fe80::/10', why: 'link-local (fe80::/10)' },
  { cidr: 'ff00::/8', why: 'multicast (ff00::/8)' },
];

function blockListOf(cidrs: readonly string[]): net.BlockList {
  const list = new net.BlockList();
  for (const cidr of cidrs) {
    const [address, bits] = cidr.split('/');
    const family = net.isIPv6(address) ? 'ipv6' : 'ipv4';
    if (bits === undefined) list.addAddress(address, family);
    else list.addSubnet(address, Number(bits), family);
  }
  return list;
}

const REFUSED_LISTS = REFUSED.map((r) => ({ list: blockListOf([r.cidr]), why: r.why }));

/** An IPv4 address carried in an IPv6 one (::ffff:a.b.c.d, ::a.b.c.d), else null. */
function embeddedIPv4(address: string): string | null {
  const groups = expandIPv6(address);
  if (!groups) return null;
  const zeros = groups.slice(0, 5).every((g) => g === 0);
  if (!zeros || (groups[5] !== 0xffff && groups[5] !== 0)) return null;
  if (groups[5] === 0 && groups[6] === 0) return null; // ::, ::1 and the like are IPv6 themselves
  return `${groups[6] >> 8}.${groups[6] & 255}.${groups[7] >> 8}.${groups[7] & 255}`;
}

function expandIPv6(address: string): number[] | null {
  let text = address.toLowerCase().replace(/%.*$/, '');
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    const parts = dotted[1].split('.').map(Number);
    text =
      text.slice(0, -dotted[1].length) +
      `${((parts[0] << 8) | parts[1]).toString(16)}:${((parts[2] << 8) | parts[3]).toString(16)}`;
  }
  const [head, tail] = text.split('::');
  const h = head ? head.split(':') : [];
  const t = tail !== undefined && tail ? tail.split(':') : [];
  const fill = tail === undefined ? 0 : 8 - h.length - t.length;
  if (fill < 0) return null;
  const groups = [...h, ...Array(fill).fill('0'), ...t].map((g) => parseInt(g, 16));
  return groups.length === 8 && groups.every((g) => g >= 0 && g <= 0xffff) ? groups : null;
}

/** The setting that lets webhooks reach some refused addresses or hosts (and use plain http there). */
export class WebhookTargetPolicy {
  private readonly allowedNets: net.BlockList;
  private readonly allowedHosts: Set<string>;

  /** `allowed`: CIDRs, addresses or host names (WEBHOOK_ALLOWED_TARGETS). */
  constructor(readonly allowed: readonly string[] = []) {
    const nets = allowed.filter((a) => net.isIP(a.split('/')[0]));
    this.allowedNets = blockListOf(nets);
    this.allowedHosts = new Set(
      allowed.filter((a) => !net.isIP(a.split('/')[0])).map((h) => h.toLowerCase()),
    );
  }

  /** Why this address is refused, or null when webhooks may connect to it. */
  refusal(address: string, host?: string): string | null {
    if (host && this.allowedHosts.has(host.toLowerCase())) return null;
    const v6 = net.isIPv6(address);
    if (!v6 && !net.isIPv4(address)) return 'not an IP address';
    if (this.allowedNets.check(address, v6 ? 'ipv6' : 'ipv4')) return null;
    const v4 = v6 ? embeddedIPv4(address) : address;
    if (v4 && v6) {
      if (this.allowedNets.check(v4, 'ipv4')) return null;
      const inner = this.refusal(v4);
      if (inner) return `${inner}, as IPv4-mapped IPv6`;
    }
    for (const r of REFUSED_LISTS) if (r.list.check(address, v6 ? 'ipv6' : 'ipv4')) return r.why;
    return null;
  }

  /** True when the host (or every address it has) is allowed by the setting, which also allows http. */
  allowsPlainHttp(host: string, addresses: readonly string[]): boolean {
    if (this.allowedHosts.has(host.toLowerCase())) return true;
    return (
      addresses.length > 0 &&
      addresses.every((a) => this.allowedNets.check(a, net.isIPv6(a) ? 'ipv6' : 'ipv4'))
    );
  }

  /**
   * Checks a webhook URL: https (or http where the setting allows), at most 2048 characters, no
   * credentials, and a host all of whose addresses may be reached. Returns the address to connect
   * to, or the reason it is refused.
   */
  async check(
    raw: string,
  ): Promise<{ ok: true; url: URL; address: string; family: 4 | 6 } | { ok: false; why: string }> {
    if (raw.length > 2048) return { ok: false, why: 'the URL is longer than 2048 characters' };
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      return { ok: false, why: 'it is not a URL' };
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:')
      return { ok: false, why: 'the URL must start with https://' };
    if (url.username || url.password)
      return { ok: false, why: 'the URL must not carry a user name or password' };
    const host = url.hostname.replace(/^\[|\]$/g, '');
    let addresses: { address: string; family: number }[];
    if (net.isIP(host)) addresses = [{ address: host, family: net.isIPv6(host) ? 6 : 4 }];
    else {
      try {
        addresses = await dns.lookup(host, { all: true, verbatim: true });
      } catch {
        return { ok: false, why: `the host ${host} does not resolve` };
      }
    }
    if (!addresses.length) return { ok: false, why: `the host ${host} does not resolve` };
    for (const a of addresses) {
      const why = this.refusal(a.address, host);
      if (why) return { ok: false, why: `${host} resolves to ${a.address}, which is ${why}` };
    }
    if (
      url.protocol === 'http:' &&
      !this.allowsPlainHttp(
        host,
        addresses.map((a) => a.address),
      )
    )
      return {
        ok: false,
        why: 'the URL must start with https:// (plain http only for WEBHOOK_ALLOWED_TARGETS)',
      };
    return { ok: true, url, address: addresses[0].address, family: addresses[0].family === 6 ? 6 : 4 };
  }
}
