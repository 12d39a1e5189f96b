import { expect } from 'chai';
import { createTestDatabase, type TestDatabase } from '../helpers/test-db';
import { VpnAccountEntity, VpnAccountStatus } from '../../src/entities/own/vpn-account.entity';
import { VpnAccountService } from '../../src/services/vpn-account.service';
import { RouterEntity } from '../../src/entities/own/router.entity';
import { ApiKeyEntity } from '../../src/entities/own/api-key.entity';
import { ApiKeyService } from '../../src/services/api-key.service';
import { RouterService } from '../../src/services/router.service';

/**
 * The hot read of an account (every customer request starts with it) goes around TypeORM's query
 * builder: it must return exactly what `findOne` returns — every column, converted the same way
 * (dates, bigints kept as strings, booleans, nulls) — and pick the same account of a service.
 */
describe('account reads without the query builder: the same entity as findOne (MariaDB)', function () {
  let tdb: TestDatabase;

  before(async () => {
    tdb = await createTestDatabase();
    const q = (sql: string, params: unknown[] = []) => tdb.dataSource.query(sql, params);
    const router = await q(
      "INSERT INTO mod_mikrotikvpn_routers (server_id, name, host, port, tls, username, password_encrypted) VALUES (1, 'r', 'h', 8729, 1, 'u', 'x')",
    );
    // Service 601: a terminated account and, newer, a live one; 602: two terminated ones; 603: live
    // with every optional column set.
    let host = 1;
    const insert = (serviceId: number, username: string, status: string) =>
      q(
        `INSERT INTO mod_mikrotikvpn_accounts (service_id, client_id, product_id, router_id, username, address, status, billing_cycle)
         VALUES (?, 7, 1, ?, ?, ?, ?, 'Monthly')`,
        [serviceId, router.insertId, username, `10.0.0.${++host}`, status],
      );
    await insert(601, 'old601', 'TERMINATED');
    await insert(601, 'live601', 'LIMITED');
    await insert(602, 'first602', 'TERMINATED');
    await insert(602, 'second602', 'TERMINATED');
    const full = await insert(603, 'full603', 'ACTIVE');
    await q(
      `UPDATE mod_mikrotikvpn_accounts SET balance_bytes = 9007199254740993, cycle_used_bytes = 12345678901234567,
         status_reason = 'why', suspended = 1, last_counters_at = '2026-03-29 01:30:00.250' WHERE id = ?`,
      [full.insertId],
    );
  });
  after(() => tdb?.drop());

  it('findByServiceId returns the entity findOne returns: live before terminated, then the newest', async () => {
    const service = new VpnAccountService(tdb.dataSource);
    const repo = tdb.dataSource.getRepository(VpnAccountEntity);
    for (const serviceId of [601, 602, 603, 604]) {
      const expected = await repo.findOne({ where: { serviceId }, order: { status: 'ASC', id: 'DESC' } });
      const actual = await service.findByServiceId(serviceId);
      expect(actual, `service ${serviceId}`).to.deep.equal(expected);
      if (actual) expect(actual).to.be.instanceOf(VpnAccountEntity);
    }
    expect((await service.findByServiceId(601))!.username).to.equal('live601');
    expect((await service.findByServiceId(602))!.username).to.equal('second602');
    const full = (await service.findByServiceId(603))!;
    expect(String(full.balanceBytes)).to.equal('9007199254740993');
    expect(full.lastCountersAt).to.be.instanceOf(Date);
    expect(full.suspended).to.equal(true);
  });

  it('a page of accounts, with each filter, is the page the query builder read', async () => {
    const service = new VpnAccountService(tdb.dataSource);
    const repo = tdb.dataSource.getRepository(VpnAccountEntity);
    const all = await repo.find({ order: { id: 'ASC' } });
    const page = await service.page(2, null);
    expect(page.nodes).to.deep.equal(all.slice(0, 2));
    expect(page.pageInfo.hasNextPage).to.equal(true);
    const next = await service.page(10, page.pageInfo.endCursor);
    expect(next.nodes).to.deep.equal(all.slice(2));
    const terminated = await service.page(10, null, { status: [VpnAccountStatus.TERMINATED] });
    expect(terminated.nodes).to.deep.equal(all.filter((a) => a.status === VpnAccountStatus.TERMINATED));
    expect((await service.page(10, null, { clientId: 8 })).nodes).to.deep.equal([]);
    expect(
      (await service.page(10, null, { productId: 1, routerId: String(all[0].routerId) })).nodes,
    ).to.deep.equal(all);
  });

  it('a router and an API key read without the query builder equal what TypeORM reads', async () => {
    const [router] = await tdb.dataSource.getRepository(RouterEntity).find();
    const routers = new RouterService(tdb.dataSource, undefined as never, undefined as never);
    expect((await routers.findByIds([router.id, 999])).get(router.id)).to.deep.equal(router);
    const keys = new ApiKeyService(tdb.dataSource);
    const { key } = await keys.create('reader', 'read');
    const found = await keys.authenticate(key);
    const expected = await tdb.dataSource.getRepository(ApiKeyEntity).findOneBy({ name: 'reader' });
    expect(found).to.be.instanceOf(ApiKeyEntity);
    expect({ ...found, lastUsedAt: null }).to.deep.equal({ ...expected, lastUsedAt: null });
    await keys.revoke('reader');
    expect(await keys.authenticate(key)).to.equal(null);
  });
});
