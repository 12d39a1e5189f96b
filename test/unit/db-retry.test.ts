import { expect } from 'chai';
import { retryTransaction } from '../../src/db/retry';

/** The driver's error shapes (TypeORM wraps mysql2's error as driverError). */
const driverError = (code: string) =>
  Object.assign(new Error(code), { driverError: Object.assign(new Error(code), { code }) });

describe('retryTransaction: which rolled-back transactions run again', () => {
  const run = async (codes: string[], options?: Parameters<typeof retryTransaction>[1]) => {
    let calls = 0;
    const outcome = await retryTransaction(async () => {
      const code = codes[calls++];
      if (code) throw driverError(code);
      return 'done';
    }, options).catch((e: Error) => e.message);
    return { outcome, calls };
  };

  it('runs a deadlock victim again, up to 4 attempts in all', async () => {
    expect(await run(['ER_LOCK_DEADLOCK', 'ER_LOCK_DEADLOCK'])).to.deep.equal({ outcome: 'done', calls: 3 });
    expect(await run(Array(5).fill('ER_LOCK_DEADLOCK'))).to.deep.equal({
      outcome: 'ER_LOCK_DEADLOCK',
      calls: 4,
    });
  });

  it('waits out a lock wait timeout again only when asked to (not where WHMCS is waiting)', async () => {
    expect(await run(['ER_LOCK_WAIT_TIMEOUT'])).to.deep.equal({ outcome: 'done', calls: 2 });
    expect(await run(['ER_LOCK_WAIT_TIMEOUT'], { lockWaitTimeouts: false })).to.deep.equal({
      outcome: 'ER_LOCK_WAIT_TIMEOUT',
      calls: 1,
    });
    expect(await run(['ER_LOCK_DEADLOCK'], { lockWaitTimeouts: false })).to.deep.equal({
      outcome: 'done',
      calls: 2,
    });
  });

  it('never runs other failures again (a duplicate key, a lost connection)', async () => {
    expect(await run(['ER_DUP_ENTRY'])).to.deep.equal({ outcome: 'ER_DUP_ENTRY', calls: 1 });
    expect(await run(['PROTOCOL_CONNECTION_LOST'])).to.deep.equal({
      outcome: 'PROTOCOL_CONNECTION_LOST',
      calls: 1,
    });
  });
});
