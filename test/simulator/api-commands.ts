import { isIPv4 } from 'node:net';
import {
  type MenuSpec,
  type RenderedRow,
  type Setter,
  applyAttributes,
  parseBool,
  parseInteger,
} from './menu-spec';
import { PrintQuery, QuerySyntaxError } from './print-query';
import {
  type ActiveRow,
  PPP_SERVICES,
  type ProfileRow,
  type QueueRow,
  RosMultiTrap,
  RosTrap,
  type RouterState,
  type SecretRow,
  formatDuration,
  queueRow,
} from './router-state';
import { wgInterfaceMenu, wgPeerMenu } from './wireguard-menus';

/**
 * Executes RouterOS API menu commands (`/ppp/secret/add`, `/queue/simple/print`, …) against a
 * {@link RouterState} and returns the reply sentences without tags. Session-level words (`/login`,
 * `/cancel`, `/quit`, `#`) are the connection's business, not this module's.
 */

/** A reply sentence: reply word first (`!re`, `!done`, `!trap`, `!empty`), then `=name=value` words. */
export type ReplySentence = string[];

/** A parsed command sentence. */
export interface ApiCommand {
  path: string;
  attributes: Map<string, string>;
  queries: string[];
}

/** A command sentence with the `.tag` it carried (null when untagged). */
export type TaggedCommand = ApiCommand & { tag: string | null };

/** Splits a sentence's words into command path, `=attributes`, `.tag` and `?queries`. */
export function parseCommand(words: readonly string[]): TaggedCommand {
  const attributes = new Map<string, string>();
  const queries: string[] = [];
  let tag: string | null = null;
  for (const word of words.slice(1)) {
    if (word.startsWith('.tag=')) tag = word.slice(5);
    else if (word.startsWith('?')) queries.push(word);
    else if (word.startsWith('=')) {
      const separator = word.indexOf('=', 1);
      if (separator < 0) attributes.set(word.slice(1), '');
      else attributes.set(word.slice(1, separator), word.slice(separator + 1));
    } else if (word.startsWith('.')) {
      // API attributes other than .tag travel as ordinary attributes too (`.proplist=a,b`).
      const separator = word.indexOf('=');
      attributes.set(
        separator < 0 ? word : word.slice(0, separator),
        separator < 0 ? '' : word.slice(separator + 1),
      );
    }
  }
  return { path: words[0] ?? '', attributes, queries, tag };
}

/** Runs one menu command. Traps come back as `!trap` sentences followed by `!done`. */
export function executeMenuCommand(
  state: RouterState,
  command: ApiCommand,
  options: { emptySentence: boolean },
): ReplySentence[] {
  try {
    return dispatch(state, command, options);
  } catch (error) {
    if (error instanceof RosMultiTrap) return [...error.traps.map(trapSentence), ['!done']];
    if (error instanceof RosTrap) return [trapSentence(error), ['!done']];
    if (error instanceof QuerySyntaxError) return [trapSentence(new RosTrap('invalid query', 5)), ['!done']];
    throw error;
  }
}

function trapSentence(trap: RosTrap): ReplySentence {
  const words = ['!trap'];
  if (trap.category !== undefined) words.push(`=category=${trap.category}`);
  words.push(`=message=${trap.message}`);
  return words;
}

const PRINT_FLAGS = new Set([
  '.proplist',
  'count-only',
  'detail',
  'stats',
  'without-paging',
  'terse',
  'brief',
]);

