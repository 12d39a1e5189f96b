import {
  GraphQLError,
  Kind,
  TypeInfo,
  visit,
  visitWithTypeInfo,
  type DocumentNode,
  type FragmentDefinitionNode,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
} from 'graphql';
import type { ApolloServerPlugin } from '@apollo/server';
import { fieldExtensionsEstimator, getComplexity, simpleEstimator } from 'graphql-query-complexity';
import { ErrorCode } from '../errors/error-code';

export interface QueryLimits {
  maxDepth: number;
  maxAliases: number;
  maxComplexity: number;
  maxDirectives: number;
  maxListItems: number;
}

/**
 * Refuses an operation that is too deep, uses too many aliases or directives, passes too long a list
 * or costs too much, after validation and before any resolver runs. Lists count as their page size
 * (see `pageSizeComplexity`). The document's size is bounded earlier, by the parser's `maxTokens`.
 */
export function limitsPlugin(limits: QueryLimits): ApolloServerPlugin {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ document, operationName, request, schema }) {
          const operation = document.definitions.find(
            (d) =>
              d.kind === Kind.OPERATION_DEFINITION && (!operationName || d.name?.value === operationName),
          );
          if (!operation || operation.kind !== Kind.OPERATION_DEFINITION) return;
          // graphql-js validates a subscription against a schema without one and fails only when
          // executing it, as an unexpected error: refuse it here as the invalid request it is.
          if (!schema.getRootType(operation.operation)) {
            throw new GraphQLError(`This API has no ${operation.operation} operations`, {
              extensions: { code: ErrorCode.VALIDATION, http: { status: 400 } },
            });
          }
          // Subscriptions are streams: served over WebSocket (graphql-ws, src/http/subscriptions.ts).
          if (operation.operation === 'subscription') {
            throw new GraphQLError(
              'Subscriptions are served over WebSocket (graphql-ws) at /graphql, not over HTTP',
              { extensions: { code: ErrorCode.VALIDATION, http: { status: 400 } } },
            );
          }
          const facts = factsOf(schema, document, operation);
          if (facts.depth > limits.maxDepth)
            refuse(`Query is ${facts.depth} levels deep; the limit is ${limits.maxDepth}`);
          if (facts.aliases > limits.maxAliases)
            refuse(`Query uses ${facts.aliases} aliases; the limit is ${limits.maxAliases}`);
          if (facts.directives > limits.maxDirectives)
            refuse(`Query uses ${facts.directives} directives; the limit is ${limits.maxDirectives}`);
          const variables = request.variables ?? {};
          const items = Math.max(facts.longestList, longestListOf(variables));
          if (items > limits.maxListItems)
            refuse(`A list holds ${items} items; the limit is ${limits.maxListItems}`);
          const complexity = facts.complexity(variables);
          if (complexity > limits.maxComplexity) {
            refuse(
              `Query costs ${complexity}; the limit is ${limits.maxComplexity}. Ask for smaller pages or fewer fields`,
            );
          }
        },
      };
    },
  };
}

/**
 * What the limits need to know of one operation of a parsed document. Apollo keeps one parsed
 * document per distinct query text (its document store), so these are worked out once per text and
 * operation, not on every request. The cost still follows each request's own variables: it is
 * remembered per value of the variables that can change it (those used in a directive, or in an
 * argument of a field whose cost is computed from its arguments, such as a page size), so two
 * requests share a cost only when it would come out the same.
 */
interface OperationFacts {
  depth: number;
  aliases: number;
  directives: number;
  longestList: number;
  complexity(variables: Record<string, unknown>): number;
}

const factsByDocument = new WeakMap<DocumentNode, Map<OperationDefinitionNode, OperationFacts>>();

/** Costs remembered per operation (distinct values of its cost-changing variables); cleared when full. */
const MAX_COSTS_PER_OPERATION = 256;

function factsOf(
  schema: GraphQLSchema,
  document: DocumentNode,
  operation: OperationDefinitionNode,
): OperationFacts {
  let byOperation = factsByDocument.get(document);
  if (!byOperation) factsByDocument.set(document, (byOperation = new Map()));
  const known = byOperation.get(operation);
  if (known) return known;
  const fragments = fragmentsOf(document);
  const inputs = costInputs(schema, document);
  const costs = new Map<string, number>();
  const operationName = operation.name?.value;
  const facts: OperationFacts = {
    depth: depthOf(operation.selectionSet, fragments, 0, new Set()),
    aliases: aliasesOf(operation.selectionSet, fragments, new Set()),
    directives: directivesIn(document),
    longestList: longestListIn(document),
    complexity(variables) {
      // A missing variable (its default applies) and an explicit null are different inputs.
      const key = JSON.stringify(
        inputs.map((name) => (variables[name] === undefined ? [] : [variables[name]])),
      );
      let cost = costs.get(key);
      if (cost === undefined) {
        cost = complexityOf(schema, document, operationName, variables);
        if (costs.size >= MAX_COSTS_PER_OPERATION) costs.clear();
        costs.set(key, cost);
      }
      return cost;
    },
  };
  byOperation.set(operation, facts);
  return facts;
}

