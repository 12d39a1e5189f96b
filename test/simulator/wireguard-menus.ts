import { isIP } from 'node:net';
import { type MenuSpec, type RenderedRow, type Setter, applyAttributes, parseBool } from './menu-spec';
import { RosTrap, type RouterState, formatDuration } from './router-state';
import {
  WG_DEFAULT_LISTEN_PORT,
  WG_DEFAULT_MTU,
  type WgInterfaceRow,
  type WgPeerRow,
  generateWireGuardPrivateKey,
  isWireGuardKey,
  parseAllowedAddress,
  parseDurationSeconds,
  prefixesOverlap,
  wgPeerRow,
  wireGuardPublicKey,
} from './wireguard-model';

/**
 * `/interface/wireguard` and `/interface/wireguard/peers` (RouterOS 7). Field names, defaults and
 * formats follow the help.mikrotik.com WireGuard page, terraform-routeros's resource schemas and
 * real print output; where those are silent the choice is marked "Our choice" here and listed in
 * docs/router.md.
 */

// Observed texts (see docs/router.md for the sources).
const DUPLICATE_INTERFACE = 'failure: already have interface with such name';
const DUPLICATE_PEER_KEY = 'failure: entry already exists';
const NO_SUCH_INTERFACE = 'input does not match any value of interface';
// Our choice: RouterOS documents that allowed-address ranges of one interface cannot overlap, but
// no public source quotes the refusal.
const OVERLAPPING_ALLOWED_ADDRESS = 'failure: allowed-address overlaps with existing peer';

const invalid = (name: string) => new RosTrap(`invalid value for argument ${name}`, 1);

function parsePort(name: string, value: string, min: number): number {
  if (!/^\d{1,5}$/.test(value) || Number(value) < min || Number(value) > 65535) throw invalid(name);
  return Number(value);
}

function parseKey(name: string, value: string, allowEmpty: boolean): string {
  if ((allowEmpty && value === '') || isWireGuardKey(value)) return value;
  throw invalid(name);
}

function parseKeepalive(name: string, value: string): number {
  const seconds = parseDurationSeconds(value);
  if (seconds === null || seconds > 65535) throw invalid(name);
  return seconds;
}

const HOSTNAME = /^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$/;

function parseEndpoint(name: string, value: string): string {
  if (value === '' || isIP(value) !== 0 || HOSTNAME.test(value)) return value;
  throw invalid(name);
}

function firstFreeName(prefix: string, taken: (name: string) => boolean): string {
  let n = 1;
  while (taken(`${prefix}${n}`)) n++;
  return `${prefix}${n}`;
}

// --- /interface/wireguard ---

const INTERFACE_SETTERS: Record<string, Setter<WgInterfaceRow>> = {
  name: (row, value) => {
    if (value === '') throw invalid('name');
    row.name = value;
  },
  'listen-port': (row, value) => (row.listenPort = parsePort('listen-port', value, 1)),
  mtu: (row, value) => {
    if (!/^\d{1,5}$/.test(value) || Number(value) > 65536) throw invalid('mtu');
    row.mtu = Number(value);
  },
  'private-key': (row, value) => {
    row.privateKey = parseKey('private-key', value, false);
    row.publicKey = wireGuardPublicKey(row.privateKey);
  },
  comment: (row, value) => (row.comment = value),
  disabled: (row, value) => (row.disabled = parseBool('disabled', value)),
};

function renderInterface(row: WgInterfaceRow): RenderedRow {
  const out = new Map<string, string>([
    ['.id', row.id],
    ['name', row.name],
    ['mtu', String(row.mtu)],
    ['listen-port', String(row.listenPort)],
    ['private-key', row.privateKey],
    ['public-key', row.publicKey],
    // Our choice: an enabled interface is running, with or without peers (as the manual's
    // example prints R right after `add`).
    ['running', String(!row.disabled)],
  ]);
  if (row.comment !== '') out.set('comment', row.comment);
  out.set('disabled', String(row.disabled));
  return out;
}

