import { createPrivateKey, createPublicKey, randomBytes } from 'node:crypto';
import { isIPv4, isIPv6 } from 'node:net';

/**
 * WireGuard rows of a simulated RouterOS 7 router (`/interface/wireguard` and its `peers`), and the
 * value formats they need: Curve25519 keys in base64, allowed-address prefixes, durations. Which
 * details are RouterOS's documented behaviour and which are our choices is listed in docs/router.md
 * ("WireGuard (RouterOS 7)").
 */

/** Defaults of `/interface/wireguard add` (help.mikrotik.com WireGuard page). */
export const WG_DEFAULT_LISTEN_PORT = 13231;
export const WG_DEFAULT_MTU = 1420;

/**
 * WireGuard's Reject-After-Time: a session without a new handshake for this long carries no data.
 * Clients rekey every 120 s while traffic flows, so a live tunnel never gets there.
 */
export const WG_SESSION_SECONDS = 180;

export interface WgInterfaceRow {
  id: string;
  name: string;
  listenPort: number;
  mtu: number;
  /** base64 of 32 bytes; `public-key` is derived from it. */
  privateKey: string;
  publicKey: string;
  comment: string;
  disabled: boolean;
}

export interface WgPeerRow {
  id: string;
  /** `peerN` unless set; printed from 7.15 on only. */
  name: string;
  /** Name of the WireGuard interface the peer belongs to. */
  interface: string;
  publicKey: string;
  /** The client's private key some setups keep on the router for its config file; '' when unset. */
  privateKey: string;
  presharedKey: string;
  /** Prefixes as printed: `a.b.c.d/len` or `x::y/len`; a bare address was stored with /32 or /128. */
  allowedAddress: string[];
  endpointAddress: string;
  endpointPort: number;
  /** Seconds; 0 = off. */
  persistentKeepalive: number;
  clientAddress: string;
  clientDns: string;
  clientEndpoint: string;
  /** Seconds; 0 = off. */
  clientKeepalive: number;
  clientListenPort: number;
  comment: string;
  disabled: boolean;
  // --- runtime state (RAM only: a reboot clears it) ---
  /** Bytes received from the peer (the customer's upload). */
  rx: bigint;
  /** Bytes sent to the peer (the customer's download). */
  tx: bigint;
  /** Epoch ms of the last handshake; null before the first one (`last-handshake` is then absent). */
  lastHandshakeAt: number | null;
  /** Source of the last authenticated packet; '' (and port 0) before the first handshake. */
  currentEndpointAddress: string;
  currentEndpointPort: number;
}

/** A peer as `/interface/wireguard/peers/add` makes one before its attributes apply. */
export function wgPeerRow(fields: Partial<WgPeerRow> = {}): WgPeerRow {
  return {
    id: '',
    name: '',
    interface: '',
    publicKey: '',
    privateKey: '',
    presharedKey: '',
    allowedAddress: [],
    endpointAddress: '',
    endpointPort: 0,
    persistentKeepalive: 0,
    clientAddress: '',
    clientDns: '',
    clientEndpoint: '',
    clientKeepalive: 0,
    clientListenPort: 0,
    comment: '',
    disabled: false,
    rx: 0n,
    tx: 0n,
    lastHandshakeAt: null,
    currentEndpointAddress: '',
    currentEndpointPort: 0,
    ...fields,
  };
}

// --- keys ---

/** True for a WireGuard key as RouterOS takes it: 32 bytes in standard base64 (44 characters). */
export function isWireGuardKey(text: string): boolean {
  if (!/^[A-Za-z0-9+/]{43}=$/.test(text)) return false;
  const bytes = Buffer.from(text, 'base64');
  return bytes.length === 32 && bytes.toString('base64') === text;
}

/** A new private key, clamped as `wg genkey` does (X25519 clamps anyway; this only looks the same). */
export function generateWireGuardPrivateKey(): string {
  const key = randomBytes(32);
  key[0] &= 248;
  key[31] = (key[31] & 127) | 64;
  return key.toString('base64');
}

// PKCS#8 wrapping of a raw X25519 private key (RFC 8410). Node 20 refuses a JWK private key
// without its `x`, which is the very thing we want to compute, so the raw key goes in as DER.
const X25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b656e04220420', 'hex');

