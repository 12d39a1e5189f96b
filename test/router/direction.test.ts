import { expect } from 'chai';
import {
  RouterGateway,
  RouterSessionPool,
  customerToQueuePair,
  customerToRxTx,
  queuePairToCustomer,
  rxTxToCustomer,
} from '../../src/router';
import { type SimulatedRouter, startSimulatedRouter } from '../simulator/simulated-router';
import { targetFor } from './router-fixtures';

describe('router direction (customer perspective)', () => {
  it('reads a queue pair as upload/download: the first number is the customer upload', () => {
    expect(queuePairToCustomer('38105527/466624487')).to.deep.equal({
      upload: 38105527n,
      download: 466624487n,
    });
  });

  it('writes max-limit as upload/download', () => {
    expect(customerToQueuePair({ download: 10_000_000, upload: 2_000_000 })).to.equal('2000000/10000000');
  });

  it('maps router rx to customer upload and tx to customer download', () => {
    expect(rxTxToCustomer({ rx: 7n, tx: 900n })).to.deep.equal({ upload: 7n, download: 900n });
    expect(customerToRxTx({ download: 8_000_000, upload: 2_000_000 })).to.equal('2000000/8000000');
  });

  it('keeps counters beyond 2^53 exact', () => {
    expect(queuePairToCustomer('9007199254740993/18446744073709551615').download).to.equal(
      18446744073709551615n,
    );
  });

  it('rejects anything that is not a pair', () => {
    expect(() => queuePairToCustomer('12')).to.throw();
  });

  describe('end to end through the simulator', () => {
    let sim: SimulatedRouter;
    let pool: RouterSessionPool;
    let gateway: RouterGateway;

    before(async () => {
      sim = await startSimulatedRouter({ accounts: 1 });
      pool = new RouterSessionPool();
      gateway = new RouterGateway(pool);
    });
    after(async () => {
      await pool.closeAll();
      await sim.close();
    });

    it('reports traffic to the customer as download and traffic from them as upload', async () => {
      sim.pushTraffic('10.64.0.1', 5000, 1000);
      const [counters] = await gateway.readQueueCounters(targetFor(sim));
      expect(counters).to.include({ downloadBytes: 5000n, uploadBytes: 1000n });
    });

    it('puts the download speed in the download half of max-limit', async () => {
      const target = targetFor(sim);
      await gateway.addSimpleQueue(target, {
        name: 'dir',
        address: '10.1.2.3',
        maxLimit: { downloadBps: 10_000_000, uploadBps: 2_000_000 },
      });
      expect(sim.state.findQueue('dir')!.maxLimit).to.deep.equal([2_000_000n, 10_000_000n]);
      const queue = (await gateway.listSimpleQueues(target)).find((row) => row.name === 'dir')!;
      expect(queue.maxLimit).to.deep.equal({ downloadBps: 10_000_000n, uploadBps: 2_000_000n });
    });
  });
});