export const wgInterfaceMenu: MenuSpec = {
  verbs: ['print', 'add', 'set', 'remove', 'enable', 'disable'],
  nameKeyed: true,
  render: (state) => [...state.wgInterfaces.values()].map(renderInterface),
  exists: (state, id) => state.wgInterfaces.get(id) !== undefined,
  idByName: (state, name) => state.findWgInterface(name)?.id,
  add(state, attributes) {
    const row: WgInterfaceRow = {
      id: '',
      name: '',
      listenPort: WG_DEFAULT_LISTEN_PORT,
      mtu: WG_DEFAULT_MTU,
      privateKey: '',
      publicKey: '',
      comment: '',
      disabled: false,
    };
    applyAttributes(row, attributes, INTERFACE_SETTERS, state);
    // RouterOS names an interface added without a name after its type: wireguard1, wireguard2, …
    if (row.name === '') row.name = firstFreeName('wireguard', (name) => !!state.findWgInterface(name));
    if (state.findWgInterface(row.name)) throw new RosTrap(DUPLICATE_INTERFACE);
    if (row.privateKey === '') {
      row.privateKey = generateWireGuardPrivateKey();
      row.publicKey = wireGuardPublicKey(row.privateKey);
    }
    row.id = state.wgInterfaces.allocateId();
    state.insertWgInterface(row);
    return row.id;
  },
  set(state, id, attributes) {
    const row = state.wgInterfaces.get(id)!;
    const draft = { ...row };
    applyAttributes(draft, attributes, INTERFACE_SETTERS, state);
    const other = state.findWgInterface(draft.name);
    if (other && other !== row) throw new RosTrap(DUPLICATE_INTERFACE);
    // Our choice: a disabled interface tears down every tunnel on it; clients must handshake again.
    if (draft.disabled && !row.disabled) {
      for (const peer of state.wgPeers.values()) if (peer.interface === row.name) state.endWgSession(peer);
    }
    const { name, ...rest } = draft;
    Object.assign(row, rest);
    if (name !== row.name) state.renameWgInterface(row, name);
  },
  remove(state, id) {
    state.deleteWgInterface(state.wgInterfaces.get(id)!);
  },
};

// --- /interface/wireguard/peers ---

/** `name` on peers exists from 7.15 ("added peer name field"). */
const hasPeerNames = (state: RouterState) => state.versionAtLeast(7, 15);
/** The client-config fields (and the peer's own private-key) came with 7.12. */
const hasClientFields = (state: RouterState) => state.versionAtLeast(7, 12);
/** allowed-address is mandatory on `add` since 7.12.2. */
const requiresAllowedAddress = (state: RouterState) => state.versionAtLeast(7, 12, 2);

const PEER_SETTERS: Record<string, Setter<WgPeerRow>> = {
  interface: (row, value, state) => {
    if (!state.findWgInterface(value)) throw new RosTrap(NO_SUCH_INTERFACE, 1);
    row.interface = value;
  },
  'public-key': (row, value) => (row.publicKey = parseKey('public-key', value, false)),
  'preshared-key': (row, value) => (row.presharedKey = parseKey('preshared-key', value, true)),
  'allowed-address': (row, value, state) => {
    const prefixes = parseAllowedAddress(value);
    if (prefixes === null || (prefixes.length === 0 && requiresAllowedAddress(state))) {
      throw invalid('allowed-address');
    }
    row.allowedAddress = prefixes;
  },
  'endpoint-address': (row, value) => (row.endpointAddress = parseEndpoint('endpoint-address', value)),
  'endpoint-port': (row, value) => (row.endpointPort = parsePort('endpoint-port', value, 0)),
  'persistent-keepalive': (row, value) =>
    (row.persistentKeepalive = parseKeepalive('persistent-keepalive', value)),
  comment: (row, value) => (row.comment = value),
  disabled: (row, value) => (row.disabled = parseBool('disabled', value)),
};

const PEER_NAME_SETTERS: Record<string, Setter<WgPeerRow>> = {
  name: (row, value) => {
    if (value === '') throw invalid('name');
    row.name = value;
  },
};

// Accepted and printed as given: the router only copies them into the client's config file.
const PEER_CLIENT_SETTERS: Record<string, Setter<WgPeerRow>> = {
  'private-key': (row, value) => (row.privateKey = parseKey('private-key', value, true)),
  'client-address': (row, value) => (row.clientAddress = value),
  'client-dns': (row, value) => (row.clientDns = value),
  'client-endpoint': (row, value) => (row.clientEndpoint = value),
  'client-keepalive': (row, value) => (row.clientKeepalive = parseKeepalive('client-keepalive', value)),
  'client-listen-port': (row, value) => (row.clientListenPort = parsePort('client-listen-port', value, 0)),
};

function peerSetters(state: RouterState): Record<string, Setter<WgPeerRow>> {
  return {
    ...PEER_SETTERS,
    ...(hasPeerNames(state) ? PEER_NAME_SETTERS : {}),
    ...(hasClientFields(state) ? PEER_CLIENT_SETTERS : {}),
  };
}