function dispatch(
  state: RouterState,
  command: ApiCommand,
  options: { emptySentence: boolean },
): ReplySentence[] {
  const slash = command.path.lastIndexOf('/');
  const menuPath = command.path.slice(0, slash);
  const verb = command.path.slice(slash + 1);
  const menu = MENUS[menuPath];
  // RouterOS 6 has no WireGuard: its menus answer like any path the router does not know.
  if (!menu || (menuPath.startsWith('/interface/wireguard') && !state.hasWireGuard)) {
    throw unknownPath(command.path);
  }
  const canonicalVerb = verb === 'getall' ? 'print' : verb;
  if (!menu.verbs.includes(canonicalVerb)) throw new RosTrap('no such command', 0);
  const { attributes } = command;
  // The identity is a single setting, not a list: its `set` addresses no item.
  if (menuPath === '/system/identity' && canonicalVerb === 'set') return setIdentity(state, attributes);
  switch (canonicalVerb) {
    case 'print':
      return print(state, menu, command, options);
    case 'add': {
      const id = menu.add!(state, attributes);
      return [['!done', `=ret=${id}`]];
    }
    case 'set': {
      const ids = resolveNumbers(state, menu, attributes);
      const rest = withoutNumbers(attributes);
      for (const id of ids) menu.set!(state, id, rest);
      return [['!done']];
    }
    case 'enable':
    case 'disable': {
      const ids = resolveNumbers(state, menu, attributes);
      const flag = new Map([['disabled', canonicalVerb === 'disable' ? 'true' : 'false']]);
      for (const id of ids) menu.set!(state, id, flag);
      return [['!done']];
    }
    case 'remove': {
      const ids = resolveNumbers(state, menu, attributes);
      for (const id of ids) menu.remove!(state, id);
      return [['!done']];
    }
    case 'reset-counters': {
      for (const id of resolveNumbers(state, menu, attributes)) menu.resetCounters!(state, id);
      return [['!done']];
    }
    case 'reset-counters-all':
      menu.resetCounters!(state, null);
      return [['!done']];
    default:
      throw new RosTrap('no such command', 0);
  }
}

// A path we do not model answers like an unknown path on a real router: two traps naming the
// first path segment that does not exist.
const TOP_LEVEL = new Set(['interface', 'ppp', 'queue', 'system']);

function unknownPath(path: string): RosMultiTrap {
  const segments = path.split('/').filter((segment) => segment.length > 0);
  const token = TOP_LEVEL.has(segments[0]) && segments.length > 1 ? segments[1] : (segments[0] ?? path);
  return new RosMultiTrap([
    new RosTrap(`no such command or directory (${token})`),
    new RosTrap('no such command prefix'),
  ]);
}

function print(
  state: RouterState,
  menu: MenuSpec,
  command: ApiCommand,
  options: { emptySentence: boolean },
): ReplySentence[] {
  for (const name of command.attributes.keys()) {
    if (!PRINT_FLAGS.has(name)) throw new RosTrap(`unknown parameter ${name}`);
  }
  const query = PrintQuery.compile(command.queries);
  let rows = menu.render(state);
  if (!query.isEmpty) rows = rows.filter((row) => query.matches((name) => row.get(name)));
  if (command.attributes.has('count-only')) return [['!done', `=ret=${rows.length}`]];
  if (rows.length === 0) return options.emptySentence ? [['!empty'], ['!done']] : [['!done']];
  const proplist = command.attributes.get('.proplist');
  const wanted = proplist === undefined ? null : proplist.split(',').filter((name) => name.length > 0);
  const sentences: ReplySentence[] = [];
  for (const row of rows) {
    const words = ['!re'];
    if (wanted === null) {
      for (const [name, value] of row) words.push(`=${name}=${value}`);
    } else {
      // Only listed properties the item has; none at all gives a bare !re, as the API does.
      for (const name of wanted) {
        const value = row.get(name);
        if (value !== undefined) words.push(`=${name}=${value}`);
      }
    }
    sentences.push(words);
  }
  sentences.push(['!done']);
  return sentences;
}

function withoutNumbers(attributes: Map<string, string>): Map<string, string> {
  const rest = new Map(attributes);
  rest.delete('.id');
  rest.delete('numbers');
  return rest;
}

/** Resolves `=.id=` / `=numbers=` (comma list of `*HEX` ids, or names in name-keyed menus). */
function resolveNumbers(state: RouterState, menu: MenuSpec, attributes: Map<string, string>): string[] {
  const raw = attributes.get('.id') ?? attributes.get('numbers');
  if (raw === undefined) throw new RosTrap('missing value(s) of argument(s) numbers', 1);
  const ids: string[] = [];
  for (const part of raw.split(',')) {
    const item = part.trim();
    if (item.startsWith('*')) {
      if (!/^\*[0-9A-Fa-f]{1,8}$/.test(item)) throw new RosTrap('invalid internal item number', 1);
      const id = `*${item
        .slice(1)
        .toUpperCase()
        .replace(/^0+(?=.)/, '')}`;
      if (!menu.exists!(state, id)) throw new RosTrap('no such item (4)', 1);
      ids.push(id);
    } else if (menu.nameKeyed && item.length > 0) {
      const id = menu.idByName!(state, item);
      if (id === undefined) throw new RosTrap('no such item (4)', 1);
      ids.push(id);
    } else {
      throw new RosTrap('invalid internal item number', 1);
    }
  }
  return ids;
}

