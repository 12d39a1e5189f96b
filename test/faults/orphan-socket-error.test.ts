import type { EventEmitter } from 'node:events';
import { expect } from 'chai';
import { RouterSession } from '../../src/router';
import { startSimulatedRouter } from '../simulator/simulated-router';
import { targetFor } from '../router/router-fixtures';

/**
 * Found by the router-outage fault test: a server process died of an unhandled 'error' when a
 * connection reset was already queued on the socket while the session was being torn down.
 */
describe('faults: a socket error after a session was torn down does not kill the process', () => {
  it('an ECONNRESET reaching a destroyed connector is dropped, not thrown', async () => {
    const sim = await startSimulatedRouter({ tls: true, users: { api: 'pw' } });
    try {
      const session = await RouterSession.open(targetFor(sim, { username: 'api', password: 'pw' }), {
        connectTimeoutMs: 2000,
        socketIdleSeconds: 60,
      });
      // Reach the library's objects as the race does: connector destroyed, then the socket's queued error.
      const connector = (
        session as unknown as { api: { connector: EventEmitter & { destroy(): void; socket: EventEmitter } } }
      ).api.connector;
      const socket = connector.socket;
      connector.destroy();
      const reset = Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });
      expect(() => socket.emit('error', reset)).to.not.throw();
      await session.close();
    } finally {
      await sim.close();
    }
  });
});
