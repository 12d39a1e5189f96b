import { expect } from 'chai';
import { createTestDatabase, type TestDatabase } from '../helpers/test-db';
import { gql, makeKeyFile, startServer, waitForHealthy, type TestServer } from '../helpers/test-server';
import { createApiKey } from '../helpers/cli';
import { ConfigError, loadDatabaseConfig } from '../../src/config/app-config';

/**
 * A MariaDB on the same host can be reached over its Unix socket (DATABASE_URL `?socket=` or
 * DB_SOCKET): every connection of the server, its pool and its named locks, goes there instead of
 * TCP, and a socket named wrongly is refused at start with the setting's name.
 */
describe('the database over its Unix socket', function () {
  let tdb: TestDatabase;
  let server: TestServer | undefined;
  let socket: string;

  before(async () => {
    tdb = await createTestDatabase();
    const [row] = (await tdb.dataSource.query('SELECT @@socket AS socket')) as { socket: string }[];
    socket = row.socket;
  });
  after(async () => {
    await server?.stop();
    await tdb?.drop();
  });

  it('serves requests with every connection on the socket, none over TCP', async () => {
    const { user, password, database } = tdb.config;
    const url = `mysql://${encodeURIComponent(user)}:${encodeURIComponent(password)}@localhost/${database}?socket=${encodeURIComponent(socket)}`;
    // A port nothing listens on: a connection that went to TCP would fail.
    server = await startServer({
      DATABASE_URL: url.replace('@localhost/', '@127.0.0.1:1/'),
      ENCRYPTION_KEY_FILE: makeKeyFile(),
      COLLECT_INTERVAL_SECONDS: '0',
      RECONCILE_INTERVAL_SECONDS: '0',
    });
    await waitForHealthy(server);
    const admin = await createApiKey(tdb.url, 'ops', 'admin');
    const answer = await gql(server.url, '{ routers { id } }', {}, admin);
    expect(answer.errors).to.equal(undefined);
    expect(answer.data!.routers).to.deep.equal([]);
    // MariaDB names a socket client's host "localhost", a TCP client's "127.0.0.1:<port>".
    const clients = (await tdb.dataSource.query(
      'SELECT HOST AS host FROM information_schema.PROCESSLIST WHERE DB = ? AND ID <> CONNECTION_ID()',
      [database],
    )) as { host: string }[];
    const ours = clients.filter((c) => c.host === 'localhost');
    expect(ours.length, JSON.stringify(clients)).to.be.greaterThan(0);
    const ready = server.output.find((line) => line.includes('"database ready"'));
    expect(ready, 'the ready line names the socket').to.include(socket);
  });

  it('refuses a relative socket path and an unknown URL parameter, naming the setting', () => {
    const refused = (env: Record<string, string>) => {
      try {
        loadDatabaseConfig(env);
      } catch (error) {
        expect(error).to.be.instanceOf(ConfigError);
        return (error as Error).message;
      }
      throw new Error('accepted');
    };
    expect(refused({ DATABASE_URL: 'mysql://root@localhost/whmcs?socket=mysqld.sock' })).to.match(
      /DATABASE_URL.*relative path/,
    );
    expect(refused({ DATABASE_URL: 'mysql://root@localhost/whmcs?sslmode=off' })).to.match(
      /DATABASE_URL.*unknown parameter "sslmode"/,
    );
    expect(refused({ DB_NAME: 'whmcs', DB_SOCKET: 'run/mysqld.sock' })).to.match(/DB_SOCKET.*relative path/);
    expect(
      loadDatabaseConfig({ DB_NAME: 'whmcs', DB_SOCKET: '/run/mysqld/mysqld.sock' }).socketPath,
    ).to.equal('/run/mysqld/mysqld.sock');
    expect(loadDatabaseConfig({ DATABASE_URL: 'mysql://root@127.0.0.1/whmcs' }).socketPath).to.equal(
      undefined,
    );
  });
});
