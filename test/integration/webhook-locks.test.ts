import { expect } from 'chai';
import { createTestDatabase, type TestDatabase } from '../helpers/test-db';
import { makeKeyFile } from '../helpers/test-server';
import { EventOutbox } from '../../src/services/events/outbox.service';
import { WebhookDispatcher } from '../../src/services/events/webhook-dispatcher';
import { WebhookTargetPolicy } from '../../src/services/events/ssrf';
import { SecretBox } from '../../src/auth/secret-box';
import { loadEncryptionKeys } from '../../src/config/app-config';
import { WebhookService } from '../../src/services/events/webhook.service';
import { EventService } from '../../src/services/event.service';
import { systemContext } from '../../src/context/request-context';
import type { QueryRunner } from 'typeorm';

/**
 * The webhook tables' writers against a change that is publishing events at the same moment (MariaDB,
 * InnoDB's default REPEATABLE READ). A suspend, a top-up or a termination writes its events and their
 * deliveries in its own transaction; meanwhile the dispatcher claims due deliveries and an admin may
 * delete an endpoint. Neither may make the change fail: a deadlock here rolled the change's
 * transaction back and answered WHMCS with an internal error after the router had been changed.
 */
describe('webhooks: claiming deliveries or deleting an endpoint never deadlocks a change that publishes events (MariaDB)', function () {
  this.timeout(30_000);
  let tdb: TestDatabase;
  let outbox: EventOutbox;
  let dispatcher: WebhookDispatcher;
  let secrets: SecretBox;
  const count = async (sql: string) => Number((await tdb.dataSource.query(sql))[0].n);

  before(async () => {
    tdb = await createTestDatabase();
    outbox = new EventOutbox(tdb.dataSource);
    // Endpoints the target policy refuses (loopback): every attempt fails at once and is retried.
    await tdb.dataSource.query(
      `INSERT INTO mod_mikrotikvpn_webhook_endpoints (url, event_types, enabled, description, secret_encrypted, created_at, updated_at)
       VALUES ('https://127.0.0.1/a', '', 1, '', 'k:x:y:z', UTC_TIMESTAMP(3), UTC_TIMESTAMP(3)),
              ('https://127.0.0.1/b', '', 1, '', 'k:x:y:z', UTC_TIMESTAMP(3), UTC_TIMESTAMP(3))`,
    );
    dispatcher = new WebhookDispatcher(
      tdb.dataSource,
      (secrets = new SecretBox(loadEncryptionKeys({ ENCRYPTION_KEY_FILE: makeKeyFile() }))),
      new WebhookTargetPolicy(),
      outbox,
      { timeoutMs: 1000, retryBaseMs: 60_000, retryMaxMs: 60_000, retryForSeconds: 86_400 },
    );
  });
  after(() => tdb?.drop());

  it('a pass that runs while a change is writing its events: both finish, every event is kept and claimed once', async () => {
    // Deliveries already due (committed), as on a server whose receiver is down.
    for (let i = 0; i < 5; i++) await outbox.emitNow({ type: 'account.created', payload: { serviceId: i } });

    const pass = await inChange(
      // The change publishes its first event (not committed yet) ...
      async (runner) => {
        await outbox.emit(runner.manager, { type: 'account.suspended', payload: { serviceId: 100 } });
      },
      // ... a dispatcher pass starts meanwhile and claims what is due ...
      () => dispatcher.runOnce(),
      // ... and the change publishes its second event and commits.
      async (runner) => {
        await outbox.emit(runner.manager, { type: 'account.unsuspended', payload: { serviceId: 100 } });
      },
    );
    // The pass claimed the ten deliveries of the five committed events (never the change's, not
    // committed yet).
    expect(await pass).to.equal(10);
    expect(await count('SELECT COUNT(*) AS n FROM mod_mikrotikvpn_outbox')).to.equal(7);
    expect(await count('SELECT COUNT(*) AS n FROM mod_mikrotikvpn_webhook_deliveries')).to.equal(14);
    // The change's four deliveries are still due, never attempted; the others were attempted once.
    expect(
      await count(
        "SELECT COUNT(*) AS n FROM mod_mikrotikvpn_webhook_deliveries WHERE attempts = 0 AND status = 'PENDING'",
      ),
    ).to.equal(4);
    expect(
      await count(
        "SELECT COUNT(*) AS n FROM mod_mikrotikvpn_webhook_deliveries WHERE attempts = 1 AND status = 'PENDING' AND last_error LIKE 'refused%'",
      ),
    ).to.equal(10);
    // The next pass takes the change's deliveries.
    expect(await dispatcher.runOnce()).to.equal(4);
  });

  /**
   * A change in a transaction of its own, as a lifecycle call makes: `first`, then `meanwhile` starts
   * (and gets 300 ms to reach its locks), then `second`, then the commit. Returns `meanwhile`'s promise.
   */
  async function inChange(
    first: (runner: QueryRunner) => Promise<void>,
    meanwhile: () => Promise<unknown>,
    second: (runner: QueryRunner) => Promise<void>,
  ): Promise<unknown> {
    const runner = tdb.dataSource.createQueryRunner();
    await runner.connect();
    await runner.startTransaction();
    let other: Promise<unknown> | undefined;
    try {
      await first(runner);
      other = meanwhile();
      other.catch(() => undefined); // awaited by the caller; a rejection is reported there
      await new Promise((resolve) => setTimeout(resolve, 300));
      await second(runner);
      await runner.commitTransaction();
    } catch (error) {
      await runner.rollbackTransaction().catch(() => undefined);
      await other?.catch(() => undefined);
      throw error;
    } finally {
      await runner.release();
    }
    return other;
  }

  it('an endpoint deleted while a change is writing its events: both finish, and no delivery of it is left', async () => {
    await tdb.dataSource.query('DELETE FROM mod_mikrotikvpn_webhook_deliveries');
    await tdb.dataSource.query('DELETE FROM mod_mikrotikvpn_webhook_endpoints');
    // Two endpoints that take only unsuspensions: the change's first event (a suspension) reads
    // them, and fans out to neither.
    await tdb.dataSource.query(
      `INSERT INTO mod_mikrotikvpn_webhook_endpoints (url, event_types, enabled, description, secret_encrypted, created_at, updated_at)
       VALUES ('https://127.0.0.1/kept', 'account.unsuspended', 1, '', 'k:x:y:z', UTC_TIMESTAMP(3), UTC_TIMESTAMP(3)),
              ('https://127.0.0.1/doomed', 'account.unsuspended', 1, '', 'k:x:y:z', UTC_TIMESTAMP(3), UTC_TIMESTAMP(3))`,
    );
    const [{ id: doomed }] = await tdb.dataSource.query(
      "SELECT id FROM mod_mikrotikvpn_webhook_endpoints WHERE url = 'https://127.0.0.1/doomed'",
    );
    for (let i = 0; i < 3; i++)
      await outbox.emitNow({ type: 'account.unsuspended', payload: { serviceId: i } });
    const webhooks = new WebhookService(
      tdb.dataSource,
      secrets,
      new WebhookTargetPolicy(),
      new EventService(tdb.dataSource),
    );
    const deleted = await inChange(
      async (runner) => {
        await outbox.emit(runner.manager, { type: 'account.suspended', payload: { serviceId: 200 } });
      },
      () => webhooks.delete(systemContext('test'), Number(doomed)),
      async (runner) => {
        await outbox.emit(runner.manager, { type: 'account.unsuspended', payload: { serviceId: 200 } });
      },
    );
    expect(await deleted).to.equal(true);
    // The change's two events were kept; the deleted endpoint has no delivery left, the other has all four.
    expect(await count('SELECT COUNT(*) AS n FROM mod_mikrotikvpn_outbox WHERE service_id = 200')).to.equal(
      2,
    );
    expect(
      await count(
        `SELECT COUNT(*) AS n FROM mod_mikrotikvpn_webhook_deliveries WHERE endpoint_id = ${Number(doomed)}`,
      ),
    ).to.equal(0);
    expect(
      await count(
        'SELECT COUNT(*) AS n FROM mod_mikrotikvpn_webhook_deliveries d JOIN mod_mikrotikvpn_webhook_endpoints e ON e.id = d.endpoint_id',
      ),
    ).to.equal(4);
    expect(await count('SELECT COUNT(*) AS n FROM mod_mikrotikvpn_webhook_endpoints')).to.equal(1);
  });
});
