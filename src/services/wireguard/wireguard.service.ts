import type { SecretBox } from '../../auth/secret-box';
import { VpnProtocol, type VpnAccountEntity } from '../../entities/own/vpn-account.entity';
import type { RouterEntity } from '../../entities/own/router.entity';
import { AppError, RouterError, ValidationError } from '../../errors/app-errors';
import { ErrorCode } from '../../errors/error-code';
import type { ProductSettings } from '../../product/product-settings';
import {
  peerOnline,
  type RouterGateway,
  type RouterTarget,
  type WireGuardInterface,
  type WireGuardPeer,
} from '../../router';
import type { DesiredPeer } from '../lifecycle/desired-state';
import { configFileName, defaultEndpoint, renderWireGuardConfig, wireGuardQrSvg } from './wireguard-config';
import { generateWireGuardKeys } from './wireguard-keys';

/** A WireGuard account's keys as stored: the public key plain, the others encrypted with the key ring. */
export interface StoredWireGuardKeys {
  wgPublicKey: string;
  wgPrivateKey: string;
  wgPresharedKey: string;
}

/** The customer's config: a wg-quick file and its QR code. */
export interface WireGuardConfigFile {
  fileName: string;
  text: string;
  qrSvg: string;
}

/**
 * The WireGuard side of accounts: keys (made here, kept encrypted), the interface a product's peers
 * go on, and the customer's config. Router changes themselves go through the shared plan.
 */
export class WireGuardService {
  constructor(
    private readonly gateway: RouterGateway,
    private readonly secrets: SecretBox,
  ) {}

  /** A new key pair and preshared key, encrypted for storage. */
  newKeys(): StoredWireGuardKeys {
    const keys = generateWireGuardKeys();
    return {
      wgPublicKey: keys.publicKey,
      wgPrivateKey: this.secrets.encrypt(keys.privateKey),
      wgPresharedKey: this.secrets.encrypt(keys.presharedKey),
    };
  }

  /**
   * The interface the product's peers go on: the one it names, else the router's only one.
   * A router without WireGuard, or without the named interface, is refused with a typed error.
   */
  async resolveInterface(
    target: RouterTarget,
    routerName: string,
    settings: ProductSettings,
    known?: WireGuardInterface[],
  ): Promise<WireGuardInterface> {
    const interfaces = known ?? (await this.gateway.listWireGuardInterfaces(target));
    const wanted = settings.wgInterface.trim();
    if (interfaces.length === 0) {
      throw new AppError(
        ErrorCode.ROUTER_FEATURE_MISSING,
        `Router ${routerName} has no WireGuard interface${wanted ? ` (the product wants "${wanted}")` : ''}: WireGuard needs RouterOS 7 and an interface under /interface/wireguard`,
        { routerId: target.id, setting: 'wgInterface' },
      );
    }
    if (!wanted) {
      if (interfaces.length === 1) return interfaces[0];
      throw new ValidationError(
        `Router ${routerName} has ${interfaces.length} WireGuard interfaces (${interfaces.map((i) => i.name).join(', ')}): choose one in the product's WireGuard interface setting`,
        { setting: 'wgInterface' },
      );
    }
    const found = interfaces.find((i) => i.name === wanted);
    if (!found) {
      throw new ValidationError(
        `WireGuard interface "${wanted}" (setting wgInterface) does not exist on router ${routerName}; it has ${interfaces.map((i) => i.name).join(', ')}`,
        { setting: 'wgInterface' },
      );
    }
    return found;
  }

  /**
   * What the plan needs for a WireGuard account's peer. When the product's interface cannot be
   * resolved (a setting edited wrong, an interface renamed on the router) but the peer exists, the
   * peer stays where it is and the reason is returned as a problem: enforcement never waits for
   * a setting.
   */
  async desiredPeer(
    account: VpnAccountEntity,
    target: RouterTarget,
    routerName: string,
    settings: ProductSettings,
    observedPeer: WireGuardPeer | null,
    known?: WireGuardInterface[],
  ): Promise<{ peer: DesiredPeer; problem: string | null }> {
    const presharedKey = this.secrets.decrypt(account.wgPresharedKey!);
    try {
      const wgInterface = await this.resolveInterface(target, routerName, settings, known);
      return { peer: { interface: wgInterface.name, presharedKey }, problem: null };
    } catch (error) {
      if (!(error instanceof AppError) || error instanceof RouterError || !observedPeer) throw error;
      return { peer: { interface: observedPeer.interface, presharedKey }, problem: error.message };
    }
  }

