import { expect } from 'chai';
import fs from 'node:fs';
import path from 'node:path';
import { Kind, parse, validate } from 'graphql';
import { createSchema, printPhpErrorCodes, printSortedSchema } from '../../src/schema';
import { ErrorCode } from '../../src/errors/error-code';

describe('schema/schema.graphql', () => {
  it('is what the code emits (run `npm run schema:emit` after changing the API)', async () => {
    const committed = fs.readFileSync(
      path.join(__dirname, '..', '..', '..', 'schema', 'schema.graphql'),
      'utf8',
    );
    expect(committed).to.equal(await printSortedSchema());
  });
});

const ROOT = path.join(__dirname, '..', '..', '..');
const MODULE = path.join(ROOT, 'php-bridge', 'modules', 'servers', 'mikrotikvpn');

function filesUnder(dir: string, ext: RegExp): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .flatMap((e) =>
      e.isDirectory()
        ? filesUnder(path.join(dir, e.name), ext)
        : ext.test(e.name)
          ? [path.join(dir, e.name)]
          : [],
    );
}

describe('error codes: one list for the server, the WHMCS module and the usage page', () => {
  it("the module's lib/ErrorCode.php is the code's list (run `npm run schema:emit`)", () => {
    expect(fs.readFileSync(path.join(MODULE, 'lib', 'ErrorCode.php'), 'utf8')).to.equal(printPhpErrorCodes());
  });

  it('PHP branches on ErrorCode constants only, and every constant it names is in the schema enum', () => {
    const known = new Set<string>(Object.values(ErrorCode));
    const problems: string[] = [];
    for (const file of filesUnder(MODULE, /\.php$/)) {
      if (file.includes(`${path.sep}lang${path.sep}`)) continue;
      const text = fs.readFileSync(file, 'utf8');
      // A code typed as a string where the module compares or raises one.
      for (const m of text.matchAll(
        /getErrorCode\(\)\s*[!=]==?\s*'([A-Z_]+)'|'([A-Z_]+)'\s*[!=]==?\s*\$\w+->getErrorCode\(\)/g,
      ))
        problems.push(
          `${path.relative(ROOT, file)}: the string '${m[1] ?? m[2]}' instead of an ErrorCode constant`,
        );
      for (const m of text.matchAll(/ErrorCode::([A-Z_]+)/g))
        if (!known.has(m[1]))
          problems.push(`${path.relative(ROOT, file)}: ErrorCode::${m[1]} is not in the schema`);
    }
    expect(problems).to.deep.equal([]);
  });

  it('the usage page compares codes from the same list', () => {
    const known = new Set<string>(Object.values(ErrorCode));
    const problems: string[] = [];
    for (const file of filesUnder(path.join(ROOT, 'client'), /\.ts$/)) {
      const text = fs.readFileSync(file, 'utf8');
      for (const m of text.matchAll(/code\s*[!=]==?\s*'([A-Z_]+)'/g))
        problems.push(`${path.relative(ROOT, file)}: the string '${m[1]}' instead of ErrorCode.${m[1]}`);
      for (const m of text.matchAll(/ErrorCode\.([A-Z_]+)/g))
        if (!known.has(m[1]))
          problems.push(`${path.relative(ROOT, file)}: ErrorCode.${m[1]} is not in the schema`);
    }
    expect(problems).to.deep.equal([]);
  });
});

describe("the usage page's operations (lib/usage-operations.json, the proxy's allow-list)", () => {
  it('are valid against the schema, each a single operation named as its key', async () => {
    const operations = JSON.parse(
      fs.readFileSync(path.join(MODULE, 'lib', 'usage-operations.json'), 'utf8'),
    ) as Record<string, string>;
    const schema = await createSchema();
    expect(Object.keys(operations).sort()).to.deep.equal([
      'MvpnUsageAccount',
      'MvpnUsageDays',
      'MvpnUsageTopUps',
    ]);
    for (const [name, document] of Object.entries(operations)) {
      const parsed = parse(document);
      expect(validate(schema, parsed), name).to.deep.equal([]);
      const definitions = parsed.definitions.filter((d) => d.kind === Kind.OPERATION_DEFINITION);
      expect(
        definitions.map((d) => d.name?.value),
        name,
      ).to.deep.equal([name]);
      expect(
        definitions.map((d) => d.operation),
        name,
      ).to.deep.equal(['query']);
    }
  });
});
