import fs from 'node:fs';
import { expect } from 'chai';
import mysql from 'mysql2/promise';
import { startPrivateMariaDb } from '../../src/demo/private-mariadb';

describe('private MariaDB (for the demo and the database-restart faults)', function () {
  this.timeout(120_000);

  it('starts on a free port with root over TCP, keeps committed data across a crash, and cleans up', async () => {
    const lines: string[] = [];
    const db = await startPrivateMariaDb({ onLog: (l) => lines.push(l) });
    try {
      expect(db.host).to.equal('127.0.0.1');
      expect(db.url).to.equal(`mysql://root@127.0.0.1:${db.port}/`);
      const connect = () =>
        mysql.createConnection({ host: db.host, port: db.port, user: db.user, password: db.password });
      let c = await connect();
      // Grant tables are on: a user without privileges is refused (the demo relies on real accounts).
      await c.query(`CREATE USER 'limited'@'127.0.0.1' IDENTIFIED BY 'pw'`);
      await c.query('CREATE DATABASE t');
      await c.query('CREATE TABLE t.kept (id INT PRIMARY KEY) ENGINE=InnoDB');
      await c.query('INSERT INTO t.kept VALUES (1), (2)');
      await c.end();
      const limited = await mysql.createConnection({
        host: db.host,
        port: db.port,
        user: 'limited',
        password: 'pw',
      });
      const denied = await limited.query('SELECT * FROM t.kept').then(
        () => null,
        (e: { code?: string }) => e.code,
      );
      await limited.end();
      expect(denied).to.equal('ER_TABLEACCESS_DENIED_ERROR');

      await db.restart({ signal: 'SIGKILL' });
      c = await connect();
      const [rows] = await c.query('SELECT COUNT(*) AS n FROM t.kept');
      await c.end();
      expect(Number((rows as { n: number }[])[0].n)).to.equal(2);
      expect(lines.some((l) => l.includes('ready for connections'))).to.equal(true);
    } finally {
      await db.stop();
    }
    expect(fs.existsSync(db.dataDir)).to.equal(false);
    const refused = await mysql
      .createConnection({ host: db.host, port: db.port, user: 'root', connectTimeout: 2000 })
      .then(
        async (c) => (await c.end(), null),
        (e: { code?: string }) => e.code,
      );
    expect(refused).to.equal('ECONNREFUSED');
  });
});
