import { expect } from 'chai';
import fs from 'node:fs';
import path from 'node:path';
import { printSortedSchema } from '../../src/schema';

describe('schema/schema.graphql', () => {
  it('is what the code emits (run `npm run schema:emit` after changing the API)', async () => {
    const committed = fs.readFileSync(
      path.join(__dirname, '..', '..', '..', 'schema', 'schema.graphql'),
      'utf8',
    );
    expect(committed).to.equal(await printSortedSchema());
  });
});
