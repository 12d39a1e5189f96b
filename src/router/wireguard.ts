import { rxTxToCustomer } from './direction';
import { parseRouterDuration } from './router-duration';
import type { RosRow } from './router-session';

/**
 * WireGuard on RouterOS 7, as the product reads and writes it (`/interface/wireguard` and
 * `/interface/wireguard/peers`; the facts relied on are in docs/router.md, "WireGuard").
 */

/** A WireGuard interface of the router (the server side of every peer on it). */
export interface WireGuardInterface {
  id: string;
  name: string;
  listenPort: number;
  mtu: number;
  publicKey: string;
  running: boolean;
  disabled: boolean;
}

/** What the product writes into a peer. Keys are base64 (32 bytes). */
export interface WireGuardPeerSpec {
  interface: string;
  publicKey: string;
  presharedKey: string;
  /** The account's address; the peer's allowed-address is `<address>/32`. */
  address: string;
  comment: string;
  disabled: boolean;
}

/** A peer as read back. Counters are the customer's view (tx = download, rx = upload). */
export interface WireGuardPeer {
  id: string;
  interface: string;
  publicKey: string;
  /** Null when the router does not print it (never compared then). */
  presharedKey: string | null;
  allowedAddress: string;
  comment: string | null;
  disabled: boolean;
  /** Seconds since the last handshake; null before the first one. */
  lastHandshakeSeconds: number | null;
  currentEndpoint: string | null;
  downloadBytes: bigint;
  uploadBytes: bigint;
}

/** WireGuard rekeys every 2 minutes; a peer without a handshake for 3 minutes has no usable session. */
export const WIREGUARD_ONLINE_SECONDS = 180;

export const WG_INTERFACE_PROPS = '.id,name,listen-port,mtu,public-key,running,disabled';
export const WG_PEER_PROPS =
  '.id,interface,public-key,preshared-key,allowed-address,comment,disabled,last-handshake,current-endpoint-address,current-endpoint-port,rx,tx';

const orNull = (value: string | undefined) => (value === undefined || value === '' ? null : value);
const count = (value: string | undefined) => (value && /^\d+$/.test(value) ? BigInt(value) : 0n);

export function toWireGuardInterface(row: RosRow): WireGuardInterface {
  return {
    id: row['.id'],
    name: row.name,
    listenPort: Number.parseInt(row['listen-port'] ?? '13231', 10),
    mtu: Number.parseInt(row.mtu ?? '1420', 10),
    publicKey: row['public-key'] ?? '',
    running: row.running === 'true',
    disabled: row.disabled === 'true',
  };
}

export function toWireGuardPeer(row: RosRow): WireGuardPeer {
  const address = orNull(row['current-endpoint-address']);
  const port = orNull(row['current-endpoint-port']);
  const counters = rxTxToCustomer({ rx: count(row.rx), tx: count(row.tx) });
  return {
    id: row['.id'],
    interface: row.interface ?? '',
    publicKey: row['public-key'] ?? '',
    presharedKey: orNull(row['preshared-key']),
    allowedAddress: row['allowed-address'] ?? '',
    comment: orNull(row.comment),
    disabled: row.disabled === 'true',
    lastHandshakeSeconds: row['last-handshake'] ? parseRouterDuration(row['last-handshake']) : null,
    currentEndpoint: address
      ? (address.includes(':') ? `[${address}]` : address) + (port ? `:${port}` : '')
      : null,
    downloadBytes: counters.download,
    uploadBytes: counters.upload,
  };
}

/** True when the peer's handshake is recent enough for traffic to flow. */
export function peerOnline(peer: Pick<WireGuardPeer, 'disabled' | 'lastHandshakeSeconds'>): boolean {
  return (
    !peer.disabled &&
    peer.lastHandshakeSeconds !== null &&
    peer.lastHandshakeSeconds < WIREGUARD_ONLINE_SECONDS
  );
}

/** The words of a peer's `add` or `set`: only the fields given. */
export function peerWords(spec: Partial<WireGuardPeerSpec>): string[] {
  const words: string[] = [];
  if (spec.interface !== undefined) words.push(`=interface=${spec.interface}`);
  if (spec.publicKey !== undefined) words.push(`=public-key=${spec.publicKey}`);
  if (spec.presharedKey !== undefined) words.push(`=preshared-key=${spec.presharedKey}`);
  if (spec.address !== undefined) words.push(`=allowed-address=${spec.address}/32`);
  if (spec.comment !== undefined) words.push(`=comment=${spec.comment}`);
  if (spec.disabled !== undefined) words.push(`=disabled=${spec.disabled ? 'yes' : 'no'}`);
  return words;
}