/**
 * The variables that can change a document's cost: those inside a directive's arguments (@include,
 * @skip) or inside the arguments of a field whose complexity is a function of them.
 */
function costInputs(schema: GraphQLSchema, document: DocumentNode): string[] {
  const names = new Set<string>();
  const typeInfo = new TypeInfo(schema);
  let inDirective = 0;
  let inCostArgument = 0;
  visit(
    document,
    visitWithTypeInfo(typeInfo, {
      Directive: { enter: () => void inDirective++, leave: () => void inDirective-- },
      Argument: {
        enter() {
          if (inDirective) return undefined;
          if (typeof typeInfo.getFieldDef()?.extensions?.complexity !== 'function') return false;
          inCostArgument++;
          return undefined;
        },
        leave() {
          if (!inDirective) inCostArgument--;
        },
      },
      Variable(node) {
        if (inDirective || inCostArgument) names.add(node.name.value);
      },
    }),
  );
  return [...names].sort();
}

function refuse(message: string): never {
  throw new GraphQLError(message, {
    extensions: { code: ErrorCode.QUERY_TOO_COMPLEX, http: { status: 400 } },
  });
}

function directivesIn(document: DocumentNode): number {
  let count = 0;
  visit(document, { Directive: () => void count++ });
  return count;
}

function longestListIn(document: DocumentNode): number {
  let longest = 0;
  visit(document, { ListValue: (node) => void (longest = Math.max(longest, node.values.length)) });
  return longest;
}

/** Without recursion: variables may nest as deep as the body limit allows. */
function longestListOf(variables: unknown): number {
  let longest = 0;
  const pending = [variables];
  while (pending.length) {
    const value = pending.pop();
    if (!value || typeof value !== 'object') continue;
    if (Array.isArray(value)) longest = Math.max(longest, value.length);
    for (const item of Object.values(value)) pending.push(item);
  }
  return longest;
}

function fragmentsOf(document: DocumentNode): Map<string, FragmentDefinitionNode> {
  const map = new Map<string, FragmentDefinitionNode>();
  for (const d of document.definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) map.set(d.name.value, d);
  return map;
}

function depthOf(
  set: SelectionSetNode,
  fragments: Map<string, FragmentDefinitionNode>,
  level: number,
  visiting: Set<string>,
): number {
  let max = level;
  for (const s of set.selections) {
    if (s.kind === Kind.FIELD) {
      // Introspection has its own fixed shape; its cost is bounded by the schema.
      if (s.name.value.startsWith('__')) continue;
      max = Math.max(
        max,
        s.selectionSet ? depthOf(s.selectionSet, fragments, level + 1, visiting) : level + 1,
      );
    } else if (s.kind === Kind.INLINE_FRAGMENT) {
      max = Math.max(max, depthOf(s.selectionSet, fragments, level, visiting));
    } else {
      const fragment = fragments.get(s.name.value);
      if (fragment && !visiting.has(s.name.value)) {
        visiting.add(s.name.value);
        max = Math.max(max, depthOf(fragment.selectionSet, fragments, level, visiting));
        visiting.delete(s.name.value);
      }
    }
  }
  return max;
}

function aliasesOf(
  set: SelectionSetNode,
  fragments: Map<string, FragmentDefinitionNode>,
  visiting: Set<string>,
): number {
  let count = 0;
  for (const s of set.selections) {
    if (s.kind === Kind.FIELD) {
      if (s.alias) count++;
      if (s.selectionSet) count += aliasesOf(s.selectionSet, fragments, visiting);
    } else if (s.kind === Kind.INLINE_FRAGMENT) {
      count += aliasesOf(s.selectionSet, fragments, visiting);
    } else {
      const fragment = fragments.get(s.name.value);
      if (fragment && !visiting.has(s.name.value)) {
        visiting.add(s.name.value);
        count += aliasesOf(fragment.selectionSet, fragments, visiting);
        visiting.delete(s.name.value);
      }
    }
  }
  return count;
}

function complexityOf(
  schema: GraphQLSchema,
  query: DocumentNode,
  operationName: string | undefined,
  variables: Record<string, unknown>,
): number {
  try {
    return getComplexity({
      schema,
      query,
      operationName,
      variables,
      estimators: [fieldExtensionsEstimator(), simpleEstimator({ defaultComplexity: 1 })],
    });
  } catch {
    // Variables that do not fit are reported by execution as a validation error.
    return 0;
  }
}
