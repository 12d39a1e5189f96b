import net from 'node:net';
import tls from 'node:tls';
import { SentenceDecoder, encodeSentence } from './wire-codec';

/**
 * A bare RouterOS API client for tests that must see the wire itself (tags, several traps,
 * `!empty`, `!fatal` words) rather than what routeros-api makes of it.
 */
export class RawApiClient {
  private readonly decoder = new SentenceDecoder();
  private readonly inbox: string[][] = [];
  private waiters: Array<() => void> = [];
  private ended = false;

  private constructor(private readonly socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.inbox.push(...this.decoder.push(chunk));
      this.wake();
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      this.ended = true;
      this.wake();
    });
  }

  static connect(port: number, options: { tls?: boolean; ca?: string } = {}): Promise<RawApiClient> {
    return new Promise((resolve, reject) => {
      const socket = options.tls
        ? tls.connect({ host: '127.0.0.1', port, ca: options.ca, checkServerIdentity: () => undefined }, () =>
            resolve(new RawApiClient(socket)),
          )
        : net.connect({ host: '127.0.0.1', port }, () => resolve(new RawApiClient(socket)));
      socket.once('error', reject);
    });
  }

  /** Connects and logs in with the post-6.43 login. */
  static async login(port: number, username = 'admin', password = 'admin'): Promise<RawApiClient> {
    const client = await RawApiClient.connect(port);
    const reply = await client.command(['/login', `=name=${username}`, `=password=${password}`]);
    if (reply.at(-1)?.[0] !== '!done' || reply.some((sentence) => sentence[0] === '!trap')) {
      throw new Error(`login failed: ${JSON.stringify(reply)}`);
    }
    return client;
  }

  get closed(): boolean {
    return this.ended;
  }

  send(words: string[]): void {
    this.socket.write(encodeSentence(words));
  }

  /** The next sentence, or null when the connection closed first. */
  async next(timeoutMs = 2000): Promise<string[] | null> {
    const deadline = Date.now() + timeoutMs;
    while (this.inbox.length === 0) {
      if (this.ended) return null;
      if (Date.now() > deadline) throw new Error('no sentence within the timeout');
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.max(1, deadline - Date.now()));
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return this.inbox.shift()!;
  }

  /**
   * Sends a command and collects its sentences up to and including `!done` (or `!fatal`), each
   * within `timeoutMs` of the one before.
   */
  async command(words: string[], timeoutMs?: number): Promise<string[][]> {
    this.send(words);
    const sentences: string[][] = [];
    for (;;) {
      const sentence = await this.next(timeoutMs);
      if (sentence === null) return sentences;
      sentences.push(sentence);
      if (sentence[0] === '!done' || sentence[0] === '!fatal') return sentences;
    }
  }

  /** Resolves once the server closed the connection. */
  async waitClosed(timeoutMs = 2000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.ended) {
      if (Date.now() > deadline) throw new Error('connection still open');
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  close(): void {
    this.socket.destroy();
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const waiter of waiters) waiter();
  }
}

/** `=name=value` attributes of a sentence as an object (reply word and `.tag` left out). */
export function attributesOf(sentence: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const word of sentence.slice(1)) {
    if (!word.startsWith('=')) continue;
    const separator = word.indexOf('=', 1);
    out[word.slice(1, separator)] = word.slice(separator + 1);
  }
  return out;
}
