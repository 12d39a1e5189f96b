import crypto from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import type { DataSource, EntityManager } from 'typeorm';
import { Webhook } from 'standardwebhooks';
import type { SecretBox } from '../../auth/secret-box';
import type { Logger } from '../../common/logger';
import { retryTransaction } from '../../db/retry';
import type { EventOutbox } from './outbox.service';
import type { WebhookTargetPolicy } from './ssrf';

export type DeliveryOutcome = 'delivered' | 'retry' | 'failed';

export interface DispatcherOptions {
  timeoutMs: number;
  retryBaseMs: number;
  retryMaxMs: number;
  retryForSeconds: number;
  /** Deliveries claimed per pass. */
  batch?: number;
}

interface Claimed {
  id: string;
  attempts: number;
  event_id: string;
  endpoint_id: number;
  url: string;
  secret_encrypted: string;
  enabled: number;
  type: string;
  at: Date;
  payload: string;
  age_seconds: number | string;
}

/** Longest response body read (and thrown away) from a receiver. */
const MAX_RESPONSE_BYTES = 64 * 1024;

/**
 * Delivers webhook deliveries, in a periodic job of its own (never in a request or a collection).
 * Each pass claims due deliveries with SELECT … FOR UPDATE SKIP LOCKED and gives each a lease (its
 * `next_attempt_at` becomes the lease's end, its owner this process), so at most one attempt of a
 * delivery is in flight across every server process. A process killed mid-delivery leaves the lease
 * to expire; the next pass of any process sends it again with the same webhook-id. Results are
 * written only by the lease's holder (owner and attempt number must still match).
 *
 * Its transactions run at READ COMMITTED. At InnoDB's default REPEATABLE READ the claim's range scan
 * takes gap locks over the due deliveries, exactly where a suspend, a top-up or a termination is
 * inserting its own in the same moment: InnoDB then rolled one of the two back as a deadlock victim,
 * and the change's caller (WHMCS) got an internal error after the router had already been changed.
 */
export class WebhookDispatcher {
  /** Who holds a lease: this process. */
  readonly owner = `${process.pid}-${crypto.randomBytes(4).toString('hex')}`;

  constructor(
    private readonly db: DataSource,
    private readonly secrets: SecretBox,
    private readonly policy: WebhookTargetPolicy,
    private readonly outbox: EventOutbox,
    private readonly options: DispatcherOptions,
    private readonly hooks: { log?: Logger; onOutcome?: (outcome: DeliveryOutcome) => void } = {},
  ) {}

  /** The lease of an attempt: the whole timeout and a margin. */
  private get leaseMs(): number {
    return this.options.timeoutMs + 2000;
  }

  /**
   * Deletes events older than the retention (and their finished deliveries), at most once an hour
   * per process and in chunks; an event with a delivery still to be made is kept until it is made
   * or given up.
   */
  async prune(retentionDays: number): Promise<number> {
    if (this.lastPrune !== null && performance.now() - this.lastPrune < 3_600_000) return 0;
    this.lastPrune = performance.now();
    let deleted = 0;
    for (;;) {
      const rows: { id: string }[] = await this.db.query(
        `SELECT o.id FROM mod_mikrotikvpn_outbox o
          WHERE o.at < UTC_TIMESTAMP(3) - INTERVAL ${Number(retentionDays)} DAY
            AND NOT EXISTS (SELECT 1 FROM mod_mikrotikvpn_webhook_deliveries d
                             WHERE d.event_id = o.id AND d.status IN ('PENDING', 'IN_FLIGHT'))
          ORDER BY o.id LIMIT 1000`,
      );
      if (!rows.length) return deleted;
      const ids = rows.map((r) => BigInt(r.id)).join(',');
      await this.transaction(async (m) => {
        await m.query(`DELETE FROM mod_mikrotikvpn_webhook_deliveries WHERE event_id IN (${ids})`);
        await m.query(`DELETE FROM mod_mikrotikvpn_outbox WHERE id IN (${ids})`);
      });
      deleted += rows.length;
      if (rows.length < 1000) return deleted;
    }
  }

  private lastPrune: number | null = null;

