/**
 * The RouterOS API wire format: length-prefixed words grouped into sentences that end with a
 * zero-length word. Words are handled as latin1 strings so every byte survives a round trip
 * unchanged (RouterOS stores raw bytes and knows no character set).
 */

/** Thrown by {@link SentenceDecoder} on bytes that cannot be RouterOS API framing. */
export class WireProtocolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WireProtocolError';
  }
}

/** Encodes a word length in the shortest of the five prefix forms. */
export function encodeLength(length: number): Buffer {
  if (length < 0x80) return Buffer.from([length]);
  if (length < 0x4000) return Buffer.from([(length >> 8) | 0x80, length & 0xff]);
  if (length < 0x200000) return Buffer.from([(length >> 16) | 0xc0, (length >> 8) & 0xff, length & 0xff]);
  if (length < 0x10000000) {
    return Buffer.from([(length >>> 24) | 0xe0, (length >> 16) & 0xff, (length >> 8) & 0xff, length & 0xff]);
  }
  const prefix = Buffer.alloc(5);
  prefix[0] = 0xf0;
  prefix.writeUInt32BE(length, 1);
  return prefix;
}

/** Encodes one word (length prefix + latin1 bytes). */
export function encodeWord(word: string): Buffer {
  const body = Buffer.from(word, 'latin1');
  return Buffer.concat([encodeLength(body.length), body]);
}

/** Encodes a sentence: its words followed by the zero-length terminator. */
export function encodeSentence(words: readonly string[]): Buffer {
  const parts: Buffer[] = [];
  for (const word of words) {
    const body = Buffer.from(word, 'latin1');
    parts.push(encodeLength(body.length), body);
  }
  parts.push(Buffer.from([0]));
  return Buffer.concat(parts);
}

/**
 * Incremental decoder: feed it TCP chunks cut anywhere (inside a prefix, a word or between
 * sentences) and it returns each complete sentence once its terminator has arrived.
 * Empty sentences are skipped, as RouterOS does.
 */
export class SentenceDecoder {
  private chunks: Buffer[] = [];
  private buffered = 0;
  /** Bytes needed before parsing can make progress; avoids re-scanning on every tiny chunk. */
  private needed = 1;
  private words: string[] = [];

  /** Adds bytes and returns the sentences they complete (possibly none). */
  push(chunk: Buffer): string[][] {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    if (this.buffered < this.needed) return [];
    const buffer = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks);
    const sentences: string[][] = [];
    let offset = 0;
    this.needed = 1;
    for (;;) {
      const header = decodeLength(buffer, offset);
      if (header === null) {
        this.needed = offset < buffer.length ? 5 : 1;
        break;
      }
      const start = offset + header.prefixBytes;
      if (buffer.length < start + header.length) {
        this.needed = start + header.length - offset;
        break;
      }
      offset = start + header.length;
      if (header.length === 0) {
        if (this.words.length > 0) sentences.push(this.words);
        this.words = [];
      } else {
        this.words.push(buffer.toString('latin1', start, offset));
      }
    }
    const rest = buffer.subarray(offset);
    this.chunks = rest.length > 0 ? [rest] : [];
    this.buffered = rest.length;
    return sentences;
  }

  /** True when bytes of an unfinished sentence are buffered. */
  get hasPartialSentence(): boolean {
    return this.buffered > 0 || this.words.length > 0;
  }
}

/** Decodes the length prefix at `offset`, or returns null when its bytes have not all arrived. */
function decodeLength(buffer: Buffer, offset: number): { length: number; prefixBytes: number } | null {
  if (offset >= buffer.length) return null;
  const first = buffer[offset];
  let prefixBytes: number;
  if (first < 0x80) prefixBytes = 1;
  else if ((first & 0xc0) === 0x80) prefixBytes = 2;
  else if ((first & 0xe0) === 0xc0) prefixBytes = 3;
  else if ((first & 0xf0) === 0xe0) prefixBytes = 4;
  else if (first === 0xf0) prefixBytes = 5;
  else throw new WireProtocolError(`reserved control byte 0x${first.toString(16)} in length prefix`);
  if (buffer.length < offset + prefixBytes) return null;
  switch (prefixBytes) {
    case 1:
      return { length: first, prefixBytes };
    case 2:
      return { length: ((first & 0x3f) << 8) | buffer[offset + 1], prefixBytes };
    case 3:
      return { length: ((first & 0x1f) << 16) | buffer.readUInt16BE(offset + 1), prefixBytes };
    case 4:
      return { length: (first & 0x0f) * 0x1000000 + buffer.readUIntBE(offset + 1, 3), prefixBytes };
    default:
      return { length: buffer.readUInt32BE(offset + 1), prefixBytes };
  }
}