// --- value parsing, with RouterOS's own error texts ---

function parseAddress(name: string, value: string): string {
  if (value === '' || isIPv4(value)) return value;
  throw new RosTrap(`invalid value for argument ${name}`, 1);
}

const RATE_UNITS: Record<string, bigint> = { '': 1n, k: 1000n, K: 1000n, M: 1000000n, G: 1000000000n };

function parseRate(name: string, text: string): bigint {
  const match = /^(\d+)(\.\d+)?([kKMG]?)$/.exec(text);
  if (!match) throw new RosTrap(`invalid value for argument ${name}`, 1);
  const unit = RATE_UNITS[match[3]];
  const fraction = match[2] ? Math.round(Number(match[2]) * Number(unit)) : 0;
  return BigInt(match[1]) * unit + BigInt(fraction);
}

/** `upload/download` pairs; a single value applies to both halves. */
function parseRatePair(name: string, text: string): [bigint, bigint] {
  const parts = text.split('/');
  if (parts.length > 2) throw new RosTrap(`invalid value for argument ${name}`, 1);
  const upload = parseRate(name, parts[0]);
  return [upload, parts.length === 2 ? parseRate(name, parts[1]) : upload];
}

function parseTargets(text: string): string[] {
  return text.split(',').map((target) => {
    const [address, length] = target.trim().split('/');
    const prefix = length === undefined ? 32 : Number(length);
    if (!isIPv4(address) || !Number.isInteger(prefix) || prefix < 0 || prefix > 32) {
      throw new RosTrap('invalid value for argument target', 1);
    }
    return `${address}/${prefix}`;
  });
}

// --- /ppp/secret ---

const SECRET_SETTERS: Record<string, Setter<SecretRow>> = {
  name: (row, value) => {
    if (value === '') throw new RosTrap('invalid value for argument name', 1);
    row.name = value;
  },
  service: (row, value) => {
    if (!(PPP_SERVICES as readonly string[]).includes(value)) {
      throw new RosTrap('input does not match any value of service', 1);
    }
    row.service = value;
  },
  'caller-id': (row, value) => (row.callerId = value),
  password: (row, value) => (row.password = value),
  profile: (row, value, state) => {
    if (!state.findProfile(value)) throw new RosTrap('input does not match any value of profile');
    row.profile = value;
  },
  'local-address': (row, value) => (row.localAddress = parseAddress('local-address', value)),
  'remote-address': (row, value) => (row.remoteAddress = parseAddress('remote-address', value)),
  routes: (row, value) => (row.routes = value),
  'ipv6-routes': (row, value) => (row.ipv6Routes = value),
  'limit-bytes-in': (row, value) => (row.limitBytesIn = parseInteger('limit-bytes-in', value)),
  'limit-bytes-out': (row, value) => (row.limitBytesOut = parseInteger('limit-bytes-out', value)),
  comment: (row, value) => (row.comment = value),
  disabled: (row, value) => (row.disabled = parseBool('disabled', value)),
};

const DUPLICATE_SECRET = 'failure: secret with the same name already exists';

function renderSecret(row: SecretRow): RenderedRow {
  const out = new Map<string, string>([
    ['.id', row.id],
    ['name', row.name],
    ['service', row.service],
    ['caller-id', row.callerId],
    ['password', row.password],
    ['profile', row.profile],
    ['local-address', row.localAddress],
    ['remote-address', row.remoteAddress],
    ['routes', row.routes],
    ['ipv6-routes', row.ipv6Routes],
    ['limit-bytes-in', row.limitBytesIn],
    ['limit-bytes-out', row.limitBytesOut],
  ]);
  if (row.lastLoggedOut !== '') {
    out.set('last-logged-out', row.lastLoggedOut);
    out.set('last-caller-id', row.lastCallerId);
    out.set('last-disconnect-reason', row.lastDisconnectReason);
  }
  if (row.comment !== '') out.set('comment', row.comment);
  out.set('disabled', String(row.disabled));
  return out;
}

