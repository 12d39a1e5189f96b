import { queueRow, type RouterState } from './router-state';

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
}

/** One seeded account, as tests and the CLI report it. */
export interface SeededAccount {
  index: number;
  name: string;
  password: string;
  address: string;
  queueName: string;
}

/** The fixed address of account `index`: 10.64.0.0 + index. */
export function seededAddress(index: number): string {
  return `10.${64 + Math.floor(index / 65536)}.${Math.floor(index / 256) % 256}.${index % 256}`;
}

/**
 * Adds `count` accounts the way the product provisions them (a PPP secret with a fixed
 * remote-address and a simple queue on that address/32 with a max-limit), straight into the
 * state so large routers (thousands of accounts) are ready at once.
 */
export function seedAccounts(state: RouterState, count: number, options: SeedOptions = {}): SeededAccount[] {
  const prefix = options.namePrefix ?? 'vpn';
  const commentPrefix = options.commentPrefix ?? 'sim:';
  const first = options.firstIndex ?? 1;
  const connectedEvery = options.connectedShare ? Math.max(1, Math.round(1 / options.connectedShare)) : 0;
  const accounts: SeededAccount[] = [];
  for (let index = first; index < first + count; index++) {
    const name = `${prefix}${String(index).padStart(5, '0')}`;
    const address = seededAddress(index);
    const password = `pw-${index}`;
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
      comment: `${commentPrefix}${index}`,
      disabled: false,
    });
    state.insertQueue(
      queueRow({
        id: state.queues.allocateId(),
        name,
        targets: [`${address}/32`],
        maxLimit: [10_000_000n, 50_000_000n],
        bytes: options.withTraffic ? [BigInt(index) * 100_000n, BigInt(index) * 1_000_000n] : [0n, 0n],
        comment: `${commentPrefix}${index}`,
      }),
    );
    if (connectedEvery > 0 && (index - first) % connectedEvery === 0) state.connect(name);
    accounts.push({ index, name, password, address, queueName: name });
  }
  return accounts;
}
