import type { Stack } from '../helpers/stack';
import { gql, type GqlResult, type TestServer } from '../helpers/test-server';

/** Full numbers from issue #9 with MVPN_FAULTS=full (`npm run test:faults`); a quick version in `npm test`. */
export const FULL = process.env.MVPN_FAULTS === 'full';

export const GB = 1_000_000_000;
export const COLLECT = `mutation { collectTraffic { routers { routerId ok skipped errorCode error samples durationMs rebooted } } }`;

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `check` until it returns true; returns how long that took. */
export async function waitFor(
  what: string,
  check: () => Promise<boolean>,
  timeoutMs: number,
): Promise<number> {
  const started = Date.now();
  for (;;) {
    if (await check()) return Date.now() - started;
    if (Date.now() - started > timeoutMs) throw new Error(`${what}: not reached within ${timeoutMs} ms`);
    await sleep(100);
  }
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Accounts through the real API, as the WHMCS module creates them. */
export class Accounts {
  private nextServiceId: number;

  constructor(
    private readonly stack: Stack,
    private readonly clientId: number,
    private readonly productId: number,
    firstServiceId: number,
  ) {
    this.nextServiceId = firstServiceId;
  }

  call(query: string, variables: Record<string, unknown> = {}, server: TestServer = this.stack.server) {
    return gql(server.url, query, variables, this.stack.admin);
  }

  async create(serverId: number, username: string): Promise<{ serviceId: number; address: string }> {
    const serviceId = await this.stack.whmcs.service({
      id: ++this.nextServiceId,
      userid: this.clientId,
      packageid: this.productId,
      server: serverId,
    });
    const r = await this.call(
      `mutation($i: CreateVpnAccountInput!) { createVpnAccount(input: $i) { address } }`,
      {
        i: {
          serviceId,
          serverId,
          productId: this.productId,
          username,
          password: 'Passw0rd!',
          billingCycle: 'Monthly',
        },
      },
    );
    if (r.errors) throw new Error(JSON.stringify(r.errors));
    return { serviceId, address: r.data!.createVpnAccount.address as string };
  }

  async balance(serviceId: number): Promise<bigint> {
    const [row] = await this.stack.db.query(
      "SELECT balance_bytes FROM mod_mikrotikvpn_accounts WHERE service_id = ? AND status <> 'TERMINATED'",
      [serviceId],
    );
    return BigInt(row.balance_bytes);
  }

  /** Bytes recorded for the account: sum of its samples, and of its daily totals. */
  async recorded(serviceId: number): Promise<{ samples: bigint; daily: bigint }> {
    const [row] = await this.stack.db.query(
      `SELECT
         (SELECT COALESCE(SUM(s.download_bytes + s.upload_bytes), 0) FROM mod_mikrotikvpn_traffic_samples s WHERE s.account_id = a.id) AS samples,
         (SELECT COALESCE(SUM(d.download_bytes + d.upload_bytes), 0) FROM mod_mikrotikvpn_traffic_daily d WHERE d.account_id = a.id) AS daily
       FROM mod_mikrotikvpn_accounts a WHERE a.service_id = ? AND a.status <> 'TERMINATED'`,
      [serviceId],
    );
    return { samples: BigInt(row.samples), daily: BigInt(row.daily) };
  }
}

export function expectNoErrors(r: GqlResult): void {
  if (r.errors) throw new Error(JSON.stringify(r.errors));
}

/** A small seeded PRNG (mulberry32), so a failing fault run can be replayed with its seed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The seed of this run: MVPN_FAULTS_SEED to replay one, else a fresh one (printed by the tests). */
export function faultSeed(): number {
  return process.env.MVPN_FAULTS_SEED
    ? Number(process.env.MVPN_FAULTS_SEED)
    : Math.floor(Math.random() * 2 ** 31);
}