const secretMenu: MenuSpec = {
  verbs: ['print', 'add', 'set', 'remove', 'enable', 'disable'],
  nameKeyed: true,
  render: (state) => [...state.secrets.values()].map(renderSecret),
  exists: (state, id) => state.secrets.get(id) !== undefined,
  idByName: (state, name) => state.findSecret(name)?.id,
  add(state, attributes) {
    if (!attributes.has('name')) throw new RosTrap('missing value(s) of argument(s) name', 1);
    const row: SecretRow = {
      id: '',
      name: '',
      service: 'any',
      callerId: '',
      password: '',
      profile: 'default',
      localAddress: '',
      remoteAddress: '',
      routes: '',
      ipv6Routes: '',
      limitBytesIn: '0',
      limitBytesOut: '0',
      lastLoggedOut: '',
      lastCallerId: '',
      lastDisconnectReason: '',
      comment: '',
      disabled: false,
    };
    applyAttributes(row, attributes, SECRET_SETTERS, state);
    if (state.findSecret(row.name)) throw new RosTrap(DUPLICATE_SECRET);
    row.id = state.secrets.allocateId();
    state.insertSecret(row);
    return row.id;
  },
  set(state, id, attributes) {
    const row = state.secrets.get(id)!;
    const draft = { ...row };
    applyAttributes(draft, attributes, SECRET_SETTERS, state);
    const other = state.findSecret(draft.name);
    if (other && other !== row) throw new RosTrap(DUPLICATE_SECRET);
    const { name, ...rest } = draft;
    Object.assign(row, rest);
    if (name !== row.name) state.renameSecret(row, name);
  },
  remove(state, id) {
    state.deleteSecret(state.secrets.get(id)!);
  },
};

// --- /ppp/profile ---

const PROFILE_SETTERS: Record<string, Setter<ProfileRow>> = {
  // Secrets refer to their profile, so a rename shows in them (as RouterOS's references do).
  name: (row, value, state) => {
    if (row.name && row.name !== value) {
      for (const secret of state.secrets.values()) if (secret.profile === row.name) secret.profile = value;
    }
    row.name = value;
  },
  'local-address': (row, value) => (row.localAddress = value),
  'remote-address': (row, value) => (row.remoteAddress = value),
  'rate-limit': (row, value) => (row.rateLimit = value),
  'only-one': (row, value) => (row.onlyOne = value),
  'use-encryption': (row, value) => (row.useEncryption = value),
  'change-tcp-mss': (row, value) => (row.changeTcpMss = value),
  comment: (row, value) => (row.comment = value),
};

function renderProfile(row: ProfileRow): RenderedRow {
  const out = new Map<string, string>([
    ['.id', row.id],
    ['name', row.name],
  ]);
  if (row.localAddress !== '') out.set('local-address', row.localAddress);
  if (row.remoteAddress !== '') out.set('remote-address', row.remoteAddress);
  out.set('use-mpls', 'default');
  out.set('use-compression', 'default');
  out.set('use-encryption', row.useEncryption);
  out.set('only-one', row.onlyOne);
  out.set('change-tcp-mss', row.changeTcpMss);
  out.set('use-upnp', 'default');
  out.set('address-list', '');
  out.set('on-up', '');
  out.set('on-down', '');
  if (row.rateLimit !== '') out.set('rate-limit', row.rateLimit);
  if (row.comment !== '') out.set('comment', row.comment);
  out.set('default', String(row.builtin));
  return out;
}

const profileMenu: MenuSpec = {
  verbs: ['print', 'add', 'set', 'remove'],
  nameKeyed: true,
  render: (state) => [...state.profiles.values()].map(renderProfile),
  exists: (state, id) => state.profiles.get(id) !== undefined,
  idByName: (state, name) => state.findProfile(name)?.id,
  add(state, attributes) {
    if (!attributes.has('name')) throw new RosTrap('missing value(s) of argument(s) name', 1);
    const row: ProfileRow = {
      id: '',
      name: '',
      localAddress: '',
      remoteAddress: '',
      rateLimit: '',
      onlyOne: 'default',
      useEncryption: 'default',
      changeTcpMss: 'default',
      comment: '',
      builtin: false,
    };
    applyAttributes(row, attributes, PROFILE_SETTERS, state);
    // Wording not confirmed on a real router.
    if (state.findProfile(row.name)) throw new RosTrap('failure: profile with the same name already exists');
    row.id = state.profiles.allocateId();
    state.profiles.insert(row);
    return row.id;
  },
  set(state, id, attributes) {
    applyAttributes(state.profiles.get(id)!, attributes, PROFILE_SETTERS, state);
  },
  remove(state, id) {
    // Billing code treats the built-in profiles as undeletable; the exact wording is not confirmed.
    if (state.profiles.get(id)!.builtin) throw new RosTrap('failure: cannot remove default profile');
    state.profiles.delete(id);
  },
};

