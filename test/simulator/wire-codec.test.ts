import { expect } from 'chai';
import { SentenceDecoder, WireProtocolError, encodeLength, encodeSentence } from './wire-codec';

describe('simulator wire codec', () => {
  const cases: Array<[number, number]> = [
    [0x7f, 1],
    [0x80, 2],
    [0x3fff, 2],
    [0x4000, 3],
    [0x1fffff, 3],
    [0x200000, 4],
    [0xfffffff, 4],
    [0x10000000, 5],
  ];
  for (const [length, bytes] of cases) {
    it(`encodes a length of 0x${length.toString(16)} in ${bytes} byte(s)`, () => {
      expect(encodeLength(length)).to.have.length(bytes);
    });
  }

  it('round-trips words of every prefix size, whatever the chunking', () => {
    const words = ['!re', 'a'.repeat(0x80), 'b'.repeat(0x4000), 'c'.repeat(0x200000), '=x=\u00e9\u00ff'];
    const wire = Buffer.concat([encodeSentence(words), encodeSentence(['!done'])]);
    for (const chunkSize of [1, 7, 4096, wire.length]) {
      const decoder = new SentenceDecoder();
      const sentences: string[][] = [];
      for (let offset = 0; offset < wire.length; offset += chunkSize) {
        sentences.push(...decoder.push(wire.subarray(offset, offset + chunkSize)));
      }
      expect(sentences).to.deep.equal([words, ['!done']]);
    }
  });

  it('decodes the 5-byte form', () => {
    const decoder = new SentenceDecoder();
    const prefix = encodeLength(0x10000000);
    expect(prefix[0]).to.equal(0xf0);
    expect(prefix.readUInt32BE(1)).to.equal(0x10000000);
    // A partial word stays buffered until all its bytes arrive.
    expect(decoder.push(prefix)).to.deep.equal([]);
    expect(decoder.hasPartialSentence).to.equal(true);
  });

  it('delivers a sentence only at its terminator and skips empty sentences', () => {
    const decoder = new SentenceDecoder();
    const wire = encodeSentence(['/login']);
    expect(decoder.push(wire.subarray(0, wire.length - 1))).to.deep.equal([]);
    expect(decoder.push(Buffer.concat([wire.subarray(wire.length - 1), Buffer.from([0])]))).to.deep.equal([
      ['/login'],
    ]);
  });

  it('rejects reserved control bytes', () => {
    expect(() => new SentenceDecoder().push(Buffer.from([0xf8]))).to.throw(WireProtocolError);
  });
});
