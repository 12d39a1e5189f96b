import {
  GraphQLError,
  Kind,
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
}

/**
 * Refuses an operation that is too deep, uses too many aliases or costs too much, after validation and
 * before any resolver runs. Lists count as their page size (see `pageSizeComplexity`).
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
          const depth = depthOf(operation.selectionSet, fragments, 0, new Set());
          if (depth > limits.maxDepth)
            refuse(`Query is ${depth} levels deep; the limit is ${limits.maxDepth}`);
          const aliases = aliasesOf(operation.selectionSet, fragments, new Set());
          if (aliases > limits.maxAliases)
            refuse(`Query uses ${aliases} aliases; the limit is ${limits.maxAliases}`);
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
