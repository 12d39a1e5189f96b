import { lexicographicSortSchema, printSchema, type GraphQLSchema } from 'graphql';
import { buildSchema } from 'type-graphql';
import { resolvers } from './resolvers';
import { authChecker } from './auth/auth-checker';
import { scalarsMap } from './graphql/scalars';

/** Builds the executable schema (shared by the server, the tests and `schema:emit`). */
export function createSchema(): Promise<GraphQLSchema> {
  return buildSchema({
    resolvers: [...resolvers],
    authChecker,
    authMode: 'error',
    validate: { forbidUnknownValues: false },
    scalarsMap,
    emitSchemaFile: false,
  });
}

/** The schema as committed in schema/schema.graphql. */
export async function printSortedSchema(): Promise<string> {
  const header =
    '# Generated from the code by `npm run schema:emit`. Do not edit: change the code and re-emit.\n\n';
  return header + printSchema(lexicographicSortSchema(await createSchema())) + '\n';
}