/** Refuses a key another peer of the router has, and allowed-address overlapping on one interface. */
function checkPeerConflicts(state: RouterState, draft: WgPeerRow, self: WgPeerRow | null): void {
  const sameKey = state.findPeerByPublicKey(draft.publicKey);
  // One key per device, whatever the interface (MikroTik forum, quoted in nasnet-panel PR #768).
  if (sameKey && sameKey !== self) throw new RosTrap(DUPLICATE_PEER_KEY);
  for (const other of state.wgPeers.values()) {
    if (other === self || other.interface !== draft.interface) continue;
    const clash = draft.allowedAddress.some((mine) =>
      other.allowedAddress.some((theirs) => prefixesOverlap(mine, theirs)),
    );
    if (clash) throw new RosTrap(OVERLAPPING_ALLOWED_ADDRESS);
  }
}

function renderPeer(state: RouterState, row: WgPeerRow): RenderedRow {
  const out = new Map<string, string>([
    ['.id', row.id],
    ['interface', row.interface],
  ]);
  if (hasPeerNames(state)) out.set('name', row.name);
  out.set('public-key', row.publicKey);
  if (hasClientFields(state)) out.set('private-key', row.privateKey);
  out.set('endpoint-address', row.endpointAddress);
  out.set('endpoint-port', String(row.endpointPort));
  // Our choice: like last-handshake, the current endpoint exists only once a handshake happened.
  if (row.currentEndpointAddress !== '') {
    out.set('current-endpoint-address', row.currentEndpointAddress);
    out.set('current-endpoint-port', String(row.currentEndpointPort));
  }
  out.set('allowed-address', row.allowedAddress.join(','));
  out.set('preshared-key', row.presharedKey);
  out.set('persistent-keepalive', formatDuration(row.persistentKeepalive));
  if (hasClientFields(state)) {
    out.set('client-address', row.clientAddress);
    out.set('client-dns', row.clientDns);
    out.set('client-endpoint', row.clientEndpoint);
    out.set('client-keepalive', formatDuration(row.clientKeepalive));
    out.set('client-listen-port', String(row.clientListenPort));
  }
  out.set('rx', row.rx.toString());
  out.set('tx', row.tx.toString());
  // Absent until the first handshake, as RouterOS prints it.
  if (row.lastHandshakeAt !== null) {
    out.set('last-handshake', formatDuration((Date.now() - row.lastHandshakeAt) / 1000));
  }
  if (row.comment !== '') out.set('comment', row.comment);
  out.set('dynamic', 'false');
  out.set('disabled', String(row.disabled));
  return out;
}

export const wgPeerMenu: MenuSpec = {
  verbs: ['print', 'add', 'set', 'remove', 'enable', 'disable'],
  // Our choice: peers are addressed by .id only (a name in `numbers` is an invalid item number).
  nameKeyed: false,
  render: (state) => [...state.wgPeers.values()].map((row) => renderPeer(state, row)),
  exists: (state, id) => state.wgPeers.get(id) !== undefined,
  add(state, attributes) {
    const required = [
      'interface',
      'public-key',
      ...(requiresAllowedAddress(state) ? ['allowed-address'] : []),
    ];
    const missing = required.filter((name) => !attributes.has(name));
    if (missing.length > 0) throw new RosTrap(`missing value(s) of argument(s) ${missing.join(', ')}`, 1);
    const row = wgPeerRow();
    applyAttributes(row, attributes, peerSetters(state), state);
    checkPeerConflicts(state, row, null);
    if (row.name === '') {
      const names = new Set([...state.wgPeers.values()].map((peer) => peer.name));
      row.name = firstFreeName('peer', (name) => names.has(name));
    }
    row.id = state.wgPeers.allocateId();
    state.insertWgPeer(row);
    return row.id;
  },
  set(state, id, attributes) {
    const row = state.wgPeers.get(id)!;
    const draft: WgPeerRow = { ...row, allowedAddress: [...row.allowedAddress] };
    applyAttributes(draft, attributes, peerSetters(state), state);
    checkPeerConflicts(state, draft, row);
    const { publicKey, ...rest } = draft;
    // Our choice: a disabled peer (or one with a new key) has no tunnel; rx/tx stay.
    const endSession = (draft.disabled && !row.disabled) || publicKey !== row.publicKey;
    Object.assign(row, rest);
    if (publicKey !== row.publicKey) state.rekeyWgPeer(row, publicKey);
    if (endSession) state.endWgSession(row);
  },
  remove(state, id) {
    state.deleteWgPeer(state.wgPeers.get(id)!);
  },
};
