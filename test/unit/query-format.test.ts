import { expect } from 'chai';
import fc from 'fast-check';
import { format } from 'mysql2';
import { queryFormat } from '../../src/config/data-source-options';

/** The driver's statement formatting, with the scan skipped for statements without values. */
describe('statement formatting: the driver default, without scanning a statement that has no values (properties)', () => {
  const connection = { config: { stringifyObjects: false } };
  const sql = fc
    .array(
      fc.constantFrom(
        'SELECT ',
        '?',
        '??',
        "'?'",
        '"a?"',
        '`c?`',
        ' -- ?\n',
        '/* ? */',
        'x',
        ', ',
        "'it''s'",
        '\\',
      ),
    )
    .map((parts) => parts.join(''));
  const value = fc.oneof(
    fc.string(),
    fc.integer(),
    fc.bigInt(),
    fc.constant(null),
    fc.date({ noInvalidDate: true }),
  );

  it('formats exactly as the driver does, and sends a statement without values as written', () => {
    fc.assert(
      fc.property(sql, fc.array(value, { maxLength: 4 }), (text, values) => {
        expect(queryFormat.call(connection, text, values, 'Z')).to.equal(format(text, values, false, 'Z'));
        expect(queryFormat.call(connection, text, [], 'Z')).to.equal(format(text, [], false, 'Z'));
        expect(queryFormat.call(connection, text, undefined, 'Z')).to.equal(text);
      }),
      { numRuns: 3000 },
    );
  });
});
