import { expect } from 'chai';
import { createTestDatabase, type TestDatabase } from '../helpers/test-db';
import { EventOutbox } from '../../src/services/events/outbox.service';
import { TrafficLedger } from '../../src/services/traffic/traffic-ledger.service';
import { TopUpKind, TopUpReason } from '../../src/entities/own/traffic-topup.entity';

/** The outbox on MariaDB: an event and its deliveries commit or roll back with the change itself. */
describe('event outbox: written in the transaction of the change (MariaDB)', function () {
  let tdb: TestDatabase;
  let outbox: EventOutbox;
  let accountId: number;
  const count = async (table: string) =>
    Number((await tdb.dataSource.query(`SELECT COUNT(*) AS n FROM ${table}`))[0].n);

  before(async () => {
    tdb = await createTestDatabase();
    outbox = new EventOutbox(tdb.dataSource);
    const q = (sql: string, params: unknown[] = []) => tdb.dataSource.query(sql, params);
    const router = await q(
      "INSERT INTO mod_mikrotikvpn_routers (server_id, name, host, port, tls, username, password_encrypted) VALUES (1, 'r', 'h', 8729, 1, 'u', 'x')",
    );
    const account = await q(
      `INSERT INTO mod_mikrotikvpn_accounts (service_id, client_id, product_id, router_id, username, address, status, billing_cycle)
       VALUES (501, 7, 1, ?, 'ob1', '10.0.0.2', 'ACTIVE', 'Monthly')`,
      [router.insertId],
    );
    accountId = account.insertId;
    await q(
      `INSERT INTO mod_mikrotikvpn_webhook_endpoints (url, event_types, enabled, description, secret_encrypted, created_at, updated_at)
       VALUES ('https://203.0.113.1/a', '', 1, '', 'k:x:y:z', UTC_TIMESTAMP(3), UTC_TIMESTAMP(3)),
              ('https://203.0.113.1/b', 'account.created', 1, '', 'k:x:y:z', UTC_TIMESTAMP(3), UTC_TIMESTAMP(3)),
              ('https://203.0.113.1/c', '', 0, '', 'k:x:y:z', UTC_TIMESTAMP(3), UTC_TIMESTAMP(3))`,
    );
  });
  after(() => tdb?.drop());

  it('a credit rolled back leaves no event and no delivery; a committed one leaves one event, fanned out by filter', async () => {
    const ledger = new TrafficLedger(outbox);
    const credit = (key: string) => ({
      accountId,
      kind: TopUpKind.ADDON,
      reason: TopUpReason.ADDON,
      bytes: 5n,
      idempotencyKey: key,
      actor: 'test',
    });
    await tdb.dataSource
      .transaction(async (m) => {
        await ledger.credit(m, credit('rolled-back'));
        throw new Error('the change failed after its credit');
      })
      .catch(() => undefined);
    expect(await count('mod_mikrotikvpn_outbox')).to.equal(0);
    expect(await count('mod_mikrotikvpn_webhook_deliveries')).to.equal(0);

    await tdb.dataSource.transaction((m) => ledger.credit(m, credit('kept')));
    await tdb.dataSource.transaction((m) => ledger.credit(m, credit('kept'))); // same key: no credit, no event
    const events = await tdb.dataSource.query('SELECT type, service_id, payload FROM mod_mikrotikvpn_outbox');
    expect(events).to.have.length(1);
    expect(events[0].type).to.equal('traffic.credited');
    expect(JSON.parse(events[0].payload)).to.include({ serviceId: 501, bytes: '5', kind: 'ADDON' });
    // Only the enabled endpoint whose filter takes the type (empty = all): not /b, not the disabled /c.
    const deliveries = await tdb.dataSource.query(
      'SELECT e.url FROM mod_mikrotikvpn_webhook_deliveries d JOIN mod_mikrotikvpn_webhook_endpoints e ON e.id = d.endpoint_id',
    );
    expect(deliveries.map((d: { url: string }) => d.url)).to.deep.equal(['https://203.0.113.1/a']);
  });

  it('a dedupe key publishes once', async () => {
    const event = {
      type: 'traffic.threshold_reached' as const,
      dedupeKey: 'threshold:1:cycle-0',
      payload: {},
    };
    expect(await outbox.emitNow(event)).to.match(/^\d+$/);
    expect(await outbox.emitNow(event)).to.equal(null);
  });
});