  /** A transaction of the dispatcher's: no gap locks (see above), and run again if InnoDB still picks it as a victim. */
  private transaction<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    return retryTransaction(() => this.db.transaction('READ COMMITTED', work));
  }

  /** One pass: claims due deliveries and attempts them at once; returns how many were attempted. */
  async runOnce(): Promise<number> {
    const claimed = await this.claim();
    await Promise.all(claimed.map((d) => this.attempt(d)));
    return claimed.length;
  }

  private async claim(): Promise<Claimed[]> {
    const batch = this.options.batch ?? 50;
    const ids = await this.transaction(async (m) => {
      const rows: { id: string }[] = await m.query(
        `SELECT id FROM mod_mikrotikvpn_webhook_deliveries
          WHERE status IN ('PENDING', 'IN_FLIGHT') AND next_attempt_at <= UTC_TIMESTAMP(3)
          ORDER BY next_attempt_at LIMIT ${batch} FOR UPDATE SKIP LOCKED`,
      );
      if (!rows.length) return [];
      const list = rows.map((r) => String(r.id));
      await m.query(
        `UPDATE mod_mikrotikvpn_webhook_deliveries
            SET status = 'IN_FLIGHT', lease_owner = ?, attempts = attempts + 1,
                last_attempt_at = UTC_TIMESTAMP(3),
                next_attempt_at = UTC_TIMESTAMP(3) + INTERVAL ${this.leaseMs * 1000} MICROSECOND
          WHERE id IN (${list.map(() => '?').join(',')})`,
        [this.owner, ...list],
      );
      return list;
    });
    if (!ids.length) return [];
    return this.db.query(
      `SELECT d.id, d.attempts, d.event_id, d.endpoint_id, e.url, e.secret_encrypted, e.enabled,
              o.type, o.at, o.payload, TIMESTAMPDIFF(SECOND, o.at, UTC_TIMESTAMP(3)) AS age_seconds
         FROM mod_mikrotikvpn_webhook_deliveries d
         JOIN mod_mikrotikvpn_webhook_endpoints e ON e.id = d.endpoint_id
         JOIN mod_mikrotikvpn_outbox o ON o.id = d.event_id
        WHERE d.id IN (${ids.map(() => '?').join(',')}) AND d.lease_owner = ?`,
      [...ids, this.owner],
    );
  }

  private async attempt(d: Claimed): Promise<void> {
    const started = performance.now();
    let code: number | null = null;
    let error: string | null = null;
    if (Number(d.enabled) !== 1) {
      // Disabled since it was queued: closed, not retried (and not a failure of the receiver).
      await this.db.query(
        `UPDATE mod_mikrotikvpn_webhook_deliveries SET status = 'FAILED', last_error = 'endpoint disabled', lease_owner = NULL
          WHERE id = ? AND lease_owner = ? AND attempts = ?`,
        [d.id, this.owner, d.attempts],
      );
      return;
    }
    try {
      const checked = await this.policy.check(d.url);
      if (!checked.ok) throw new Error(`refused: ${checked.why}`);
      const body = JSON.stringify({
        id: String(d.event_id),
        type: d.type,
        timestamp: new Date(d.at).toISOString(),
        data: JSON.parse(d.payload),
      });
      const msgId = String(d.event_id);
      const now = new Date();
      const signature = new Webhook(this.secrets.decrypt(d.secret_encrypted)).sign(msgId, now, body);
      this.hooks.log?.debug(
        { deliveryId: String(d.id), eventId: msgId, endpointId: d.endpoint_id, attempt: d.attempts },
        'webhook delivery started',
      );
      code = await post(checked.url, checked.address, checked.family, body, this.options.timeoutMs, {
        'webhook-id': msgId,
        'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
        'webhook-signature': signature,
      });
      if (code < 200 || code > 299)
        error =
          code >= 300 && code < 400 ? `answered ${code} (redirects are not followed)` : `answered ${code}`;
    } catch (e) {
      error = (e as Error).message || 'failed';
    }
    await this.settle(d, code, error, Math.round(performance.now() - started));
  }

  private async settle(d: Claimed, code: number | null, error: string | null, durationMs: number) {
    const fence = 'WHERE id = ? AND lease_owner = ? AND attempts = ?';
    const fenceArgs = [d.id, this.owner, d.attempts];
    if (!error) {
      await this.db.query(
        `UPDATE mod_mikrotikvpn_webhook_deliveries
            SET status = 'DELIVERED', response_code = ?, duration_ms = ?, last_error = NULL,
                delivered_at = UTC_TIMESTAMP(3), lease_owner = NULL ${fence}`,
        [code, durationMs, ...fenceArgs],
      );
      await this.db.query(
        'UPDATE mod_mikrotikvpn_webhook_endpoints SET failing_since = NULL WHERE id = ? AND failing_since IS NOT NULL',
        [d.endpoint_id],
      );
      this.hooks.onOutcome?.('delivered');
      return;
    }
    const giveUp = Number(d.age_seconds) >= this.options.retryForSeconds;
    if (!giveUp) {
      const cap = Math.min(
        this.options.retryMaxMs,
        this.options.retryBaseMs * 2 ** Math.min(d.attempts - 1, 30),
      );
      const delayMs = Math.round(cap / 2 + Math.random() * (cap / 2)); // exponential, "equal jitter"
      await this.db.query(
        `UPDATE mod_mikrotikvpn_webhook_deliveries
            SET status = 'PENDING', response_code = ?, duration_ms = ?, last_error = ?, lease_owner = NULL,
                next_attempt_at = UTC_TIMESTAMP(3) + INTERVAL ${delayMs * 1000} MICROSECOND ${fence}`,
        [code, durationMs, error.slice(0, 500), ...fenceArgs],
      );
      this.hooks.onOutcome?.('retry');
      return;
    }
    await this.transaction(async (m) => {
      const done: { affectedRows: number } = await m.query(
        `UPDATE mod_mikrotikvpn_webhook_deliveries
            SET status = 'FAILED', response_code = ?, duration_ms = ?, last_error = ?, lease_owner = NULL ${fence}`,
        [code, durationMs, error.slice(0, 500), ...fenceArgs],
      );
      if (!done.affectedRows) return;
      const marked: { affectedRows: number } = await m.query(
        'UPDATE mod_mikrotikvpn_webhook_endpoints SET failing_since = UTC_TIMESTAMP(3) WHERE id = ? AND failing_since IS NULL',
        [d.endpoint_id],
      );
      if (marked.affectedRows)
        await this.outbox.emit(m, {
          type: 'webhook.failing',
          payload: { endpointId: Number(d.endpoint_id), message: error.slice(0, 300) },
        });
    });
    this.hooks.onOutcome?.('failed');
  }
}

