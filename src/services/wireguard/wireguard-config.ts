import QRCode from 'qrcode';
import type { WireGuardClientSettings } from '../../product/wireguard-settings';

/** What goes into a customer's wg-quick file. */
export interface WireGuardConfigInput {
  privateKey: string;
  presharedKey: string;
  /** The account's address (the tunnel's inside address, /32). */
  address: string;
  /** The router interface's public key. */
  serverPublicKey: string;
  /** `host:port` the client connects to. */
  endpoint: string;
  client: WireGuardClientSettings;
}

/** A standard wg-quick file ([Interface] and one [Peer]), lines in the order wg-quick documents them. */
export function renderWireGuardConfig(input: WireGuardConfigInput): string {
  const lines = ['[Interface]', `PrivateKey = ${input.privateKey}`, `Address = ${input.address}/32`];
  if (input.client.dns.length) lines.push(`DNS = ${input.client.dns.join(', ')}`);
  if (input.client.mtu !== null) lines.push(`MTU = ${input.client.mtu}`);
  lines.push(
    '',
    '[Peer]',
    `PublicKey = ${input.serverPublicKey}`,
    `PresharedKey = ${input.presharedKey}`,
    `Endpoint = ${input.endpoint}`,
    `AllowedIPs = ${input.client.allowedIps.join(', ')}`,
  );
  if (input.client.persistentKeepalive > 0)
    lines.push(`PersistentKeepalive = ${input.client.persistentKeepalive}`);
  return `${lines.join('\n')}\n`;
}

/** The same text as a QR code (SVG, scannable by the WireGuard apps). */
export function wireGuardQrSvg(text: string): Promise<string> {
  return QRCode.toString(text, { type: 'svg', errorCorrectionLevel: 'M', margin: 4 });
}

/** The endpoint: the product's, else the server's public host with the interface's listen port. */
export function defaultEndpoint(host: string, listenPort: number): string {
  return `${host.includes(':') ? `[${host}]` : host}:${listenPort}`;
}

/** A file name for the customer: `<username>.conf`, limited to what every OS accepts. */
export function configFileName(username: string): string {
  return `${username.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 60) || 'wireguard'}.conf`;
}
