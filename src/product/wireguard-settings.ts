import net from 'node:net';

/**
 * The product's "WireGuard client settings": lines of the customer's .conf in wg-quick form
 * (`Key = value`). The one place that reads and checks them; the .conf writer uses the result.
 */
export interface WireGuardClientSettings {
  /** `host:port` customers connect to; null = the server's hostname and the interface's listen port. */
  endpoint: string | null;
  /** DNS servers for the client (addresses only); empty = none written. */
  dns: string[];
  /** What the client routes through the tunnel. */
  allowedIps: string[];
  /** Seconds between keepalives; 0 = off (not written). */
  persistentKeepalive: number;
  /** Null = not written (the client picks). */
  mtu: number | null;
}

export const DEFAULT_ALLOWED_IPS = ['0.0.0.0/0', '::/0'];

const KEYS = ['Endpoint', 'DNS', 'AllowedIPs', 'PersistentKeepalive', 'MTU'] as const;
type Key = (typeof KEYS)[number];

/** Thrown with the line at fault; product-settings.ts names the setting. */
export class WireGuardSettingError extends Error {}

const HOSTNAME =
  /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

/** `host:port` or `[v6]:port`, port 1-65535; the host a name or an address. */
export function isEndpoint(value: string): boolean {
  const match = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(value);
  if (!match) return false;
  const port = Number(match[3]);
  if (port < 1 || port > 65535) return false;
  if (match[1] !== undefined) return net.isIPv6(match[1]);
  return net.isIPv4(match[2]) || (HOSTNAME.test(match[2]) && !/^\d+(\.\d+)*$/.test(match[2]));
}

/** An address prefix as WireGuard's AllowedIPs takes it (`10.0.0.0/8`, `::/0`; no length = one host). */
export function isPrefix(value: string): boolean {
  const [address, length, extra] = value.split('/');
  if (extra !== undefined) return false;
  const family = net.isIP(address);
  if (!family) return false;
  if (length === undefined) return true;
  if (!/^\d{1,3}$/.test(length)) return false;
  return Number(length) <= (family === 4 ? 32 : 128);
}

const list = (value: string) =>
  value
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean);

/** Reads the setting's text; throws {@link WireGuardSettingError} naming the key or line at fault. */
export function parseWireGuardClientSettings(text: string): WireGuardClientSettings {
  const result: WireGuardClientSettings = {
    endpoint: null,
    dns: [],
    allowedIps: [...DEFAULT_ALLOWED_IPS],
    persistentKeepalive: 0,
    mtu: null,
  };
  // WHMCS keeps a textarea's line breaks; a value typed on one line with ';' between keys is read too.
  const lines = text
    .split(/[\r\n;]+/)
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'));
  const seen = new Set<Key>();
  for (const line of lines) {
    const at = line.indexOf('=');
    if (at < 0) throw new WireGuardSettingError(`"${line}" is not "Key = value"`);
    const name = line.slice(0, at).trim();
    const value = line.slice(at + 1).trim();
    const key = KEYS.find((k) => k.toLowerCase() === name.toLowerCase());
    if (!key) throw new WireGuardSettingError(`${name} is not one of ${KEYS.join(', ')}`);
    if (seen.has(key)) throw new WireGuardSettingError(`${key} is given twice`);
    seen.add(key);
    switch (key) {
      case 'Endpoint':
        if (value && !isEndpoint(value)) throw new WireGuardSettingError('Endpoint must be host:port');
        result.endpoint = value || null;
        break;
      case 'DNS': {
        const servers = list(value);
        if (servers.some((s) => !net.isIP(s)))
          throw new WireGuardSettingError('DNS must be a list of addresses');
        result.dns = servers;
        break;
      }
      case 'AllowedIPs': {
        const prefixes = list(value);
        if (!prefixes.length || prefixes.some((p) => !isPrefix(p)))
          throw new WireGuardSettingError('AllowedIPs must be a list of address prefixes');
        result.allowedIps = prefixes;
        break;
      }
      case 'PersistentKeepalive': {
        const seconds = value.toLowerCase() === 'off' ? 0 : Number(value);
        if (!/^(\d{1,5}|off)$/i.test(value) || seconds > 65535)
          throw new WireGuardSettingError('PersistentKeepalive must be 0-65535 seconds');
        result.persistentKeepalive = seconds;
        break;
      }
      case 'MTU': {
        const mtu = Number(value);
        if (!/^\d{3,4}$/.test(value) || mtu < 1280 || mtu > 9000)
          throw new WireGuardSettingError('MTU must be 1280-9000');
        result.mtu = mtu;
        break;
      }
    }
  }
  return result;
}