/**
 * POSTs the body to the address that was checked (never a second DNS answer), following no redirect,
 * and gives up after `timeoutMs` for the whole exchange. Resolves to the status code.
 */
function post(
  url: URL,
  address: string,
  family: 4 | 6,
  body: string,
  timeoutMs: number,
  headers: Record<string, string>,
): Promise<number> {
  const lookup: LookupFunction = (_host, options, callback) => {
    if ((options as { all?: boolean }).all)
      (callback as unknown as (e: null, a: { address: string; family: number }[]) => void)(null, [
        { address, family },
      ]);
    else callback(null, address, family);
  };
  return new Promise((resolve, reject) => {
    const request = (url.protocol === 'https:' ? https : http).request(
      {
        method: 'POST',
        host: url.hostname.replace(/^\[|\]$/g, ''),
        port: url.port || (url.protocol === 'https:' ? 443 : 80),
        path: `${url.pathname}${url.search}`,
        headers: {
          ...headers,
          'content-type': 'application/json',
          'content-length': String(Buffer.byteLength(body)),
          'user-agent': 'whmcs-mikrotik-vpn-webhooks',
        },
        lookup,
        agent: false,
      },
      (response) => {
        let read = 0;
        response.on('data', (chunk: Buffer) => {
          read += chunk.length;
          if (read > MAX_RESPONSE_BYTES) response.destroy();
        });
        response.on('end', () => resolve(response.statusCode ?? 0));
        response.on('close', () => resolve(response.statusCode ?? 0));
        response.on('error', () => resolve(response.statusCode ?? 0));
      },
    );
    const timer = setTimeout(() => request.destroy(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    request.on('error', (error) => reject(new Error(`connection failed: ${error.message}`)));
    request.on('close', () => clearTimeout(timer));
    request.end(body);
  });
}