// --- /ppp/active ---

function renderActive(row: ActiveRow): RenderedRow {
  return new Map([
    ['.id', row.id],
    ['name', row.name],
    ['service', row.service],
    ['caller-id', row.callerId],
    ['address', row.address],
    ['uptime', formatDuration((Date.now() - row.connectedAt) / 1000)],
    ['encoding', row.encoding],
    ['session-id', row.sessionId],
    ['limit-bytes-in', row.limitBytesIn],
    ['limit-bytes-out', row.limitBytesOut],
    ['radius', 'false'],
  ]);
}

const activeMenu: MenuSpec = {
  verbs: ['print', 'remove'],
  nameKeyed: false,
  render: (state) => [...state.active.values()].map(renderActive),
  exists: (state, id) => state.active.get(id) !== undefined,
  idByName: (state, name) => state.findActive(name)?.id,
  remove(state, id) {
    // Which disconnect reason an admin removal records is not confirmed; nas-request is our guess.
    state.endSession(state.active.get(id)!, 'nas-request');
  },
};

// --- /queue/simple ---

const pair = (values: [bigint, bigint]) => `${values[0]}/${values[1]}`;

const QUEUE_SETTERS: Record<string, Setter<QueueRow>> = {
  name: (row, value) => (row.name = value),
  target: (row, value) => (row.targets = parseTargets(value)),
  parent: (row, value, state) => {
    if (value !== 'none' && !state.findQueue(value))
      throw new RosTrap('input does not match any value of parent');
    row.parent = value;
  },
  priority: (row, value) => (row.priority = value.includes('/') ? value : `${value}/${value}`),
  queue: (row, value) => (row.queue = value.includes('/') ? value : `${value}/${value}`),
  'limit-at': (row, value) => (row.limitAt = parseRatePair('limit-at', value)),
  'max-limit': (row, value) => (row.maxLimit = parseRatePair('max-limit', value)),
  'burst-limit': (row, value) => (row.burstLimit = parseRatePair('burst-limit', value)),
  'burst-threshold': (row, value) => (row.burstThreshold = parseRatePair('burst-threshold', value)),
  'burst-time': (row, value) => (row.burstTime = value.includes('/') ? value : `${value}/${value}`),
  'bucket-size': (row, value) => (row.bucketSize = value.includes('/') ? value : `${value}/${value}`),
  'packet-marks': (row, value) => (row.packetMarks = value),
  comment: (row, value) => (row.comment = value),
  disabled: (row, value) => (row.disabled = parseBool('disabled', value)),
};

function checkLimits(row: QueueRow): void {
  const halves = ['upload', 'download'];
  for (const half of [0, 1]) {
    if (row.maxLimit[half] !== 0n && row.maxLimit[half] < row.limitAt[half]) {
      throw new RosTrap(`failure: ${halves[half]}-max-limit less than ${halves[half]}-limit`);
    }
  }
}

function renderQueue(row: QueueRow): RenderedRow {
  const out = new Map<string, string>([
    ['.id', row.id],
    ['name', row.name],
    ['target', row.targets.join(',')],
    ['parent', row.parent],
    ['packet-marks', row.packetMarks],
    ['priority', row.priority],
    ['queue', row.queue],
    ['limit-at', pair(row.limitAt)],
    ['max-limit', pair(row.maxLimit)],
    ['burst-limit', pair(row.burstLimit)],
    ['burst-threshold', pair(row.burstThreshold)],
    ['burst-time', row.burstTime],
    ['bucket-size', row.bucketSize],
    ['bytes', pair(row.bytes)],
    ['total-bytes', '0'],
    ['packets', pair(row.packets)],
    ['total-packets', '0'],
    ['dropped', '0/0'],
    ['total-dropped', '0'],
    ['rate', '0/0'],
    ['total-rate', '0'],
    ['packet-rate', '0/0'],
    ['total-packet-rate', '0'],
    ['queued-packets', '0/0'],
    ['total-queued-packets', '0'],
    ['queued-bytes', '0/0'],
    ['total-queued-bytes', '0'],
    ['invalid', 'false'],
    ['dynamic', String(row.dynamic)],
    ['disabled', String(row.disabled)],
  ]);
  if (row.comment !== '') out.set('comment', row.comment);
  return out;
}

