import { expect } from 'chai';
import { LiveSessionCache, withLiveCache } from '../../src/router/live-cache';
import type { ActiveSession, RouterGateway } from '../../src/router/router-gateway';
import type { RouterTarget } from '../../src/router/router-target';

const target = (id: string) => ({ id, host: '127.0.0.1', port: 8729, tls: true }) as RouterTarget;
const session = (name: string) => ({ name }) as ActiveSession;

describe('live-session cache for client-token reads', () => {
  let clock: number;
  let cache: LiveSessionCache;
  let reads: string[];
  const read =
    (id: string, rows: ActiveSession[] = [session(`u${id}`)]) =>
    () => {
      reads.push(id);
      return Promise.resolve(rows);
    };

  beforeEach(() => {
    clock = 0;
    reads = [];
    cache = new LiveSessionCache(5_000, () => clock);
  });

  it('answers from one read for the TTL, counted from when the read finished, then reads again', async () => {
    expect(await cache.activeSessions(target('1'), read('1'))).to.deep.equal([session('u1')]);
    clock = 4_999;
    await cache.activeSessions(target('1'), read('1'));
    expect(reads).to.deep.equal(['1']);
    clock = 5_000;
    await cache.activeSessions(target('1'), read('1'));
    expect(reads).to.deep.equal(['1', '1']);
  });

  it('keeps each router apart', async () => {
    await cache.activeSessions(target('1'), read('1'));
    expect(await cache.activeSessions(target('2'), read('2'))).to.deep.equal([session('u2')]);
    expect(reads).to.deep.equal(['1', '2']);
    expect(cache.size).to.equal(2);
  });

  it('lets requests that arrive during a read share it, however long it takes', async () => {
    let finish!: (rows: ActiveSession[]) => void;
    let started = 0;
    const slow = () => {
      started++;
      return new Promise<ActiveSession[]>((resolve) => (finish = resolve));
    };
    const waiting = Array.from({ length: 20 }, () => cache.activeSessions(target('1'), slow));
    clock = 60_000; // the read takes a minute: still one read
    waiting.push(cache.activeSessions(target('1'), slow));
    finish([session('a')]);
    const answers = await Promise.all(waiting);
    expect(started).to.equal(1);
    expect(answers.every((a) => a.length === 1 && a[0].name === 'a')).to.equal(true);
    clock = 64_000;
    await cache.activeSessions(target('1'), slow);
    expect(started).to.equal(1);
  });

  it('keeps no failure: the next request reads again', async () => {
    const failing = () => Promise.reject(new Error('ROUTER_TIMEOUT'));
    const error = await cache.activeSessions(target('1'), failing).catch((e: Error) => e);
    expect((error as Error).message).to.equal('ROUTER_TIMEOUT');
    expect(cache.size).to.equal(0);
    expect(await cache.activeSessions(target('1'), read('1'))).to.deep.equal([session('u1')]);
  });

  it("withLiveCache caches listActiveSessions only; every other gateway method is the gateway's own", async () => {
    let prints = 0;
    let identities = 0;
    const gateway = {
      prefix: 'gw',
      listActiveSessions() {
        prints++;
        return Promise.resolve([session('x')]);
      },
      identity(this: { prefix: string }) {
        identities++;
        return Promise.resolve(`${this.prefix}-identity`);
      },
    } as unknown as RouterGateway;
    const cached = withLiveCache(gateway, cache);
    await cached.listActiveSessions(target('1'));
    await cached.listActiveSessions(target('1'));
    expect(await cached.identity(target('1'))).to.equal('gw-identity');
    await cached.identity(target('1'));
    expect({ prints, identities }).to.deep.equal({ prints: 1, identities: 2 });
    // The gateway itself is untouched.
    await gateway.listActiveSessions(target('1'));
    expect(prints).to.equal(2);
  });
});
