import net from 'node:net';

export interface AddressList {
  /** Valid addresses, in ascending numeric order, without duplicates. */
  addresses: string[];
  /** Lines that are not an IP address: reported to the admin, never guessed at. */
  malformed: { line: number; text: string }[];
}

/** Parses a WHMCS server's "Assigned IP Addresses" (tblservers.assignedips): one address per line. */
export function parseAddressList(text: string | null | undefined): AddressList {
  const seen = new Set<string>();
  const malformed: AddressList['malformed'] = [];
  (text ?? '').split(/\r?\n/).forEach((raw, index) => {
    const line = raw.trim();
    if (!line) return;
    if (net.isIP(line) === 0) malformed.push({ line: index + 1, text: line.slice(0, 64) });
    else seen.add(line);
  });
  return { addresses: [...seen].sort(compareAddresses), malformed };
}

/** Numeric order: IPv4 before IPv6, then by value. */
export function compareAddresses(a: string, b: string): number {
  const ka = addressKey(a);
  const kb = addressKey(b);
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}

function addressKey(address: string): bigint {
  if (net.isIPv4(address)) {
    return address.split('.').reduce((acc, part) => (acc << 8n) + BigInt(Number(part)), 0n);
  }
  const [head, tail = ''] = address.split('::');
  const headParts = head ? head.split(':') : [];
  const tailParts = tail ? tail.split(':') : [];
  const parts = address.includes('::')
    ? [...headParts, ...Array(8 - headParts.length - tailParts.length).fill('0'), ...tailParts]
    : headParts;
  return (1n << 128n) + parts.reduce((acc, part) => (acc << 16n) + BigInt(parseInt(part || '0', 16)), 0n);
}
