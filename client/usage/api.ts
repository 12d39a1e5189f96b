/**
 * The GraphQL calls of the usage page, with the short-lived client token the bridge minted
 * (it reads only this client's services). Failures come back as one of three kinds the page shows.
 */

import { ErrorCode } from '../../src/errors/error-code';
// The page's only operations, one file for the page and the module: in proxy mode the module forwards
// a request only when its document is exactly one of these (lib/ClientProxy.php).
import OPERATIONS from '../../php-bridge/modules/servers/mikrotikvpn/lib/usage-operations.json';

type OperationName = keyof typeof OPERATIONS;

export type ApiFailureKind = 'expired' | 'unreachable' | 'refused';

export class ApiFailure extends Error {
  constructor(
    readonly kind: ApiFailureKind,
    message: string,
  ) {
    super(message);
  }
}

export interface TopUp {
  id: string;
  at: string;
  day: string;
  kind: string;
  /** Why the server wrote the line (null on lines written before reasons existed). */
  reason: string | null;
  /** The billing cycle credited (cycle lines), as WHMCS names it ("Monthly"). */
  cycle: string | null;
  /** Rollover lines: the cycle the traffic came from, "YYYY-MM-DD/YYYY-MM-DD" (first day, day it ended). */
  period: string | null;
  bytes: bigint;
  balanceBeforeBytes: bigint;
  balanceAfterBytes: bigint;
  invoiceId: number | null;
  description: string;
}

export interface DayRow {
  day: string;
  downloadBytes: bigint;
  uploadBytes: bigint;
  totalBytes: bigint;
  /** The balance at the end of the day (after its last collection or top-up). */
  balanceAfterBytes: bigint;
  /** The sum of the day's top-ups. */
  creditedBytes: bigint;
}

export interface Account {
  status: string;
  timeZone: string;
  createdAt: string;
  balanceBytes: bigint;
  cycleAllowanceBytes: bigint;
  unlimited: boolean;
}

const TIMEOUT_MS = 20_000;
const TOP_UP_PAGE = 100;
const MAX_TOP_UP_PAGES = 20;

type Json = Record<string, unknown>;

/**
 * `proxy` (the default): the page posts to the module's own action on the WHMCS origin
 * (clientarea.php?...&modop=custom&a=usageData), with the WHMCS session cookie; the module checks
 * that the login owns the service and forwards the operation to the server. The token travels in
 * X-Mvpn-Client-Token (web servers in front of PHP often drop Authorization). `direct`: the page
 * calls the server's public client listener itself with the token as a Bearer token.
 */
export type ApiMode = 'proxy' | 'direct';

export class UsageApi {
  constructor(
    private readonly url: string,
    private readonly token: string,
    private readonly serviceId: number,
    private readonly toBytes: (value: unknown) => bigint,
    private readonly mode: ApiMode = 'direct',
  ) {}

  private async call(operationName: OperationName, variables: Json): Promise<Json> {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), TIMEOUT_MS);
    const proxy = this.mode === 'proxy';
    let response: Response;
    try {
      response = await fetch(this.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(proxy ? { 'x-mvpn-client-token': this.token } : { authorization: `Bearer ${this.token}` }),
        },
        body: JSON.stringify({ operationName, query: OPERATIONS[operationName], variables }),
        // Through WHMCS the session cookie is what proves the login; the server itself gets none.
        credentials: proxy ? 'same-origin' : 'omit',
        signal: controller.signal,
      });
    } catch (error) {
      throw new ApiFailure('unreachable', (error as Error).message);
    } finally {
      clearTimeout(timer);
    }
    let body: { data?: Json | null; errors?: { message: string; extensions?: Json }[] };
    try {
      body = (await response.json()) as typeof body;
    } catch {
      throw new ApiFailure('unreachable', `HTTP ${response.status}`);
    }
    const error = body.errors?.[0];
    if (error) {
      const code = error.extensions?.code;
      if (code === ErrorCode.UNAUTHENTICATED) throw new ApiFailure('expired', error.message);
      if (code === ErrorCode.FORBIDDEN || code === ErrorCode.NOT_FOUND || code === ErrorCode.VALIDATION)
        throw new ApiFailure('refused', error.message);
      throw new ApiFailure('unreachable', error.message);
    }
    if (!body.data) throw new ApiFailure('unreachable', `HTTP ${response.status}`);
    return body.data;
  }

  /** The account, or null when the service has no VPN account. */
  async account(): Promise<Account | null> {
    const data = await this.call('MvpnUsageAccount', { s: this.serviceId });
    const a = data.vpnAccount as {
      status: string;
      timeZone: string;
      createdAt: string;
      traffic: { balanceBytes: unknown; cycleAllowanceBytes: unknown; unlimited: boolean };
    } | null;
    if (!a) return null;
    return {
      status: a.status,
      timeZone: a.timeZone,
      createdAt: a.createdAt,
      balanceBytes: this.toBytes(a.traffic.balanceBytes),
      cycleAllowanceBytes: this.toBytes(a.traffic.cycleAllowanceBytes),
      unlimited: a.traffic.unlimited,
    };
  }

  /** The traffic-added history, newest first (every page; there are few credits per cycle). */
  async topUps(): Promise<TopUp[]> {
    const all: TopUp[] = [];
    let after: string | null = null;
    for (let page = 0; page < MAX_TOP_UP_PAGES; page++) {
      const data = await this.call('MvpnUsageTopUps', { s: this.serviceId, first: TOP_UP_PAGE, after });
      const connection = (
        data.vpnAccount as {
          topUps: {
            nodes: (Omit<TopUp, 'bytes' | 'balanceBeforeBytes' | 'balanceAfterBytes'> & Json)[];
            pageInfo: { hasNextPage: boolean; endCursor: string | null };
          };
        } | null
      )?.topUps;
      if (!connection) break;
      for (const n of connection.nodes) {
        all.push({
          id: n.id,
          at: n.at,
          day: n.day,
          kind: n.kind,
          reason: n.reason ?? null,
          cycle: n.cycle ?? null,
          period: n.period ?? null,
          bytes: this.toBytes(n.bytes),
          balanceBeforeBytes: this.toBytes(n.balanceBeforeBytes),
          balanceAfterBytes: this.toBytes(n.balanceAfterBytes),
          invoiceId: n.invoiceId,
          description: n.description,
        });
      }
      if (!connection.pageInfo.hasNextPage || !connection.pageInfo.endCursor) break;
      after = connection.pageInfo.endCursor;
    }
    return all;
  }

  /**
   * Every day between two instants, up to today (the server counts days in WHMCS's time zone),
   * quiet days included with 0 bytes and the balance carried.
   */
  async days(from: Date, to: Date): Promise<DayRow[]> {
    const data = await this.call('MvpnUsageDays', {
      s: this.serviceId,
      from: from.toISOString(),
      to: to.toISOString(),
    });
    const rows = (data.vpnAccount as { usage: Json[] } | null)?.usage ?? [];
    return rows.map((r) => ({
      day: String(r.day),
      downloadBytes: this.toBytes(r.downloadBytes),
      uploadBytes: this.toBytes(r.uploadBytes),
      totalBytes: this.toBytes(r.totalBytes),
      balanceAfterBytes: this.toBytes(r.balanceAfterBytes),
      creditedBytes: this.toBytes(r.creditedBytes),
    }));
  }
}