/** The public key of a base64 private key (X25519), in base64, as RouterOS shows `public-key`. */
export function wireGuardPublicKey(privateKey: string): string {
  const der = Buffer.concat([X25519_PKCS8_PREFIX, Buffer.from(privateKey, 'base64')]);
  const key = createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
  const jwk = createPublicKey(key).export({ format: 'jwk' });
  return Buffer.from(jwk.x!, 'base64url').toString('base64');
}

/** A key pair as a WireGuard client makes one (tests use it for the client side of a tunnel). */
export function generateWireGuardKeyPair(): { privateKey: string; publicKey: string } {
  const privateKey = generateWireGuardPrivateKey();
  return { privateKey, publicKey: wireGuardPublicKey(privateKey) };
}

// --- allowed-address prefixes ---

interface Prefix {
  family: 4 | 6;
  network: bigint;
  length: number;
}

function ipv4ToBigInt(address: string): bigint {
  return address.split('.').reduce((acc, octet) => (acc << 8n) | BigInt(Number(octet)), 0n);
}

function ipv6ToBigInt(address: string): bigint {
  let text = address;
  // An embedded IPv4 tail (::ffff:1.2.3.4) becomes two hex groups.
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    const value = ipv4ToBigInt(v4[1]);
    text = `${text.slice(0, v4.index)}${(value >> 16n).toString(16)}:${(value & 0xffffn).toString(16)}`;
  }
  const [head, tail] = text.split('::');
  const headGroups = head === '' ? [] : head.split(':');
  const tailGroups = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups =
    tail === undefined
      ? headGroups
      : [...headGroups, ...Array(8 - headGroups.length - tailGroups.length).fill('0'), ...tailGroups];
  return groups.reduce((acc, group) => (acc << 16n) | BigInt(Number.parseInt(group, 16)), 0n);
}

function parsePrefix(text: string): Prefix | null {
  const [address, lengthText, extra] = text.split('/');
  if (extra !== undefined) return null;
  const family = isIPv4(address) ? 4 : isIPv6(address) ? 6 : null;
  if (family === null) return null;
  const bits = family === 4 ? 32 : 128;
  if (lengthText !== undefined && !/^\d{1,3}$/.test(lengthText)) return null;
  const length = lengthText === undefined ? bits : Number(lengthText);
  if (length > bits) return null;
  const value = family === 4 ? ipv4ToBigInt(address) : ipv6ToBigInt(address);
  const hostBits = BigInt(bits - length);
  return { family, network: (value >> hostBits) << hostBits, length };
}

/**
 * Parses an `allowed-address` list (comma-separated IPv4/IPv6 prefixes). An address without a
 * length gets /32 (IPv4) or /128 (IPv6). Null when any item is not a prefix.
 */
export function parseAllowedAddress(text: string): string[] | null {
  const items = text
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item.length > 0);
  const out: string[] = [];
  for (const item of items) {
    if (!parsePrefix(item)) return null;
    out.push(item.includes('/') ? item : `${item}/${isIPv4(item) ? 32 : 128}`);
  }
  return out;
}

/** True when two prefixes of the same family share any address. */
export function prefixesOverlap(a: string, b: string): boolean {
  const left = parsePrefix(a);
  const right = parsePrefix(b);
  if (!left || !right || left.family !== right.family) return false;
  const bits = left.family === 4 ? 32 : 128;
  const shorter = Math.min(left.length, right.length);
  const shift = BigInt(bits - shorter);
  return left.network >> shift === right.network >> shift;
}

/** The address of the first IPv4 /32 in `prefixes`, or null: the customer address a queue targets. */
export function firstHostAddress(prefixes: readonly string[]): string | null {
  for (const prefix of prefixes) {
    const [address, length] = prefix.split('/');
    if (isIPv4(address) && length === '32') return address;
  }
  return null;
}

// --- durations (persistent-keepalive, client-keepalive) ---

const DURATION_UNITS: Record<string, number> = { w: 604800, d: 86400, h: 3600, m: 60, s: 1 };

/** RouterOS duration text (`25`, `25s`, `1m30s`, `2h`) in whole seconds; null when not a duration. */
export function parseDurationSeconds(text: string): number | null {
  if (/^\d+$/.test(text)) return Number(text);
  if (!/^(\d+[wdhms])+$/.test(text)) return null;
  let total = 0;
  for (const [, count, unit] of text.matchAll(/(\d+)([wdhms])/g))
    total += Number(count) * DURATION_UNITS[unit];
  return total;
}
