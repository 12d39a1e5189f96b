import { expect } from 'chai';
import net from 'node:net';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import mysql from 'mysql2/promise';
import { createTestDatabase, type TestDatabase } from '../helpers/test-db';
import { codeOf, gql, makeKeyFile, startServer } from '../helpers/test-server';
import { createApiKey } from '../helpers/cli';
import { generateKeyLine } from '../../src/auth/secret-box';

const MAIN = path.join(__dirname, '..', '..', 'src', 'main.js');

/** A TCP port on which nothing listens. */
async function closedPort(): Promise<number> {
  const probe = net.createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  const { port } = probe.address() as net.AddressInfo;
  await new Promise((r) => probe.close(r));
  return port;
}

function startWith(env: Record<string, string>) {
  return spawnSync(process.execPath, [MAIN], {
    env: { PATH: process.env.PATH ?? '', PORT: '0', ...env },
    encoding: 'utf8',
    timeout: 20_000,
  });
}

describe('server process: health, configuration, shutdown', function () {
  it('answers /health 503 and DATABASE_UNAVAILABLE while the database is unreachable', async () => {
    const port = await closedPort();
    const server = await startServer({
      DATABASE_URL: `mysql://root@127.0.0.1:${port}/whmcs`,
      ENCRYPTION_KEY: generateKeyLine('k'),
    });
    try {
      const health = await fetch(`${server.url}/health`);
      expect(health.status).to.equal(503);
      expect(await health.json()).to.deep.include({ database: 'down' });
      const r = await gql(server.url, '{ routers { id } }', {}, 'mvpn_' + 'a'.repeat(43));
      expect(r.status).to.equal(503);
      expect(codeOf(r)).to.equal('DATABASE_UNAVAILABLE');
    } finally {
      expect(await server.stop()).to.equal(0);
    }
  });

  it('answers /health 200 when the database is up, and stops cleanly on SIGTERM', async () => {
    const tdb: TestDatabase = await createTestDatabase();
    const server = await startServer({ DATABASE_URL: tdb.url, ENCRYPTION_KEY_FILE: makeKeyFile() });
    try {
      let status = 0;
      for (let i = 0; i < 50 && status !== 200; i++) {
        status = (await fetch(`${server.url}/health`)).status;
        if (status !== 200) await new Promise((r) => setTimeout(r, 100));
      }
      expect(status).to.equal(200);
    } finally {
      expect(await server.stop('SIGTERM')).to.equal(0);
      expect(server.output.join('\n')).to.include('"msg":"stopped"');
      await tdb.drop();
    }
  });

  it('answers /health 503 and refuses /graphql while a slow migration runs; /health/live stays 200', async () => {
    const tdb: TestDatabase = await createTestDatabase();
    // The newest migration is pending again, and it cannot finish: recording it as applied waits for
    // a lock this test holds on the migrations table (reads still pass, so the server gets that far).
    await tdb.dataSource.undoLastMigration({ transaction: 'each' });
    const key = await createApiKey(tdb.url, 'ops', 'read');
    const blocker = await mysql.createConnection({ ...tdb.config, user: tdb.config.user });
    await blocker.query('LOCK TABLES mod_mikrotikvpn_migrations READ');
    const server = await startServer({ DATABASE_URL: tdb.url, ENCRYPTION_KEY_FILE: makeKeyFile() });
    const health = async () => {
      const r = await fetch(`${server.url}/health`);
      return { status: r.status, body: (await r.json()) as { status: string; database: string } };
    };
    try {
      let h = await health();
      for (let i = 0; i < 100 && h.body.database !== 'migrating'; i++) {
        await new Promise((r) => setTimeout(r, 50));
        h = await health();
      }
      expect(h).to.deep.equal({ status: 503, body: { status: 'starting', database: 'migrating' } });
      for (let i = 0; i < 5; i++) {
        await new Promise((r) => setTimeout(r, 200));
        expect((await health()).status).to.equal(503);
        const live = await fetch(`${server.url}/health/live`);
        expect(live.status).to.equal(200);
        expect(await live.json()).to.deep.equal({ status: 'alive' });
        const r = await gql(server.url, '{ routers { id } }', {}, key);
        expect(r.status).to.equal(503);
        expect(codeOf(r)).to.equal('DATABASE_UNAVAILABLE');
        expect(r.errors![0].message).to.match(/migrations are running/);
      }
      expect(server.output.join('\n')).to.not.include('"msg":"database ready"');

      await blocker.query('UNLOCK TABLES');
      for (let i = 0; i < 100 && h.status !== 200; i++) {
        await new Promise((r) => setTimeout(r, 50));
        h = await health();
      }
      expect(h).to.deep.equal({ status: 200, body: { status: 'ok', database: 'up' } });
      expect(server.output.join('\n')).to.include('"msg":"migration applied"');
      const r = await gql(server.url, '{ routers { id } }', {}, key);
      expect(r.status).to.equal(200);
      expect(r.errors).to.equal(undefined);
      expect((await fetch(`${server.url}/health/live`)).status).to.equal(200);
    } finally {
      await blocker.end().catch(() => undefined);
      await server.stop('SIGKILL');
      await tdb.drop();
    }
  });

  for (const mode of ['production', 'development'] as const) {
    it(`masks an unexpected failure as INTERNAL_SERVER_ERROR, ${mode === 'production' ? 'without' : 'with'} a stack trace in ${mode}`, async () => {
      const tdb: TestDatabase = await createTestDatabase();
      const server = await startServer({
        DATABASE_URL: tdb.url,
        ENCRYPTION_KEY_FILE: makeKeyFile(),
        NODE_ENV: mode,
      });
      try {
        const key = await createApiKey(tdb.url, 'ops', 'read');
        // A table that vanished under the server: a failure no caller can cause or fix.
        await tdb.dataSource.query('RENAME TABLE mod_mikrotikvpn_routers TO gone_routers');
        const r = await gql(server.url, '{ routers { id } }', {}, key);
        expect(codeOf(r)).to.equal('INTERNAL_SERVER_ERROR');
        expect(r.errors![0].message).to.equal('Internal server error');
        const body = JSON.stringify(r.errors);
        if (mode === 'production') {
          expect(body).to.not.include('stacktrace');
          expect(body).to.not.include('mod_mikrotikvpn_routers');
        } else {
          expect(body).to.include('stacktrace');
        }
        // ...and the log says what happened, for the admin.
        for (let i = 0; i < 40 && !server.output.join('\n').includes('mod_mikrotikvpn_routers'); i++) {
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
        expect(server.output.join('\n')).to.include('mod_mikrotikvpn_routers');
      } finally {
        // Shutdown is tested above; here the server only has to go.
        await server.stop('SIGKILL');
        await tdb.drop();
      }
    });
  }

  const broken: [string, Record<string, string>, RegExp][] = [
    ['no database', { ENCRYPTION_KEY: generateKeyLine('k') }, /DATABASE_URL/],
    [
      'a malformed DATABASE_URL',
      { DATABASE_URL: 'postgres://x/y', ENCRYPTION_KEY: generateKeyLine('k') },
      /DATABASE_URL/,
    ],
    ['no encryption key', { DATABASE_URL: 'mysql://root@127.0.0.1/x' }, /ENCRYPTION_KEY_FILE/],
    [
      'a missing key file',
      { DATABASE_URL: 'mysql://root@127.0.0.1/x', ENCRYPTION_KEY_FILE: '/nonexistent/key' },
      /ENCRYPTION_KEY_FILE/,
    ],
    [
      'a bad port',
      { DATABASE_URL: 'mysql://root@127.0.0.1/x', ENCRYPTION_KEY: generateKeyLine('k'), PORT: 'eighty' },
      /PORT/,
    ],
    [
      'a bad time zone',
      {
        DATABASE_URL: 'mysql://root@127.0.0.1/x',
        ENCRYPTION_KEY: generateKeyLine('k'),
        WHMCS_TIME_ZONE: 'Mars/Olympus',
      },
      /WHMCS_TIME_ZONE/,
    ],
  ];
  for (const [what, env, setting] of broken) {
    it(`refuses to start with ${what}: one line naming the setting, no stack trace`, () => {
      const result = startWith(env);
      expect(result.status).to.equal(1);
      const lines = result.stderr.trim().split('\n');
      expect(lines, result.stderr).to.have.length(1);
      expect(lines[0])
        .to.match(/^Configuration error: /)
        .and.match(setting);
      expect(result.stderr).to.not.match(/\n\s+at /);
    });
  }
});
