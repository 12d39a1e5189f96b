import { createHash } from 'node:crypto';
import { queueRow, type RouterState } from './router-state';
import { wgPeerRow } from './wireguard-model';

/** How {@link seedAccounts} names and shapes the accounts it creates. */
export interface SeedOptions {
  /** Secret and queue names are `<prefix><5-digit index>`; default `vpn`. */
  namePrefix?: string;
  /** Comment on every secret and queue, followed by the index; default `sim:`. */
  commentPrefix?: string;
  /** Share of accounts (0..1) that get an active PPP session; default 0. */
  connectedShare?: number;
  /** Give every queue some traffic (index × 1 MB down, index × 100 kB up); default false. */
  withTraffic?: boolean;
  /** First index; default 1. */
  firstIndex?: number;
  /**
   * Share of accounts (0..1), the last ones, that are WireGuard peers instead of PPP secrets: a peer
   * on {@link wireGuardInterface} with allowed-address = the account's address/32, its public key
   * {@link seededPublicKey}, its name and comment as a secret's would be, and the same queue.
   * "Connected" ones have had a handshake. Peer rx/tx start at 0 (the queue is the meter). Default 0.
   */
  wireGuardShare?: number;
  /** Interface of the seeded peers, added when missing; default `wg-vpn`. */
  wireGuardInterface?: string;
}

/** One seeded account, as tests and the CLI report it. */
export interface SeededAccount {
  index: number;
  name: string;
  /** `ppp`: a PPP secret; `wireguard`: a WireGuard peer (no secret). */
  kind: 'ppp' | 'wireguard';
  /** The PPP password; '' for a WireGuard account. */
  password: string;
  address: string;
  queueName: string;
  /** The client's public key of a WireGuard account, else null. */
  publicKey: string | null;
}

/** The fixed address of account `index`: 10.64.0.0 + index. */
export function seededAddress(index: number): string {
  return `10.${64 + Math.floor(index / 65536)}.${Math.floor(index / 256) % 256}.${index % 256}`;
}

/**
 * The public key of seeded WireGuard account `name`: base64 of sha256(name), 32 bytes like any
 * WireGuard key. Deterministic, so another process (a bench driving handshakes) can compute it; no
 * private key belongs to it, which the router never needs.
 */
export function seededPublicKey(name: string): string {
  return createHash('sha256').update(name).digest('base64');
}

/**
 * Adds `count` accounts the way the product provisions them (a PPP secret with a fixed
 * remote-address, or a WireGuard peer on that address, and a simple queue on that address/32 with
 * a max-limit), straight into the state so large routers (thousands of accounts) are ready at once.
 */
export function seedAccounts(state: RouterState, count: number, options: SeedOptions = {}): SeededAccount[] {
  const prefix = options.namePrefix ?? 'vpn';
  const commentPrefix = options.commentPrefix ?? 'sim:';
  const first = options.firstIndex ?? 1;
  const connectedEvery = options.connectedShare ? Math.max(1, Math.round(1 / options.connectedShare)) : 0;
  // The last accounts are the WireGuard ones, so `connectedShare` spreads over both kinds.
  const wgCount = Math.round(count * (options.wireGuardShare ?? 0));
  const wgFrom = first + count - wgCount;
  const wgInterface = options.wireGuardInterface ?? 'wg-vpn';
  if (wgCount > 0 && !state.findWgInterface(wgInterface)) state.addWireGuardInterface(wgInterface);
  const accounts: SeededAccount[] = [];
  for (let index = first; index < first + count; index++) {
    const name = `${prefix}${String(index).padStart(5, '0')}`;
    const address = seededAddress(index);
    const connected = connectedEvery > 0 && (index - first) % connectedEvery === 0;
    const publicKey = index >= wgFrom ? seededPublicKey(name) : null;
    const password = publicKey ? '' : `pw-${index}`;
    const comment = `${commentPrefix}${index}`;
    if (publicKey) {
      state.insertWgPeer(
        wgPeerRow({
          id: state.wgPeers.allocateId(),
          name,
          interface: wgInterface,
          publicKey,
          allowedAddress: [`${address}/32`],
          comment,
        }),
      );
    } else {
      state.insertSecret({
        id: state.secrets.allocateId(),
        name,
        service: 'any',
        callerId: '',
        password,
        profile: 'default',
        localAddress: '',
        remoteAddress: address,
        routes: '',
        ipv6Routes: '',
        limitBytesIn: '0',
        limitBytesOut: '0',
        lastLoggedOut: '',
        lastCallerId: '',
        lastDisconnectReason: '',
        comment,
        disabled: false,
      });
    }
    state.insertQueue(
      queueRow({
        id: state.queues.allocateId(),
        name,
        targets: [`${address}/32`],
        maxLimit: [10_000_000n, 50_000_000n],
        bytes: options.withTraffic ? [BigInt(index) * 100_000n, BigInt(index) * 1_000_000n] : [0n, 0n],
        comment,
      }),
    );
    if (connected && publicKey) state.wireGuardHandshake(publicKey);
    else if (connected) state.connect(name);
    accounts.push({
      index,
      name,
      kind: publicKey ? 'wireguard' : 'ppp',
      password,
      address,
      queueName: name,
      publicKey,
    });
  }
  return accounts;
}
