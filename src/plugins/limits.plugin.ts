import {
  GraphQLError,
  Kind,
  visit,
  type DocumentNode,
  type FragmentDefinitionNode,
  type GraphQLSchema,
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
          const fragments = fragmentsOf(document);
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
          const depth = depthOf(operation.selectionSet, fragments, 0, new Set());
          if (depth > limits.maxDepth)
            refuse(`Query is ${depth} levels deep; the limit is ${limits.maxDepth}`);
          const aliases = aliasesOf(operation.selectionSet, fragments, new Set());
          if (aliases > limits.maxAliases)
            refuse(`Query uses ${aliases} aliases; the limit is ${limits.maxAliases}`);
          const directives = directivesIn(document);
          if (directives > limits.maxDirectives)
            refuse(`Query uses ${directives} directives; the limit is ${limits.maxDirectives}`);
          const items = Math.max(longestListIn(document), longestListOf(request.variables ?? {}));
          if (items > limits.maxListItems)
            refuse(`A list holds ${items} items; the limit is ${limits.maxListItems}`);
          const complexity = complexityOf(
            schema,
            document,
            operationName ?? undefined,
            request.variables ?? {},
          );
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