  /** The customer's wg-quick file and QR code. `publicHost` is what customers reach the router by. */
  async config(
    account: VpnAccountEntity,
    settings: ProductSettings,
    wgInterface: WireGuardInterface,
    publicHost: string,
  ): Promise<WireGuardConfigFile> {
    const text = renderWireGuardConfig({
      privateKey: this.secrets.decrypt(account.wgPrivateKey!),
      presharedKey: this.secrets.decrypt(account.wgPresharedKey!),
      address: account.address,
      serverPublicKey: wgInterface.publicKey,
      endpoint: settings.wgClient.endpoint ?? defaultEndpoint(publicHost, wgInterface.listenPort),
      client: settings.wgClient,
    });
    return { fileName: configFileName(account.username), text, qrSvg: await wireGuardQrSvg(text) };
  }

  /** The config of a WireGuard account (null for PPP), from what the lookups read. */
  async configFor(account: VpnAccountEntity, lookups: WireGuardLookups): Promise<WireGuardConfigFile | null> {
    if (account.protocol !== VpnProtocol.WIREGUARD || !account.wgPrivateKey) return null;
    const router = await lookups.router(account.routerId);
    const settings = await lookups.settings(account.productId);
    if (!router || !settings) return null;
    const [interfaces, peer, host] = await Promise.all([
      // A router that cannot be read now: no config (its server key and port are the router's),
      // and the rest of the customer's page still shows.
      lookups.interfaces(router).catch((error: unknown) => {
        if (error instanceof RouterError) return null;
        throw error;
      }),
      lookups.peer(router, account.wgPublicKey!).catch(() => null),
      lookups.publicHost(router),
    ]);
    if (!interfaces) return null;
    // The interface the peer is on now; else the product's.
    const onRouter = peer ? interfaces.find((i) => i.name === peer.interface) : undefined;
    const wgInterface =
      onRouter ?? (await this.resolveInterface(lookups.target(router), router.name, settings, interfaces));
    return this.config(account, settings, wgInterface, host);
  }
}

/** What the WireGuard fields of an account read, batched per request by the caller (loaders). */
export interface WireGuardLookups {
  router(id: number): Promise<RouterEntity | null>;
  target(router: RouterEntity): RouterTarget;
  /** The router's WireGuard interfaces (one print per router per request). */
  interfaces(router: RouterEntity): Promise<WireGuardInterface[]>;
  /** The peer with this public key (one peers print per router per request). */
  peer(router: RouterEntity, publicKey: string): Promise<WireGuardPeer | null>;
  /** The host customers reach the router by: the WHMCS server's hostname, else its IP, else the API host. */
  publicHost(router: RouterEntity): Promise<string>;
  settings(productId: number): Promise<ProductSettings | null>;
}

/** The fields of a WireGuard account's status (GraphQL's WireGuardPeerStatus). */
export interface WireGuardStatusView {
  interface: string;
  publicKey: string;
  endpoint: string;
  online: boolean;
  lastHandshake: Date | null;
  currentEndpoint: string | null;
  downloadBytes: bigint | null;
  uploadBytes: bigint | null;
  live: boolean;
}

/** The status of a WireGuard account; null for PPP. A router that cannot be read leaves the live fields empty. */
export async function wireGuardStatus(
  account: VpnAccountEntity,
  lookups: WireGuardLookups,
): Promise<WireGuardStatusView | null> {
  if (account.protocol !== VpnProtocol.WIREGUARD || !account.wgPublicKey) return null;
  const router = await lookups.router(account.routerId);
  const settings = await lookups.settings(account.productId);
  if (!router || !settings) return null;
  const [interfaces, peer, host] = await Promise.all([
    lookups.interfaces(router).catch(() => null),
    lookups.peer(router, account.wgPublicKey).catch(() => undefined),
    lookups.publicHost(router),
  ]);
  const wgInterface =
    interfaces?.find((i) => i.name === (peer?.interface || settings.wgInterface)) ??
    (interfaces?.length === 1 ? interfaces[0] : undefined);
  const endpoint = settings.wgClient.endpoint ?? defaultEndpoint(host, wgInterface?.listenPort ?? 13231);
  const live = peer !== undefined && interfaces !== null;
  return {
    interface: peer?.interface || wgInterface?.name || settings.wgInterface,
    publicKey: account.wgPublicKey,
    endpoint,
    online: peer ? peerOnline(peer) : false,
    lastHandshake:
      peer && peer.lastHandshakeSeconds !== null
        ? new Date(Date.now() - peer.lastHandshakeSeconds * 1000)
        : null,
    currentEndpoint: peer?.currentEndpoint ?? null,
    downloadBytes: peer ? peer.downloadBytes : null,
    uploadBytes: peer ? peer.uploadBytes : null,
    live,
  };
}
