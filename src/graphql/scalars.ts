import { GraphQLError, GraphQLScalarType, Kind, print, type ValueNode } from 'graphql';
import { GraphQLBigInt, GraphQLDateTime } from 'graphql-scalars';

/**
 * Exact byte counts (BIGINT in the database) travel as graphql-scalars' BigInt. It prints a
 * plain-text console warning (about BigInt JSON serialisation) on the first input value and on the
 * first output beyond 2^53, which broke our one-JSON-line-per-event logs; so those cases are handled
 * here, with the library's results: input is a number when it is a safe integer, a bigint beyond;
 * output beyond 2^53 is the decimal string.
 */
const SAFE_MIN = BigInt(Number.MIN_SAFE_INTEGER);
const SAFE_MAX = BigInt(Number.MAX_SAFE_INTEGER);
const library = GraphQLBigInt.toConfig();

function parseBytes(text: string, node?: ValueNode): number | bigint {
  let value: bigint | null = null;
  try {
    value = BigInt(text);
  } catch {
    // not an integer: refused below
  }
  if (value === null || value.toString() !== text) {
    throw new GraphQLError(`BigInt cannot represent value: ${node ? print(node) : text}`, {
      nodes: node ? [node] : undefined,
    });
  }
  return value >= SAFE_MIN && value <= SAFE_MAX ? Number(value) : value;
}

/** The decimal text of an integer beyond the safe range (TypeORM gives BIGINT as a string), else null. */
function beyondSafe(value: unknown): string | null {
  if (typeof value !== 'bigint' && typeof value !== 'string') return null;
  try {
    const big = BigInt(value);
    if (typeof value === 'string' && big.toString() !== value) return null;
    return big < SAFE_MIN || big > SAFE_MAX ? big.toString() : null;
  } catch {
    return null;
  }
}

export const Bytes = new GraphQLScalarType({
  ...library,
  serialize: (value) => beyondSafe(value) ?? library.serialize(value),
  parseValue: (value) => parseBytes(String(value)),
  parseLiteral: (node) => {
    if (node.kind !== Kind.INT && node.kind !== Kind.STRING) {
      throw new GraphQLError(`BigInt cannot represent non-integer value: ${print(node)}`, { nodes: [node] });
    }
    return parseBytes(node.value, node);
  },
});
export const scalarsMap = [{ type: Date, scalar: GraphQLDateTime }];