const DUPLICATE_QUEUE = 'failure: already have such name';

const queueMenu: MenuSpec = {
  verbs: ['print', 'add', 'set', 'remove', 'enable', 'disable', 'reset-counters', 'reset-counters-all'],
  nameKeyed: true,
  render: (state) => [...state.queues.values()].map(renderQueue),
  exists: (state, id) => state.queues.get(id) !== undefined,
  idByName: (state, name) => state.findQueue(name)?.id,
  add(state, attributes) {
    if (!attributes.has('target')) throw new RosTrap('missing value(s) of argument(s) target', 1);
    const row = queueRow();
    applyAttributes(row, attributes, QUEUE_SETTERS, state);
    checkLimits(row);
    if (row.name === '') {
      let n = 1;
      while (state.findQueue(`queue${n}`)) n++;
      row.name = `queue${n}`;
    }
    if (state.findQueue(row.name)) throw new RosTrap(DUPLICATE_QUEUE);
    row.id = state.queues.allocateId();
    state.insertQueue(row);
    return row.id;
  },
  set(state, id, attributes) {
    const row = state.queues.get(id)!;
    const draft: QueueRow = { ...row };
    applyAttributes(draft, attributes, QUEUE_SETTERS, state);
    checkLimits(draft);
    const other = state.findQueue(draft.name);
    if (other && other !== row) throw new RosTrap(DUPLICATE_QUEUE);
    const { name, ...rest } = draft;
    Object.assign(row, rest);
    if (name !== row.name) state.renameQueue(row, name);
  },
  remove(state, id) {
    state.deleteQueue(state.queues.get(id)!);
  },
  resetCounters(state, id) {
    const rows = id === null ? [...state.queues.values()] : [state.queues.get(id)!];
    for (const row of rows) {
      row.bytes = [0n, 0n];
      row.packets = [0n, 0n];
    }
  },
};

// --- /system ---

const resourceMenu: MenuSpec = {
  verbs: ['print'],
  nameKeyed: false,
  render: (state) => [
    new Map([
      ['uptime', formatDuration(state.uptimeSeconds)],
      ['version', `${state.version} (stable)`],
      ['build-time', '2024-11-04 10:05:01'],
      ['factory-software', '7.1'],
      ['free-memory', '912539648'],
      ['total-memory', '1073741824'],
      ['cpu', 'QEMU'],
      ['cpu-count', '2'],
      ['cpu-frequency', '2400'],
      ['cpu-load', '1'],
      ['free-hdd-space', '83886080'],
      ['total-hdd-space', '134217728'],
      ['architecture-name', 'x86_64'],
      ['board-name', 'CHR'],
      ['platform', 'MikroTik'],
    ]),
  ],
};

const identityMenu: MenuSpec = {
  verbs: ['print', 'set'],
  nameKeyed: false,
  render: (state) => [new Map([['name', state.identity]])],
};

const MENUS: Record<string, MenuSpec> = {
  '/ppp/secret': secretMenu,
  '/ppp/profile': profileMenu,
  '/ppp/active': activeMenu,
  '/queue/simple': queueMenu,
  '/interface/wireguard': wgInterfaceMenu,
  '/interface/wireguard/peers': wgPeerMenu,
  '/system/resource': resourceMenu,
  '/system/identity': identityMenu,
};

function setIdentity(state: RouterState, attributes: Map<string, string>): ReplySentence[] {
  for (const name of attributes.keys()) {
    if (name !== 'name') throw new RosTrap(`unknown parameter ${name}`);
  }
  const name = attributes.get('name');
  if (name !== undefined) state.identity = name;
  return [['!done']];
}
