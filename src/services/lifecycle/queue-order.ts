import net from 'node:net';

/**
 * True when a simple queue's target (comma-separated addresses, prefixes or interfaces) covers the
 * address. RouterOS lets only the first matching queue see a packet, so this decides who meters it.
 */
export function addressInTarget(address: string, target: string): boolean {
  if (!net.isIPv4(address)) return target.split(',').some((t) => t.trim().split('/')[0] === address);
  const value = ipv4(address);
  return target
    .split(',')
    .map((t) => t.trim())
    .filter(Boolean)
    .some((entry) => {
      const [base, bitsText] = entry.split('/');
      if (!net.isIPv4(base)) return false;
      const bits = bitsText === undefined ? 32 : Number(bitsText);
      if (!Number.isInteger(bits) || bits < 0 || bits > 32) return false;
      const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
      return (ipv4(base) & mask) >>> 0 === (value & mask) >>> 0;
    });
}

function ipv4(address: string): number {
  return address.split('.').reduce((acc, part) => ((acc << 8) | Number(part)) >>> 0, 0);
}
