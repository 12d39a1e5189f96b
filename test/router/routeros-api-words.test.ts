import { expect } from 'chai';
import fc from 'fast-check';
import iconv from 'iconv-lite';
import { Channel } from 'routeros-api/dist/Channel';
import { Receiver } from 'routeros-api/dist/connector/Receiver';

/**
 * patches/routeros-api+1.0.2.patch makes the client's word handling cheaper (a collection reads
 * every queue of a router through it): words are read as latin1 unless they hold one of the bytes
 * where win1252 differs, and '=key=value' attributes are cut at the second '='. Both must give
 * exactly what the library's original code gave, for any bytes a router may send.
 */
describe('routeros-api words: the patched decoding and parsing equal the original (properties)', () => {
  /** The library's original parsePacket. */
  const originalParse = (packet: string[]) => {
    const obj: Record<string, string> = {};
    for (const line of packet) {
      const linePair = line.split('=');
      linePair.shift();
      obj[linePair.shift() as string] = linePair.join('=');
    }
    return obj;
  };
  const channel = Object.create(Channel.prototype) as {
    parsePacket(packet: string[]): Record<string, string>;
  };

  it('parses attribute words as the original did, whatever their shape', () => {
    const word = fc.oneof(
      fc.tuple(fc.string(), fc.string()).map(([k, v]) => `=${k.replace(/=/g, '')}=${v}`),
      fc.string(),
      fc.constantFrom('=', '==', '=k', '=k=', '==v', 'k=v', '', '=.id=*1A', '=comment=a=b==c'),
    );
    fc.assert(
      fc.property(fc.array(word, { maxLength: 8 }), (packet) => {
        expect(channel.parsePacket(packet)).to.deep.equal(originalParse(packet));
      }),
      { numRuns: 2000 },
    );
  });

  it('decodes every byte as win1252, split across any TCP chunks', () => {
    const encodeLength = (n: number) =>
      n < 0x80 ? Buffer.from([n]) : Buffer.from([0x80 | (n >> 8), n & 0xff]);
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ minLength: 1, maxLength: 300 }), { minLength: 1, maxLength: 6 }),
        fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1, maxLength: 10 }),
        (words, cuts) => {
          const wire = Buffer.concat([
            ...words.flatMap((w) => [encodeLength(w.length), Buffer.from(w)]),
            Buffer.from([0]),
          ]);
          const sentences: string[][] = [];
          const receiver = Object.create(Receiver.prototype) as {
            processRawData(data: Buffer): void;
            processSentence(words: string[]): void;
          };
          receiver.processSentence = (got) => void sentences.push(got);
          let at = 0;
          for (let i = 0; at < wire.length; i++) {
            const size = cuts[i % cuts.length];
            receiver.processRawData(wire.subarray(at, at + size));
            at += size;
          }
          expect(sentences).to.deep.equal([words.map((w) => iconv.decode(Buffer.from(w), 'win1252'))]);
        },
      ),
      { numRuns: 500 },
    );
  });
});
