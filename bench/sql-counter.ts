import net from 'node:net';

/**
 * Counts the SQL statements a client sends, on the wire: a TCP relay in front of MariaDB that reads
 * the client→server half of the MySQL protocol and counts command packets (sequence id 0) by
 * type. The shared MariaDB's own `Questions`/`Com_*` counters are global (other clients' statements
 * mix in) and performance_schema is off there, so the relay is how the bench counts exactly ours.
 * Every connection of every pool pointed at `port` is counted, lock connections included.
 */
export class SqlCounter {
  /** COM_QUERY + COM_STMT_EXECUTE: statements the server executed for us. */
  statements = 0;
  /** Statements by their first keyword (SELECT, INSERT, UPDATE, START, COMMIT, ...). */
  byKind: Record<string, number> = {};
  /** Client connections opened through the relay. */
  connections = 0;
  /** The start (400 bytes) of each text statement since the last reset, when `captureTexts` is on. */
  texts: string[] = [];
  /** Keep each statement's text in {@link texts} (tests that ask which statements ran). */
  captureTexts = false;
  private readonly sockets = new Set<net.Socket>();

  private constructor(
    private readonly server: net.Server,
    readonly port: number,
  ) {}

  static async start(target: { host: string; port: number }): Promise<SqlCounter> {
    const holder: { counter?: SqlCounter } = {};
    const server = net.createServer((client) => holder.counter!.relay(client, target));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    holder.counter = new SqlCounter(server, (server.address() as net.AddressInfo).port);
    return holder.counter;
  }

  /** Zeroes the counts (connections stay open). */
  reset(): void {
    this.statements = 0;
    this.byKind = {};
    this.connections = 0;
    this.texts = [];
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private relay(client: net.Socket, target: { host: string; port: number }): void {
    this.connections++;
    const upstream = net.connect(target.port, target.host);
    for (const s of [client, upstream]) {
      this.sockets.add(s);
      s.setNoDelay(true);
      s.on('close', () => this.sockets.delete(s));
      s.on('error', () => undefined);
    }
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
    upstream.pipe(client);
    let pending: Buffer = Buffer.alloc(0);
    client.on('data', (chunk: Buffer) => {
      upstream.write(chunk);
      pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
      let offset = 0;
      while (pending.length - offset >= 4) {
        const length = pending.readUIntLE(offset, 3);
        if (pending.length - offset < 4 + length) break;
        const sequence = pending[offset + 3];
        // Sequence 0 starts a command; 0x03 COM_QUERY, 0x17 COM_STMT_EXECUTE.
        if (sequence === 0 && length > 0) this.count(pending, offset + 4, length);
        offset += 4 + length;
      }
      pending = pending.subarray(offset);
    });
  }

  private count(packet: Buffer, start: number, length: number): void {
    const command = packet[start];
    if (command !== 0x03 && command !== 0x17) return;
    this.statements++;
    const kind =
      command === 0x17
        ? 'EXECUTE'
        : (/^\s*(\w+)/.exec(packet.toString('latin1', start + 1, start + Math.min(length, 40)))?.[1] ?? '?');
    if (this.captureTexts && command === 0x03)
      this.texts.push(packet.toString('utf8', start + 1, start + Math.min(length, 400)));
    const key = kind.toUpperCase();
    this.byKind[key] = (this.byKind[key] ?? 0) + 1;
  }
}
